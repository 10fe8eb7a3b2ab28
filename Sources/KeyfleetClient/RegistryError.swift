internal import SSHKeys

/// Why a call to the registry failed, in one sentence, with a stable code: what the client and the agent
/// both see, each deciding from the code (and the server's ``problem``) what to do, never from the text.
public struct RegistryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The server answered with an error status (4xx or 5xx): see ``RegistryError/problem``.
        case problem
        /// The server could not be reached: refused, unresolvable, timed out, or the connection closed
        /// before the answer was complete.
        case unreachable
        /// The TLS connection failed: a certificate that is not trusted (or not the pinned one), a name that
        /// does not match, a server that does not speak TLS.
        case tlsFailure = "tls-failure"
        /// No certificate the server presents has the pinned hash (at enrollment).
        case untrusted
        /// The answer is not one the API's contract allows (a body that does not decode, a content type or
        /// status it does not list).
        case answerNotInContract = "answer-not-in-contract"
        /// The answer is larger than the limit of its operation.
        case answerTooLarge = "answer-too-large"
        /// The server's URL is not an http(s) URL, or the pinned certificate cannot be read.
        case invalidConfiguration = "invalid-configuration"
    }

    /// The code.
    public var code: Code
    /// The sentence.
    public var reason: String
    /// What the server answered, when ``code`` is ``Code/problem``.
    public var problem: Problem?

    /// An error.
    public init(_ code: Code, _ reason: String, problem: Problem? = nil) {
        self.code = code
        self.reason = reason
        self.problem = problem
    }

    public var description: String { reason }

    public static func == (lhs: RegistryError, rhs: RegistryError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static func unreachable(_ server: String, _ why: String) -> RegistryError {
        RegistryError(.unreachable, "cannot reach the server at \(printable(server)): \(why)")
    }

    static func tlsFailure(_ server: String, _ why: String) -> RegistryError {
        RegistryError(.tlsFailure, "TLS failure talking to \(printable(server)): \(why)")
    }

    static func answerNotInContract(_ server: String, operation: String, _ why: String) -> RegistryError {
        RegistryError(.answerNotInContract, "the answer of \(printable(server)) to \(operation) does not match the API: \(why)")
    }

    /// `text` made one safe line for a message: control characters, C1 controls and line separators
    /// escaped, at most `limit` characters, by SSHKeys' `KeyError.printable`.
    public static func printable(_ text: String, limit: Int = 300) -> String {
        KeyError.printable(text, limit: limit)
    }
}
