/// An error reading, checking or writing an SSH key.
///
/// Every error has a stable ``code`` (compare these, not the text) and a ``reason``: one sentence that says
/// what was wrong and, through ``location``, where. Errors are made by the static functions below so that
/// the same fault is always described the same way.
public struct KeyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable identifier for a kind of failure.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        /// The code as kebab-case text, e.g. `wrong-passphrase`.
        public var rawValue: String
        /// Makes a code from its text; prefer the named constants below.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The ``rawValue``.
        public var description: String { rawValue }

        /// The input is not in the expected format.
        public static let invalidFormat = Code(rawValue: "invalid-format")
        /// The input ends before a field it announces.
        public static let truncated = Code(rawValue: "truncated")
        /// Bytes follow the end of a structure that must end there.
        public static let trailingData = Code(rawValue: "trailing-data")
        /// Base64 text that does not decode.
        public static let invalidBase64 = Code(rawValue: "invalid-base64")
        /// A key type name we do not know.
        public static let unsupportedKeyType = Code(rawValue: "unsupported-key-type")
        /// A key whose numbers are not a valid key (point off the curve, even modulus, size out of range).
        public static let invalidKey = Code(rawValue: "invalid-key")
        /// The type named outside a blob differs from the one inside it.
        public static let typeMismatch = Code(rawValue: "type-mismatch")
        /// A cipher name we do not know.
        public static let unsupportedCipher = Code(rawValue: "unsupported-cipher")
        /// A key derivation function we do not know.
        public static let unsupportedKDF = Code(rawValue: "unsupported-kdf")
        /// Key derivation parameters out of the range we accept (rounds, memory, salt length).
        public static let invalidParameter = Code(rawValue: "invalid-parameter")
        /// The key is encrypted and no passphrase was given.
        public static let passphraseRequired = Code(rawValue: "passphrase-required")
        /// The passphrase does not decrypt the key.
        public static let wrongPassphrase = Code(rawValue: "wrong-passphrase")
        /// A checksum or MAC does not verify for a reason other than the passphrase: the file was altered.
        public static let corrupt = Code(rawValue: "corrupt")
        /// An authorized_keys or known_hosts option that is malformed or unknown.
        public static let invalidOption = Code(rawValue: "invalid-option")
        /// A comment or field holding a line break, NUL or other control character.
        public static let forbiddenCharacter = Code(rawValue: "forbidden-character")
        /// An input larger than we accept.
        public static let tooLarge = Code(rawValue: "too-large")
        /// A request that the format or the key type cannot satisfy (e.g. PEM for an Ed25519 key).
        public static let unsupportedOperation = Code(rawValue: "unsupported-operation")
    }

    /// The stable kind of failure.
    public var code: Code
    /// What was wrong, in one sentence without a trailing period.
    public var reason: String
    /// Where: a line number, a field name or a path inside a structure, if known.
    public var location: String?

    /// Makes an error; prefer the named constructors.
    public init(_ code: Code, _ reason: String, location: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
    }

    /// Errors are equal when their codes are.
    public static func == (lhs: KeyError, rhs: KeyError) -> Bool { lhs.code == rhs.code }
    /// Hashes only the code, to agree with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// `reason`, prefixed by `location` when there is one.
    public var description: String {
        if let location { return "\(location): \(reason)" }
        return reason
    }

    /// The same error, located at `place` (prepended to any location already present).
    public func at(_ place: String) -> KeyError {
        var copy = self
        copy.location = location.map { "\(place), \($0)" } ?? place
        return copy
    }
}

extension KeyError {
    static func invalidFormat(_ reason: String) -> KeyError { KeyError(.invalidFormat, reason) }
    static func truncated(_ what: String) -> KeyError { KeyError(.truncated, "\(what) is truncated") }
    static func trailingData(after what: String) -> KeyError {
        KeyError(.trailingData, "unexpected bytes after the \(what)")
    }
    static func invalidBase64(_ what: String) -> KeyError { KeyError(.invalidBase64, "\(what) is not valid base64") }
    static func unsupportedKeyType(_ name: String) -> KeyError {
        if name == "ssh-ed448" {
            // PuTTY makes them; OpenSSH does not know them, and no maintained Swift package implements Ed448.
            return KeyError(
                .unsupportedKeyType, "Ed448 keys (ssh-ed448) are not supported: only PuTTY makes them, and no package here implements Ed448")
        }
        return KeyError(.unsupportedKeyType, "unknown key type \"\(printable(name))\"")
    }
    static func invalidKey(_ reason: String) -> KeyError { KeyError(.invalidKey, reason) }
    static func typeMismatch(outer: String, inner: String) -> KeyError {
        KeyError(.typeMismatch, "key type \"\(printable(outer))\" does not match the encoded key's type \"\(printable(inner))\"")
    }
    static func unsupportedCipher(_ name: String) -> KeyError {
        KeyError(.unsupportedCipher, "unknown cipher \"\(printable(name))\"")
    }
    static func unsupportedKDF(_ name: String) -> KeyError {
        KeyError(.unsupportedKDF, "unknown key derivation function \"\(printable(name))\"")
    }
    static func invalidParameter(_ reason: String) -> KeyError { KeyError(.invalidParameter, reason) }
    static let passphraseRequired = KeyError(.passphraseRequired, "the key is encrypted and no passphrase was given")
    static let wrongPassphrase = KeyError(.wrongPassphrase, "wrong passphrase")
    static func corrupt(_ reason: String) -> KeyError { KeyError(.corrupt, reason) }
    static func invalidOption(_ reason: String) -> KeyError { KeyError(.invalidOption, reason) }
    static func forbiddenCharacter(in what: String) -> KeyError {
        KeyError(.forbiddenCharacter, "\(what) contains a line break, NUL or other control character")
    }
    static func tooLarge(_ what: String, limit: Int) -> KeyError {
        KeyError(.tooLarge, "\(what) is larger than \(limit) bytes")
    }
    static func unsupportedOperation(_ reason: String) -> KeyError { KeyError(.unsupportedOperation, reason) }

    /// Shows untrusted text in an error message safely: at most `limit` Unicode scalars (then `…`), and every
    /// scalar `isShown` refuses written as `\u{hex}`. The one escaper of text for messages: the registry's,
    /// the client's and the agent's errors all use it.
    ///
    /// - Parameters:
    ///   - text: the untrusted text.
    ///   - limit: how many scalars to show at most; 64 by default.
    ///   - isShown: which scalars appear as they are; by default all but C0 and C1 controls, DEL, U+2028
    ///     and U+2029.
    public static func printable(
        _ text: some StringProtocol, limit: Int = 64, showing isShown: (Unicode.Scalar) -> Bool = KeyError.isShownAsIs
    ) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if isShown(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }

    /// Whether ``printable(_:showing:)`` shows `scalar` as it is by default: not a C0 or C1 control, DEL,
    /// U+2028 or U+2029.
    public static func isShownAsIs(_ scalar: Unicode.Scalar) -> Bool {
        !(scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029)
    }
}
