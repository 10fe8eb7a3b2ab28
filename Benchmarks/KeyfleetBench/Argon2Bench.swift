import SSHKeys

/// Times ``Argon2/hash(password:salt:secret:associatedData:parameters:tagLength:)`` with given parameters.
///
/// Compare with the C reference in the same run (the `argon2` CLI from Debian's package of the same name,
/// which uses the same password and salt):
///
/// ```
/// keyfleet-bench argon2 --variant id --passes 32 --memory 8192 --parallelism 1 --tag 80 --iterations 10
/// echo -n pass | argon2 somesalt -id -t 32 -k 8192 -p 1 -l 80
/// ```
///
/// It prints one line: the parameters, then the mean and the fastest time of one hash in seconds, and the
/// tag's first bytes so a run can be checked against the CLI's output.
enum Argon2Bench {
    /// A bad command line.
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static let usage = """
        usage: argon2 [--variant d|i|id] [--passes N] [--memory KiB] [--parallelism N] [--tag BYTES] \
        [--iterations N] [--password TEXT] [--salt TEXT]
        """

    /// Runs the benchmark; `arguments` are the options only, without the program or subcommand name.
    static func run(arguments: [String]) throws {
        var variant = Argon2Parameters.Variant.argon2id
        var passes = 32
        var memoryKiB = 8192
        var parallelism = 1
        var tagLength = 80
        var iterations = 10
        var password = "pass"
        var salt = "somesalt"

        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            if option == "--help" || option == "-h" {
                print(usage)
                return
            }
            guard let value = remaining.popFirst() else {
                throw UsageError(description: "\(option) needs a value\n\(usage)")
            }
            func number() throws -> Int {
                guard let parsed = Int(value), parsed >= 0 else {
                    throw UsageError(description: "\(option) needs a whole number, not \"\(value)\"")
                }
                return parsed
            }
            switch option {
            case "--variant", "-v":
                guard let chosen = Argon2Parameters.Variant(rawValue: "argon2" + value.lowercased()) else {
                    throw UsageError(description: "unknown variant \"\(value)\": use d, i or id")
                }
                variant = chosen
            case "--passes", "-t": passes = try number()
            case "--memory", "-k": memoryKiB = try number()
            case "--parallelism", "-p": parallelism = try number()
            case "--tag", "-l": tagLength = try number()
            case "--iterations", "-n": iterations = max(1, try number())
            case "--password": password = value
            case "--salt": salt = value
            default: throw UsageError(description: "unknown option \(option)\n\(usage)")
            }
        }

        let parameters = Argon2Parameters(
            variant: variant, memoryKiB: memoryKiB, passes: passes, parallelism: parallelism)
        let clock = ContinuousClock()
        var total = Duration.zero
        var fastest = Duration.seconds(Int64.max)
        var tag: [UInt8] = []
        for _ in 0..<iterations {
            let start = clock.now
            tag = try Argon2.hash(
                password: Array(password.utf8), salt: Array(salt.utf8), parameters: parameters,
                tagLength: tagLength)
            let elapsed = clock.now - start
            total += elapsed
            fastest = min(fastest, elapsed)
        }
        let prefix = tag.prefix(8).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        print(
            "\(variant.rawValue) m=\(memoryKiB) t=\(passes) p=\(parallelism) l=\(tagLength): "
                + "mean \(seconds(total / iterations)) s, fastest \(seconds(fastest)) s over \(iterations) runs; "
                + "tag \(prefix)…")
    }

    private static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        let micro = whole * 1_000_000 + attoseconds / 1_000_000_000_000
        let fraction = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
