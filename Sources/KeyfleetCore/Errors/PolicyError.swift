public import SSHKeys

/// A request the registry refuses: a key, a name, a label, a login or an enrollment that breaks a rule.
///
/// Every error has a stable ``code`` (compare these, not the text; each maps to one RFC 9457 problem type
/// and a 4xx status in the server) and a ``reason``: one sentence, without a trailing period, that says what
/// was wrong. ``field`` names the part of the request at fault (`key`, `labels`, `logins`, ...). Errors are
/// made by the static functions below, so the same fault is always described the same way; user text shown
/// in a reason is cut to 64 characters with control characters escaped.
public struct PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable identifier for a kind of refusal.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        /// The code as it appears in problem documents and logs.
        public var rawValue: String
        /// A code from its text.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// The submission is larger than ``KeyImport/maximumInputLength`` bytes.
        public static let inputTooLarge = Code(rawValue: "input-too-large")
        /// The submission holds no key at all.
        public static let noKey = Code(rawValue: "no-key")
        /// The submission holds more than one key (bulk import is its own call).
        public static let multipleKeys = Code(rawValue: "multiple-keys")
        /// A line break, NUL or other control character in the key, its comment, or another text field.
        public static let forbiddenCharacter = Code(rawValue: "forbidden-character")
        /// authorized_keys options (or any other text) before the key: only the server decides options.
        public static let optionsNotAllowed = Code(rawValue: "options-not-allowed")
        /// An RSA key under ``KeyPolicy/minimumRSABits`` bits.
        public static let weakRSAKey = Code(rawValue: "weak-rsa-key")
        /// A DSA key (broken by design: 1024 bits, and OpenSSH no longer accepts it).
        public static let dsaKey = Code(rawValue: "dsa-key")
        /// An OpenSSH certificate submitted as a plain key.
        public static let certificate = Code(rawValue: "certificate-not-key")
        /// A key type SSH does not know or we do not support.
        public static let unknownKeyType = Code(rawValue: "unknown-key-type")
        /// Text that is not a key in any format we read, or a key whose numbers are invalid.
        public static let invalidKey = Code(rawValue: "invalid-key")
        /// A key comment longer than ``SSHKeyRecord/maximumCommentLength`` bytes.
        public static let commentTooLong = Code(rawValue: "comment-too-long")
        /// An encrypted private key whose public key cannot be read without its passphrase.
        public static let encryptedPrivateKey = Code(rawValue: "encrypted-private-key")
        /// A login (Unix account) name that is not `^[a-z_][a-z0-9._-]{0,31}$` or holds `..`.
        public static let invalidLogin = Code(rawValue: "invalid-login")
        /// A login name the provisioning tools give a special meaning (`default` in cloud-init).
        public static let reservedLogin = Code(rawValue: "reserved-login")
        /// A label whose key or value breaks the label rules.
        public static let invalidLabel = Code(rawValue: "invalid-label")
        /// A name (of a key, host, project, cluster or user) that is empty, too long or holds control characters.
        public static let invalidName = Code(rawValue: "invalid-name")
        /// An identifier that is not 1 to 64 letters, digits, `.`, `_` or `-`.
        public static let invalidIdentifier = Code(rawValue: "invalid-identifier")
        /// An expiry time outside the range authorized_keys can express.
        public static let invalidExpiry = Code(rawValue: "invalid-expiry")
        /// An expiry time that is not in the future.
        public static let expiryInPast = Code(rawValue: "expiry-in-past")
        /// A server URL, token or certificate hash for host enrollment that is malformed.
        public static let invalidEnrollment = Code(rawValue: "invalid-enrollment")
    }

    /// The stable kind of refusal.
    public var code: Code
    /// What was wrong, in one sentence without a trailing period.
    public var reason: String
    /// The part of the request at fault (`key`, `name`, `labels`, `logins`, `expiry`, ...), if known.
    public var field: String?
    /// The SSHKeys error behind an ``Code/invalidKey`` or similar refusal, when there is one.
    public var underlying: KeyError?

    /// Makes an error; prefer the named constructors.
    public init(_ code: Code, _ reason: String, field: String? = nil, underlying: KeyError? = nil) {
        self.code = code
        self.reason = reason
        self.field = field
        self.underlying = underlying
    }

    /// Errors are equal when their codes are.
    public static func == (lhs: PolicyError, rhs: PolicyError) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only, in step with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `reason`, prefixed by `field` when there is one.
    public var description: String {
        if let field { return "\(field): \(reason)" }
        return reason
    }
}

extension PolicyError {
    static func inputTooLarge(_ size: Int, limit: Int) -> PolicyError {
        PolicyError(.inputTooLarge, "the submission is \(size) bytes, more than the \(limit) bytes a key may take", field: "key")
    }
    static let noKey = PolicyError(.noKey, "the submission holds no key", field: "key")
    static func multipleKeys(_ count: Int) -> PolicyError {
        PolicyError(.multipleKeys, "the submission holds \(count) keys; import one key per request (bulk import is a separate call)", field: "key")
    }
    static func forbiddenCharacter(in what: String, field: String) -> PolicyError {
        PolicyError(.forbiddenCharacter, "\(what) contains a line break, NUL or other control character", field: field)
    }
    static let optionsNotAllowed = PolicyError(
        .optionsNotAllowed, "the key is preceded by authorized_keys options or other text; submit the key alone, the server decides options",
        field: "key")
    static func weakRSAKey(bits: Int) -> PolicyError {
        PolicyError(.weakRSAKey, "the RSA key has \(bits) bits; at least \(KeyPolicy.minimumRSABits) are required", field: "key")
    }
    static let dsaKey = PolicyError(.dsaKey, "DSA keys are refused: they are limited to 1024 bits and OpenSSH has disabled them", field: "key")
    static let certificate = PolicyError(
        .certificate, "this is an OpenSSH certificate, not a plain key; submit the key it certifies", field: "key")
    static func unknownKeyType(_ name: String) -> PolicyError {
        PolicyError(.unknownKeyType, "the key type \"\(printable(name))\" is not supported", field: "key")
    }
    static func invalidKey(_ error: KeyError) -> PolicyError {
        PolicyError(.invalidKey, "the text is not a valid public or private key: \(error.description)", field: "key", underlying: error)
    }
    static func invalidKey(reason: String) -> PolicyError { PolicyError(.invalidKey, reason, field: "key") }
    static let encryptedPrivateKey = PolicyError(
        .encryptedPrivateKey, "the private key is encrypted and does not carry its public key in the clear; submit the public key instead",
        field: "key")

    /// Shows untrusted text in an error message safely: at most 64 characters, and every scalar
    /// ``CommentPolicy`` refuses (controls, bidirectional overrides) escaped.
    static func printable(_ text: some StringProtocol) -> String {
        KeyError.printable(text, showing: CommentPolicy.isAcceptable(scalar:))
    }
}
