/// Why the agent could not do something, in one sentence, with a stable code.
public struct AgentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The server could not be reached, timed out or answered 5xx.
        case unreachable
        /// The server's certificate does not match the pinned hash, or TLS failed.
        case untrusted
        /// The server refused the host's credential (401): revoked or unknown.
        case revoked
        /// The server says the host was deleted from the registry (410 `host-deleted`): an instruction to
        /// remove every key the agent manages and stop, not a fault.
        case hostDeleted = "host-deleted"
        /// An answer was malformed, truncated or broke a rule.
        case malformedAnswer = "malformed-answer"
        /// The enrollment token was refused.
        case enrollmentRefused = "enrollment-refused"
        /// The host is not enrolled (no state).
        case notEnrolled = "not-enrolled"
        /// A local file or directory problem.
        case local
        /// A bad argument or configuration.
        case usage
    }

    /// The code.
    public var code: Code
    /// The sentence.
    public var reason: String

    /// An error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    public static func == (lhs: AgentError, rhs: AgentError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static func malformedAnswer(_ reason: String) -> AgentError { AgentError(.malformedAnswer, "the server's answer was refused: \(reason)") }
    static func local(_ reason: String) -> AgentError { AgentError(.local, reason) }

    /// Text from elsewhere, cut and with control characters escaped, for a message.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(80) {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}" {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
