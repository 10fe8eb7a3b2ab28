internal import KeyfleetCore
public import ServiceLifecycle

/// The long-poll of the agent's sync, over the shared ``ChangeSignal`` and the ``AccessCache``.
extension AccessCache {
    /// How a sync ends.
    enum SyncOutcome: Sendable {
        /// The host's access is at another version than the agent's: send it.
        case changed(HostView)
        /// Nothing changed within the wait.
        case unchanged
        /// The host no longer exists.
        case gone
    }

    /// How often a waiting sync, and the follower of changes, look again without a signal. Changes made by
    /// another server process are signalled by the ``StoreWatcher`` and ``DatabaseChanges``, so this is only
    /// a backstop.
    static let recheckInterval: Duration = .seconds(60)

    /// Answers at once when host `id` is at a version other than `known` (or `known` is 0), else waits up to
    /// `wait` for its rendered access to change: woken when the ``followChanges()`` brings in a change that
    /// reached the host (this server's, or another process's), and when its first expiring line expires.
    func sync(host id: HostID, known: UInt64, wait: Duration, clock: @Sendable () -> UInt64) async throws -> SyncOutcome {
        let deadline = ContinuousClock.now + wait
        while true {
            guard let (view, _) = try await host(id, now: clock()) else { return .gone }
            if known == 0 || view.version != known { return .changed(view) }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero || Task.isCancelled { return .unchanged }
            var timeout = min(remaining, Self.recheckInterval)
            if let expiry = view.nextExpiry {
                let now = clock()
                let untilExpiry: Duration = expiry > now ? .seconds(Int64(clamping: expiry - now)) : .zero
                timeout = min(timeout, max(untilExpiry, .milliseconds(100)))
            }
            await waitForChange(to: view, timeout: timeout)
        }
    }
}

/// Runs ``AccessCache/followChanges()`` for as long as the server runs, so that waiting agent syncs wake
/// when a change reaches their host.
public struct ChangeFollower: Service {
    let access: AccessCache

    /// A follower for `access`.
    public init(access: AccessCache) {
        self.access = access
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await access.followChanges() }
    }
}
