package import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Chooses Argon2 passes by timing, as puttygen does: about as many passes as take the target time on this
/// machine, at least 1, and never more than puttygen would choose for the same target.
package enum Argon2Calibration {
    /// The most passes ever chosen; PuTTY files with more are refused when read.
    package static let maximumPasses = 1000

    /// Times Argon2 with `parameters` (their passes aside) on this machine and chooses the passes.
    package static func passes(for parameters: Argon2Parameters, targetMilliseconds: Double) -> Int {
        passes(targetMilliseconds: targetMilliseconds) { count in
            var probe = parameters
            probe.passes = count
            let start = now()
            guard (try? Argon2.hash(password: [], salt: [UInt8](repeating: 0, count: 16), parameters: probe, tagLength: 80)) != nil else {
                return nil
            }
            return now() - start
        }
    }

    /// Chooses the passes from `time`, which runs Argon2 with the given passes and returns the milliseconds
    /// it took (nil when it failed). It is called twice: with 1 pass, then with `k` passes, about as many as
    /// the first run says fit in the target (at least 3).
    ///
    /// The choice is the second run's own rate, `k × target / time(k)`: one measured duration, never a
    /// difference of two, so it cannot collapse when load slows one run and not the other (the difference
    /// of a one-pass and a three-pass run once did, and sent the choice to its cap of 1000). Load only makes
    /// a run slower, so it only lowers the choice. The run carries the fixed cost of allocating and first
    /// touching the memory once, spread over `k` passes, which is why it is long rather than three passes.
    ///
    /// It is never more than puttygen's choice, which runs 1, 2, 3, 5, 8, ... passes and keeps the first
    /// count `b` that takes the target or longer, so `fixed + b × pass ≥ target`: the rate gives
    /// `k × target / (fixed + k × pass)`, which is at most `(target - fixed) / pass` whenever the `k` passes
    /// fit in the target, as they do when `k` comes from the first run; when they do not (`k` raised to 3) the
    /// choice is under 3, and when even one pass takes the target, it is 1, as puttygen's.
    package static func passes(targetMilliseconds target: Double, time: (Int) -> Double?) -> Int {
        guard target > 0, let one = time(1), one.isFinite, one >= 0 else { return 1 }
        // puttygen stops after its first run when that already took the target time.
        if one >= target { return 1 }
        let count = max(3, wholePasses(target / one))
        guard let long = time(count), long.isFinite, long > 0 else { return 1 }
        return wholePasses(Double(count) * target / long)
    }

    /// `value` rounded down into 1 ... ``maximumPasses``.
    private static func wholePasses(_ value: Double) -> Int {
        guard value.isFinite else { return value > 0 ? maximumPasses : 1 }
        return Int(min(max(value.rounded(.down), 1), Double(maximumPasses)))
    }

    /// Milliseconds on the monotonic clock.
    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }
}
