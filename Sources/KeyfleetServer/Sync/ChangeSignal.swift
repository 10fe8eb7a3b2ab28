internal import Synchronization

/// Tells waiting agent syncs that the registry may have changed.
///
/// ``ChangeMiddleware`` calls ``changed()`` after every successful change made through the API, and
/// ``StoreWatcher`` and ``DatabaseChanges`` for changes other servers made. Its waiter is the
/// ``AccessCache``'s follower (``AccessCache/followChanges()``), which brings the registry forward and wakes
/// the agent syncs whose host the change reached; each waiter waits on a continuation, not in a polling
/// loop, and ``changed()`` resumes them all at once. Its ``generation`` also tells the cache that what it
/// holds may be stale.
public final class ChangeSignal: Sendable {
    private let counter = Mutex<UInt64>(0)
    private let waiting = WaitList<Void>()

    /// A signal with no waiters.
    public init() {}

    /// A counter that grows with every ``changed()``; compare it before and after to see a change.
    public var generation: UInt64 { counter.withLock { $0 } }

    /// The number of tasks waiting now.
    public var waiters: Int { waiting.count }

    /// Wakes every waiter.
    public func changed() {
        counter.withLock { $0 &+= 1 }
        waiting.wake { _ in true }
    }

    /// Returns when ``generation`` differs from `seen`, when `timeout` has passed, or when the task is
    /// cancelled, whichever comes first.
    public func wait(after seen: UInt64, timeout: Duration) async {
        await waiting.wait((), timeout: timeout) { self.generation != seen }
    }
}
