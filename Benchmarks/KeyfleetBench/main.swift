// keyfleet-bench: in-process timings of the KDFs, for comparison with their C peers in scripts/bench.sh.
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "argon2":
        try Argon2Bench.run(arguments: Array(arguments.dropFirst()))
    default:
        print("usage: keyfleet-bench argon2 [options]   (see Benchmarks/KeyfleetBench/Argon2Bench.swift)")
        exit(1)
    }
} catch {
    print("keyfleet-bench: \(error)")
    exit(1)
}
