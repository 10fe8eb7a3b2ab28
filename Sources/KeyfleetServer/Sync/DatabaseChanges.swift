public import KeyfleetStore
public import Logging
public import ServiceLifecycle

/// Hears the changes other servers on the same PostgreSQL database commit (``SQLStore/listenForChanges(_:logger:)``)
/// and acts on them as on its own: a change to access wakes the agents waiting here, a change to credentials
/// forgets the callers this server remembers, so a token revoked through one server is refused by every
/// other at once. ``StoreWatcher``'s periodic version check stays as the fallback for a lost notification.
/// Servers run it only when the store announces its changes (``SQLStore/announcesChanges``).
public struct DatabaseChanges: Service {
    let store: SQLStore
    let changes: ChangeSignal
    let credentials: CredentialCache
    let logger: Logger

    /// A listener for `store` that signals `changes` and clears `credentials`.
    public init(store: SQLStore, changes: ChangeSignal, credentials: CredentialCache, logger: Logger) {
        self.store = store
        self.changes = changes
        self.credentials = credentials
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await store.listenForChanges(
                { [changes, credentials] change in
                    switch change {
                    case .access: changes.changed()
                    case .credentials: credentials.forgetAll()
                    }
                }, logger: logger)
        }
    }
}
