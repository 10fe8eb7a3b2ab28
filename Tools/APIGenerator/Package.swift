// swift-tools-version:6.1
// Builds swift-openapi-generator for scripts/generate-api.sh. Kept out of the main package so that
// building Keyfleet does not build the generator and OpenAPIKit.
import PackageDescription

let package = Package(
    name: "APIGenerator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator.git", exact: "1.14.3")
    ]
)
