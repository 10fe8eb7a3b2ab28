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
    private enum Slot {
        /// Registered, not yet waiting.
        case idle
        /// Waiting on this continuation.
        case waiting(CheckedContinuation<Void, Never>)
        /// Cancelled before it could wait.
        case cancelled
    }

    private struct State {
        var generation: UInt64 = 0
        var nextID: UInt64 = 0
        var slots: [UInt64: Slot] = [:]
    }

    private let state = Mutex(State())

    /// A signal with no waiters.
    public init() {}

    /// A counter that grows with every ``changed()``; compare it before and after to see a change.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// The number of requests waiting now.
    public var waiters: Int { state.withLock { $0.slots.count } }

    /// Wakes every waiter.
    public func changed() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            let continuations = state.slots.values.compactMap { slot -> CheckedContinuation<Void, Never>? in
                if case .waiting(let continuation) = slot { continuation } else { nil }
            }
            state.slots.removeAll(keepingCapacity: true)
            return continuations
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when ``generation`` differs from `seen`, when `timeout` has passed, or when the task is
    /// cancelled, whichever comes first.
    public func wait(after seen: UInt64, timeout: Duration) async {
        guard timeout > .zero, !Task.isCancelled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForChange(after: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns when ``generation`` differs from `seen` or the task is cancelled.
    func waitForChange(after seen: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            state.slots[state.nextID] = .idle
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.generation == seen, case .idle? = state.slots[id] else {
                        state.slots[id] = nil
                        return true
                    }
                    state.slots[id] = .waiting(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                switch state.slots[id] {
                case .waiting(let continuation)?:
                    state.slots[id] = nil
                    return continuation
                case .idle?:
                    state.slots[id] = .cancelled
                    return nil
                case .cancelled?, nil:
                    return nil
                }
            }
            continuation?.resume()
        }
    }
}
