internal import Synchronization

/// Tasks waiting on continuations until something they wait for happens, each with a tag saying what that
/// is: the shared mechanism of ``ChangeSignal`` and of the agent syncs waiting in the ``AccessCache``.
///
/// A waiter registers before it looks whether what it waits for has happened, and parks only if its entry
/// is still there: a wake between the look and the park takes the entry out, so no wake is lost, and the
/// owner's state and this list need no common lock. A timeout or the task's cancellation ends a wait too.
final class WaitList<Tag: Sendable>: Sendable {
    private enum Slot {
        /// Registered, not yet parked.
        case idle
        /// Parked on this continuation.
        case waiting(CheckedContinuation<Void, Never>)
        /// Cancelled before it could park.
        case cancelled
    }

    private struct State {
        var nextID: UInt64 = 0
        var entries: [UInt64: (tag: Tag, slot: Slot)] = [:]
    }

    private let state = Mutex(State())

    /// An empty list.
    init() {}

    /// The tasks waiting now.
    var count: Int { state.withLock { $0.entries.count } }

    /// Returns when a wake reaches `tag`, when `timeout` has passed, or when the task is cancelled, whichever
    /// comes first; at once when `happened` (asked after registering) says it already has.
    func wait(_ tag: Tag, timeout: Duration, unless happened: @escaping @Sendable () -> Bool) async {
        guard timeout > .zero, !Task.isCancelled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(tag, unless: happened) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func wait(_ tag: Tag, unless happened: () -> Bool) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            state.entries[state.nextID] = (tag, .idle)
            return state.nextID
        }
        let already = happened()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard !already, case .idle? = state.entries[id]?.slot else {
                        state.entries[id] = nil
                        return true
                    }
                    state.entries[id]?.slot = .waiting(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                switch state.entries[id]?.slot {
                case .waiting(let continuation)?:
                    state.entries[id] = nil
                    return continuation
                case .idle?:
                    state.entries[id]?.slot = .cancelled
                    return nil
                case .cancelled?, nil:
                    return nil
                }
            }
            continuation?.resume()
        }
    }

    /// Wakes the waiters whose tag `reaches` accepts, and takes them out of the list.
    func wake(where reaches: (Tag) -> Bool) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var woken = [CheckedContinuation<Void, Never>]()
            for (id, entry) in state.entries where reaches(entry.tag) {
                state.entries[id] = nil
                if case .waiting(let continuation) = entry.slot { woken.append(continuation) }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }
}
