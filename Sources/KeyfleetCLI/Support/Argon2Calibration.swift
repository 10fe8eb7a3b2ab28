import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Chooses Argon2 passes by timing, as puttygen does: the number of passes that takes about the target time
/// on this machine (at least 1).
enum Argon2Calibration {
    static func passes(for parameters: Argon2Parameters, targetMilliseconds: Double) -> Int {
        var probe = parameters
        probe.passes = 1
        let salt = [UInt8](repeating: 0, count: 16)
        let start = now()
        guard (try? Argon2.hash(password: [], salt: salt, parameters: probe, tagLength: 80)) != nil else { return 1 }
        let onePass = max(now() - start, 0.001)
        return max(1, min(Int(targetMilliseconds / onePass), 1000))
    }

    /// Milliseconds on the monotonic clock.
    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000
    }
}
