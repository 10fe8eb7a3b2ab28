package import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Chooses Argon2 passes by timing, as puttygen does: the number of passes that takes about the target time
/// on this machine (at least 1).
package enum Argon2Calibration {
    package static func passes(for parameters: Argon2Parameters, targetMilliseconds: Double) -> Int {
        // Time one pass and three passes: their difference is the cost of a pass without the fixed cost
        // of allocating and first touching the memory, which one pass alone would overstate.
        func run(_ passes: Int) -> Double? {
            var probe = parameters
            probe.passes = passes
            let start = now()
            guard (try? Argon2.hash(password: [], salt: [UInt8](repeating: 0, count: 16), parameters: probe, tagLength: 80)) != nil else {
                return nil
            }
            return now() - start
        }
        guard let one = run(1), let three = run(3) else { return 1 }
        let perPass = max((three - one) / 2, 0.01)
        let fixed = max(one - perPass, 0)
        return max(1, min(Int((targetMilliseconds - fixed) / perPass), 1000))
    }

    /// Milliseconds on the monotonic clock.
    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }
}
