import KeyfleetCLI
import SSHKeys
import Testing

/// The Argon2 pass calibration for .ppk files, fed made-up timings: it never jumps to its cap when the
/// probes' difference collapses, and never chooses more passes than puttygen would.
@Suite("Argon2 pass calibration")
struct Argon2CalibrationTests {
    /// A machine where `passes` take `fixed + passes × pass` milliseconds, plus whatever `load` adds.
    struct Machine {
        var fixed: Double
        var pass: Double
        func time(_ passes: Int) -> Double { fixed + Double(passes) * pass }
    }

    /// What puttygen's argon2_choose_passes (PuTTY's crypto/argon2.c) picks on `machine`: it runs 1, 2, 3, 5,
    /// 8, ... passes and keeps the first count that takes `target` or longer.
    static func puttygenPasses(on machine: Machine, target: Double) -> Int {
        var (a, b) = (1, 1)
        while machine.time(b) < target, b < 1 << 30 { (a, b) = (b, a + b) }
        return b
    }

    /// One calibration's runs: each pass count asked for and the milliseconds it was told.
    struct Run {
        var passes = 0
        var probes: [(passes: Int, milliseconds: Double)] = []

        /// The slowest rate a probe showed, as passes in `target`: no choice may exceed it.
        func bound(target: Double) -> Int {
            probes.filter { $0.passes > 1 }.map { Int(Double($0.passes) * target / $0.milliseconds) }.min() ?? 1
        }
    }

    /// Runs the calibration with `time` as the clock, recording what it asked and was told.
    static func calibrate(target: Double, time: (Int) -> Double?) -> Run {
        var run = Run()
        run.passes = Argon2Calibration.passes(targetMilliseconds: target) { count in
            let milliseconds = time(count)
            if let milliseconds { run.probes.append((count, milliseconds)) }
            return milliseconds
        }
        return run
    }

    @Test(
        "collapsing probes (the one-pass run slowed as much as the longer one): far from the cap, within the slower run's rate",
        arguments: [50.0, 60.0, 80.0, 99.0, 34.0])
    func collapsing(stalledOne: Double) {
        // A quiet machine: 4 ms to set up the memory, 2.7 ms a pass (puttygen's defaults here: 34 passes).
        let machine = Machine(fixed: 4, pass: 2.7)
        for longerStalled in [false, true] {
            let run = Self.calibrate(target: 100) { passes in
                if passes == 1 { return stalledOne }
                // Stalled too, to just over the one-pass run: the difference of the two collapses to nothing.
                return longerStalled ? max(machine.time(passes), stalledOne + 0.2) : machine.time(passes)
            }
            #expect(run.probes.count == 2)
            #expect(run.passes >= 1)
            #expect(run.passes <= run.bound(target: 100), "chose \(run.passes) after \(run.probes)")
            #expect(run.passes <= Self.puttygenPasses(on: machine, target: 100))
            #expect(run.passes < 60, "chose \(run.passes) after \(run.probes): the cap is 1000")
        }
    }

    @Test("the old two-probe collapse: one pass 50 ms, three passes 50.2 ms, gives at most 5 passes, not 1000")
    func oldCollapse() {
        let run = Self.calibrate(target: 100) { passes in passes == 1 ? 50 : passes == 3 ? 50.2 : nil }
        #expect(run.probes.map(\.passes) == [1, 3])
        #expect(run.passes <= 5)
    }

    @Test("a quiet machine: close to the target, never more than puttygen's")
    func quiet() {
        for fixed in [0.0, 0.5, 2, 4, 10, 30, 60] {
            for pass in [0.05, 0.3, 1, 2.7, 3, 7, 15, 33, 40, 70, 120, 400] {
                let machine = Machine(fixed: fixed, pass: pass)
                let target = 100.0
                let run = Self.calibrate(target: target) { machine.time($0) }
                let puttygen = Self.puttygenPasses(on: machine, target: target)
                #expect(run.passes >= 1)
                #expect(run.passes <= puttygen, "fixed \(fixed) ms, \(pass) ms a pass: chose \(run.passes), puttygen \(puttygen)")
                #expect(run.passes <= Argon2Calibration.maximumPasses)
                if machine.time(1) >= target {
                    #expect(run.passes == 1)
                } else if machine.time(3) <= target, fixed <= 3 * pass, run.passes < Argon2Calibration.maximumPasses {
                    // Setting up the memory costs about a pass or two (both touch all of it). Then one pass
                    // more than the choice takes at least 60% of the target: not a timid choice.
                    #expect(machine.time(run.passes + 1) >= target * 0.6, "fixed \(fixed), pass \(pass): chose \(run.passes)")
                }
            }
        }
    }

    @Test("a busy machine: extra time on either run never lifts the choice above puttygen's or the slower run's rate")
    func noisy() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            let machine = Machine(
                fixed: Double.random(in: 0...40, using: &generator),
                pass: Double.random(in: 0.05...80, using: &generator))
            let target = Double.random(in: 20...500, using: &generator)
            // Load only ever adds time: a stall of up to 5 times the work, on one run, the other or both.
            let run = Self.calibrate(target: target) { passes in
                let base = machine.time(passes)
                return Bool.random(using: &generator) ? base : base * Double.random(in: 1...6, using: &generator)
            }
            let puttygen = Self.puttygenPasses(on: machine, target: target)
            #expect(run.passes >= 1)
            #expect(run.passes <= max(run.bound(target: target), 1), "target \(target), \(run.probes): chose \(run.passes)")
            #expect(run.passes <= puttygen, "\(machine), target \(target), \(run.probes): chose \(run.passes), puttygen \(puttygen)")
        }
    }

    @Test(
        "failed or nonsense timings choose 1 pass and never trap",
        arguments: [
            [Int: Double](), [1: 10], [1: .nan, 3: 20], [1: 10, 10: .nan], [1: -5, 3: 20], [1: 10, 10: 0], [1: 0, 1000: 0],
            [1: .infinity, 3: .infinity], [1: 10, 10: -1], [1: 10, 10: .infinity],
        ])
    func nonsense(_ timings: [Int: Double]) {
        #expect(Self.calibrate(target: 100) { timings[$0] }.passes == 1)
    }

    @Test("very fast runs reach the cap, and no further")
    func fast() {
        #expect(Self.calibrate(target: 100) { Double($0) * 0.001 }.passes == Argon2Calibration.maximumPasses)
        #expect(Self.calibrate(target: 100) { $0 == 1 ? 0 : 1e-300 }.passes == Argon2Calibration.maximumPasses)
    }

    @Test("the real clock: small Argon2 parameters give a count in range")
    func realClock() {
        let parameters = Argon2Parameters(variant: .argon2id, memoryKiB: 64, passes: 1, parallelism: 1)
        let passes = Argon2Calibration.passes(for: parameters, targetMilliseconds: 5)
        #expect((1...Argon2Calibration.maximumPasses).contains(passes))
    }
}
