// swift-tools-version:6.1
// The libFuzzer harness for the SSHKeys parsers. A package of its own because everything it links must be
// built with `-sanitize=fuzzer`, and the main package's `swift build` must never see it. Its `main` hands
// over to libFuzzer's driver (`LLVMFuzzerRunDriver`, declared with `@_extern(c)`, hence the feature).
// Build and run it with `scripts/fuzz.sh`, which passes `-Xswiftc -sanitize=fuzzer,address` on the command
// line so that SSHKeys (and every other Swift module) is instrumented too, not only this target.
import PackageDescription

let package = Package(
    name: "keyfleet-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "keyfleet", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "keyfleet-fuzz",
            dependencies: [.product(name: "SSHKeys", package: "keyfleet")],
            swiftSettings: [.enableExperimentalFeature("Extern")]
        )
    ],
    swiftLanguageModes: [.v6]
)
