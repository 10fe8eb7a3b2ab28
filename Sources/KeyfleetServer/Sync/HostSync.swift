internal import KeyfleetCore

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

    /// How often a waiting sync looks again without a signal. Changes made by another server process are
    /// signalled by the ``StoreWatcher``, so this is only a backstop.
    static let recheckInterval: Duration = .seconds(60)

    /// Answers at once when host `id` is at a version other than `known` (or `known` is 0), else waits up to
    /// `wait` for its rendered access to change: woken by every signalled change (this server's, or another
    /// process's through the ``StoreWatcher``) and when its first expiring line expires.
    func sync(host id: HostID, known: UInt64, wait: Duration, clock: @Sendable () -> UInt64) async throws -> SyncOutcome {
        let deadline = ContinuousClock.now + wait
        while true {
            let generation = changes.generation
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
            await changes.wait(after: generation, timeout: timeout)
        }
    }
}
