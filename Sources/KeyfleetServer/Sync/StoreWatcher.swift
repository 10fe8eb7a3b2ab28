public import KeyfleetStore
public import Logging
public import ServiceLifecycle

/// Wakes waiting agent syncs for changes this server did not make (another server process on the same
/// database): one task reads the store's version every ``interval`` and signals when it moved without a
/// signal from this server in between. Waiters therefore need no timers of their own, and 1,000 idle agents
/// cost one query per interval.
public struct StoreWatcher: Service {
    let store: any Store
    let changes: ChangeSignal
    let interval: Duration
    let logger: Logger

    /// A watcher of `store` that signals `changes`.
    public init(store: any Store, changes: ChangeSignal, interval: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.changes = changes
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var lastVersion = try? await store.version()
        var lastGeneration = changes.generation
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            guard let version = try? await store.version() else {
                logger.debug("the store did not answer the version check")
                continue
            }
            let generation = changes.generation
            // A change this server signalled already woke every waiter, and each woken one reads the current
            // version, so only an unannounced move needs a signal.
            if version != lastVersion && generation == lastGeneration { changes.changed() }
            lastVersion = version
            lastGeneration = changes.generation
        }
    }
}
