public import SSHKeys

/// An error shown to the user as one line on stderr, with the exit status it implies.
///
/// Exit statuses: 0 success, 1 bad input or usage, 2 wrong passphrase.
public struct CLIError: Error, CustomStringConvertible {
    /// What to print after `keyfleet: `.
    public var message: String
    /// The process exit status: 1 for bad input or usage, 2 for a wrong passphrase.
    public var exitCode: Int32
    /// A stable code for a problem document (`-o json`), like the server's: `unreachable`, `usage`.
    package var code: String?
    /// The problem document (RFC 9457, JSON) the server answered with, as it sent it, when the error is one.
    package var problemDocument: [UInt8]?

    /// Makes an error from `message`; the exit status defaults to 1 (bad input or usage).
    public init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    /// Makes an error with a stable `code` (and the server's problem document, when it answered with one).
    package init(_ message: String, code: String, problemDocument: [UInt8]? = nil) {
        self.message = message
        self.exitCode = 1
        self.code = code
        self.problemDocument = problemDocument
    }

    /// The ``message``.
    public var description: String { message }

    /// Locates a library error in `path` (and the line, when the error carries one).
    public init(_ error: KeyError, path: String?) {
        let text = error.description
        message = path.map { "\(Terminal.safe($0)): \(text)" } ?? text
        exitCode = error.code == .wrongPassphrase ? 2 : 1
    }

    package static func usage(_ message: String) -> CLIError { CLIError(message, code: "usage") }
}

extension KeyError {
    /// Runs `body`, turning a ``KeyError`` into a ``CLIError`` located in `path`.
    package static func located<T>(in path: String?, _ body: () throws(KeyError) -> T) throws(CLIError) -> T {
        do {
            return try body()
        } catch {
            throw CLIError(error, path: path)
        }
    }
}
