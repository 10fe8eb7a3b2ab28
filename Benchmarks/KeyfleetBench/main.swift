// keyfleet-bench: in-process timings of the KDFs for scripts/bench.sh, and the registry seeder for
// scripts/bench-registry.sh.
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "argon2":
        try Argon2Bench.run(arguments: Array(arguments.dropFirst()))
    case "registry-seed":
        try await RegistrySeed.run(arguments: Array(arguments.dropFirst()))
    default:
        print("usage: keyfleet-bench argon2|registry-seed [options]   (see Benchmarks/KeyfleetBench)")
        exit(1)
    }
} catch {
    print("keyfleet-bench: \(error)")
    exit(1)
}
