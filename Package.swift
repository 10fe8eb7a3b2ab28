// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "keyfleet",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SSHKeys", targets: ["SSHKeys"]),
        .executable(name: "keyfleet", targets: ["keyfleet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "SSHKeys",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetCLI",
            dependencies: [
                "SSHKeys",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(name: "KeyfleetCore", dependencies: ["SSHKeys"], swiftSettings: strict),
        .target(
            name: "KeyfleetStore",
            dependencies: [
                "KeyfleetCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "keyfleet", dependencies: ["KeyfleetCLI"], swiftSettings: strict),
        .executableTarget(name: "keyfleet-bench", dependencies: ["SSHKeys"], path: "Benchmarks/KeyfleetBench", swiftSettings: strict),
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(
            name: "SSHKeysTests",
            dependencies: ["SSHKeys", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(name: "KeyfleetCoreTests", dependencies: ["KeyfleetCore", "SSHKeys", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "KeyfleetStoreTests",
            dependencies: ["KeyfleetStore", "KeyfleetCore", "SSHKeys", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeyfleetE2ETests",
            dependencies: ["keyfleet", "SSHKeys", "TestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
