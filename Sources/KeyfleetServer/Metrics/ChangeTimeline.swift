internal import Synchronization

/// When the most recent changes made through this server's API were signalled to waiting agent syncs, by
/// the ``ChangeSignal/generation`` each signal made.
///
/// ``ChangeTimingMiddleware`` records a change after its transaction committed and just before
/// ``ChangeMiddleware`` signals it, so a recorded time is never later than the signal.
final class ChangeTimeline: Sendable {
    /// How many signals are remembered; a sync answered long after more signals than this is unattributed anyway.
    static let capacity = 256

    private struct State {
        var times: [(generation: UInt64, at: ContinuousClock.Instant)] = []
        var next = 0
    }

    private let state = Mutex(State())

    /// Records that the signal making `generation` is sent at `instant`.
    func record(_ generation: UInt64, at instant: ContinuousClock.Instant) {
        state.withLock { state in
            if state.times.count < Self.capacity {
                state.times.append((generation, instant))
            } else {
                state.times[state.next] = (generation, instant)
            }
            state.next = (state.next + 1) % Self.capacity
        }
    }

    /// When the signal making `generation` was sent, if it was one of the recorded ones.
    func instant(of generation: UInt64) -> ContinuousClock.Instant? {
        state.withLock { state in state.times.last { $0.generation == generation }?.at }
    }
}
