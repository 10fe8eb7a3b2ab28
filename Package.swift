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
        .executable(name: "keyfleet-client", targets: ["keyfleet-client"]),
        .executable(name: "keyfleet-server", targets: ["keyfleet-server"]),
        .executable(name: "keyfleet-agent", targets: ["keyfleet-agent"]),
        .executable(name: "keyfleet-authorized-keys", targets: ["keyfleet-authorized-keys"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
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
        // The one version every executable reports.
        .target(name: "KeyfleetVersion", swiftSettings: strict),
        .target(
            name: "KeyfleetCLI",
            dependencies: [
                "SSHKeys", "KeyfleetVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // What the command lines of keyfleet-client, keyfleet-server and keyfleet-agent share: their roots,
        // --log-level, and the server and host-agent commands declared once (run by the executable of each,
        // described by keyfleet-client's tree for help and completion).
        .target(
            name: "KeyfleetCommandLine",
            dependencies: [
                "KeyfleetCLI", "KeyfleetVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetClientCLI",
            dependencies: [
                "KeyfleetCLI", "KeyfleetCommandLine", "KeyfleetVersion", "SSHKeys", "KeyfleetCore", "KeyfleetAPI", "KeyfleetClient",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetServerCLI",
            dependencies: [
                "KeyfleetCLI", "KeyfleetCommandLine", "KeyfleetVersion", "KeyfleetServer", "KeyfleetStore", "KeyfleetCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetAgentCLI",
            dependencies: [
                "KeyfleetCLI", "KeyfleetCommandLine", "KeyfleetVersion", "KeyfleetAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetCore", dependencies: ["SSHKeys", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .target(
            name: "KeyfleetStore",
            dependencies: [
                "KeyfleetCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The code in Generated/ is made by scripts/generate-api.sh from openapi.yaml and committed; the
        // script explains why it is not the build plugin's job.
        .target(
            name: "KeyfleetAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            exclude: ["openapi.yaml", "openapi-generator-config.yaml"]
        ),
        .target(
            name: "KeyfleetServer",
            dependencies: [
                "SSHKeys", "KeyfleetCore", "KeyfleetStore", "KeyfleetAPI", "KeyfleetVersion",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // The registry's API as the client commands and the host agent reach it: HTTP client set-up, TLS
        // pinning, the bearer token, problem documents, and failures told apart by type.
        .target(
            name: "KeyfleetClient",
            dependencies: [
                "KeyfleetAPI", "KeyfleetCore",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KeyfleetAgent",
            dependencies: [
                "SSHKeys", "KeyfleetCore", "KeyfleetAPI", "KeyfleetClient", "AuthorizedKeysCache", "KeyfleetVersion",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "keyfleet", dependencies: ["KeyfleetCLI"], swiftSettings: strict),
        .executableTarget(name: "keyfleet-client", dependencies: ["KeyfleetClientCLI"], swiftSettings: strict),
        .executableTarget(name: "keyfleet-server", dependencies: ["KeyfleetServerCLI"], swiftSettings: strict),
        .executableTarget(name: "keyfleet-agent", dependencies: ["KeyfleetAgentCLI"], swiftSettings: strict),
        // sshd's AuthorizedKeysCommand: no Foundation and the standard library linked in, so it starts in
        // about a millisecond and does not depend on the toolchain's shared libraries being installed.
        .target(name: "AuthorizedKeysCache", swiftSettings: strict),
        .executableTarget(
            name: "keyfleet-authorized-keys", dependencies: ["AuthorizedKeysCache", "KeyfleetVersion"], swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-stdlib"])]),
        .executableTarget(
            name: "keyfleet-bench",
            dependencies: [
                "SSHKeys", "KeyfleetCore", "KeyfleetStore", "KeyfleetServer", "KeyfleetAgent", "AuthorizedKeysCache",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/KeyfleetBench",
            swiftSettings: strict),
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
            name: "KeyfleetServerTests",
            dependencies: [
                "KeyfleetServer", "KeyfleetAPI", "KeyfleetStore", "KeyfleetCore", "SSHKeys", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeyfleetClientTests",
            dependencies: [
                "KeyfleetClient", "KeyfleetAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KeyfleetAgentTests", dependencies: ["KeyfleetAgent", "KeyfleetCommandLine", "AuthorizedKeysCache", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "KeyfleetE2ETests",
            // Every executable the suites run, so that `swift test` builds them first; except
            // keyfleet-authorized-keys, whose -static-stdlib would carry into the test bundle's link (SwiftPM
            // links an executable's objects into the tests that depend on it). `swift test` builds it anyway,
            // as it builds every target.
            dependencies: ["keyfleet", "keyfleet-client", "keyfleet-server", "keyfleet-agent", "SSHKeys", "TestSupport"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
