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
    case "fleet-seed":
        try await FleetBench.seed(arguments: Array(arguments.dropFirst()))
    case "fleet-run":
        try await FleetBench.run(arguments: Array(arguments.dropFirst()))
    case "lookup-cache":
        try LookupCacheBench.run(arguments: Array(arguments.dropFirst()))
    default:
        print("usage: keyfleet-bench argon2|registry-seed|fleet-seed|fleet-run|lookup-cache [options]   (see Benchmarks/KeyfleetBench)")
        exit(1)
    }
} catch {
    print("keyfleet-bench: \(error)")
    exit(1)
}
