import Foundation
import TestSupport

/// The built `keyfleet` executable, found beside the test bundle (SwiftPM puts both in the same directory),
/// and the executables it runs for the other commands, beside it.
enum KeyfleetBinary {
    static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["KEYFLEET_BIN"] { return explicit }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // Inside an .xctest bundle on some layouts the executable sits deeper; walk up to the build directory.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("keyfleet").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "keyfleet"
    }()

    /// The directory `keyfleet` is in.
    static var directory: String { URL(fileURLWithPath: path).deletingLastPathComponent().path }

    /// The executable `name` (`keyfleet-server`, `keyfleet-agent`, ...) beside `keyfleet`.
    static func sibling(_ name: String) -> String { directory + "/" + name }

    /// Runs `keyfleet arguments...`; the environment never carries a passphrase unless given.
    @discardableResult
    static func run(_ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:]) throws -> ToolResult {
        var environment = environment
        if environment["KEYFLEET_PASSPHRASE"] == nil { environment["KEYFLEET_PASSPHRASE"] = "" }
        if environment["KEYFLEET_NEW_PASSPHRASE"] == nil { environment["KEYFLEET_NEW_PASSPHRASE"] = "" }
        return try ExternalTool.run(path, arguments, input: input, environment: environment)
    }
}
