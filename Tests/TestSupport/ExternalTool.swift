import Foundation

/// What a finished program printed and returned.
public struct ToolResult: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: String

    /// Standard output as text.
    public var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// A failure to run a program the suite depends on.
public struct ToolError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs the real programs the suites compare against (ssh-keygen, puttygen, openssl, the keyfleet binary).
///
/// A missing program is a failure that says how to install it, never a skip: scripts/install-test-deps.sh
/// installs everything the full suite needs.
public enum ExternalTool {
    private static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The absolute path of `name`, or an error telling how to install it.
    public static func path(of name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + searchPath
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ToolError(description: "\(name) is not installed; run scripts/install-test-deps.sh (the full suite needs it)")
    }

    /// Runs `name` with `arguments`, feeding `input` on stdin; output is collected through files, so large
    /// outputs cannot dead-lock.
    @discardableResult
    public static func run(
        _ name: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String]? = nil,
        currentDirectory: String? = nil
    ) throws -> ToolResult {
        let executable = try path(of: name)
        let scratch = try TemporaryDirectory()
        let outPath = scratch.path + "/stdout", errPath = scratch.path + "/stderr", inPath = scratch.path + "/stdin"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: Data(input ?? []))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            process.environment = merged.filter { !$0.value.isEmpty || environment[$0.key] == nil }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let inHandle = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        try inHandle.close()
        let out = try Data(contentsOf: URL(fileURLWithPath: outPath))
        let err = try Data(contentsOf: URL(fileURLWithPath: errPath))
        return ToolResult(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Runs and requires exit status 0.
    @discardableResult
    public static func runChecked(_ name: String, _ arguments: [String], input: [UInt8]? = nil, environment: [String: String]? = nil) throws
        -> ToolResult
    {
        let result = try run(name, arguments, input: input, environment: environment)
        guard result.status == 0 else {
            throw ToolError(description: "\(name) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }
}

/// A directory removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/keyfleet-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = base
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let target = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target)
        return target
    }

    public func read(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: file(name))), as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Random inputs made at test time.
public enum RandomInput {
    /// A comment of printable ASCII and some non-ASCII letters, without leading/trailing blanks.
    public static func comment(maxLength: Int = 24) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 @._-+=:/,éüßøж中")
        let length = Int.random(in: 1...maxLength)
        var text = String((0..<length).map { _ in alphabet.randomElement() ?? "x" })
        while text.hasPrefix(" ") || text.hasSuffix(" ") { text = text.trimmingCharacters(in: .whitespaces) }
        return text.isEmpty ? "c" : text
    }

    /// A passphrase of 1 to 30 printable ASCII characters (shell-safe when passed as one argument).
    public static func passphrase() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#%&()*+,-./:;<=>?@[]^_{|}~ ")
        return String((0..<Int.random(in: 5...30)).map { _ in alphabet.randomElement() ?? "x" })
    }

    public static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255) } }
}
