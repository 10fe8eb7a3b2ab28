public import SSHKeys

/// Something the user should know about an accepted key.
public struct ImportWarning: Hashable, Sendable, CustomStringConvertible {
    /// A stable identifier for a kind of warning.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        /// The code as it appears in problem documents and logs.
        public var rawValue: String
        /// A code from its text.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// A private key was submitted: only its public key was kept.
        public static let privateKeyDiscarded = Code(rawValue: "private-key-discarded")
    }

    /// The stable kind of warning.
    public var code: Code
    /// What happened, in one sentence without a trailing period.
    public var message: String

    /// The message.
    public var description: String { message }

    static let privateKeyDiscarded = ImportWarning(
        code: .privateKeyDiscarded,
        message: "a private key was submitted: only its public key was kept and the private key was discarded, "
            + "but it has left your machine, so consider replacing it")
}

/// A key accepted by ``KeyImport/parse(text:)``: the parsed value, never the submitted text.
public struct ImportedKey: Hashable, Sendable {
    /// The format the key was submitted in.
    public enum Format: Hashable, Sendable {
        /// An OpenSSH public key line, `type base64 [comment]`.
        case openSSH
        /// An RFC 4716 ("SSH2") public key, as `ssh-keygen -e` and `puttygen -O public` write it.
        case rfc4716
        /// A PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, as `ssh-keygen -e -m PKCS8` prints it).
        case pkcs8PEM
        /// A PEM `RSA PUBLIC KEY` (PKCS#1, as `ssh-keygen -e -m PEM` prints it).
        case pkcs1PEM
        /// A private key file (openssh-key-v1, PEM, PKCS#8 or PuTTY .ppk) of which only the public key was kept.
        case privateKey(PrivateKeyFormat)
    }

    /// The key, re-encoded from its numbers, without comment.
    public let publicKey: PublicKey
    /// The comment that came with the key (blanks at either end removed); empty when there was none.
    public let comment: String
    /// The format it came in.
    public let format: Format
    /// What the user should be told (a discarded private key).
    public let warnings: [ImportWarning]

    /// The canonical OpenSSH line, rendered from the value: what the registry stores.
    public var openSSHLine: String {
        // The comment passed CommentPolicy when the key was imported.
        ((try? publicKey.withComment(comment)) ?? publicKey).openSSHLine
    }
    /// The key type.
    public var type: KeyType { publicKey.type }
    /// The key size as `ssh-keygen -l` prints it.
    public var bits: Int { publicKey.bits }
}

/// The registry's import policy: one key, in any format SSHKeys reads, checked and made canonical.
///
/// Accepted: an OpenSSH public key line; RFC 4716; PEM `PUBLIC KEY` (PKCS#8/X.509) and `RSA PUBLIC KEY`
/// (PKCS#1); a private key file (openssh-key-v1, PEM, PKCS#8 or PuTTY .ppk), of which only the public key is
/// kept, with a warning (an encrypted one only when it carries its public key in the clear, as
/// openssh-key-v1 and .ppk do). Blanks and line breaks around the text are ignored, as is a leading BOM.
///
/// Refused, each with its own ``PolicyError/Code-swift.struct`` and nothing kept:
/// - more than ``maximumInputLength`` bytes: `input-too-large`;
/// - nothing but blanks: `no-key`;
/// - two keys or more, in any formats, also when a line break, NUL, NEL (U+0085) or U+2028 hides the second
///   in the first one's comment, or the comment itself is a key: `multiple-keys`;
/// - a line break or other control character inside an OpenSSH line (key or comment), or a control
///   character other than line breaks and tabs in a multi-line format: `forbidden-character`;
/// - anything before an OpenSSH key (authorized_keys options such as `command="..."`, host names):
///   `options-not-allowed`;
/// - RSA under 2048 bits: `weak-rsa-key`; DSA: `dsa-key`; an OpenSSH certificate: `certificate-not-key`;
///   a key type SSH or we do not know: `unknown-key-type`;
/// - an encrypted PEM/PKCS#8 private key: `encrypted-private-key`;
/// - anything else that is not a valid key: `invalid-key`, with the SSHKeys error in
///   ``PolicyError/underlying``.
public enum KeyImport {
    /// The largest submission accepted: 16 KiB (a 16384-bit RSA private key in PEM is about 12 KiB).
    public static let maximumInputLength = 16 * 1024

    /// Parses and checks one submitted key given as the bytes of a request body or file: the size is checked
    /// first, then the bytes must be UTF-8 (``PolicyError/Code-swift.struct/invalidKey`` otherwise, as for
    /// a DER or binary key), then ``parse(text:)``.
    public static func parse(bytes: [UInt8]) throws(PolicyError) -> ImportedKey {
        guard bytes.count <= maximumInputLength else { throw PolicyError.inputTooLarge(bytes.count, limit: maximumInputLength) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw PolicyError.invalidKey(reason: "the submission is not UTF-8 text (a DER or other binary key is not read)")
        }
        return try parse(text: text)
    }

    /// Parses and checks one submitted key (see ``KeyImport`` for every rule).
    public static func parse(text: String) throws(PolicyError) -> ImportedKey {
        let size = text.utf8.count
        guard size <= maximumInputLength else { throw PolicyError.inputTooLarge(size, limit: maximumInputLength) }
        let trimmed = trim(text)
        guard !trimmed.isEmpty else { throw PolicyError.noKey }
        let count = countKeys(trimmed)
        guard count <= 1 else { throw PolicyError.multipleKeys(count) }

        var key: PublicKey
        let format: ImportedKey.Format
        var warnings = [ImportWarning]()
        if PrivateKeyDocument.looksLikePrivateKey(trimmed) {
            try checkArmored(trimmed)
            let (publicKey, privateFormat) = try readPrivateKey(trimmed)
            key = publicKey
            format = .privateKey(privateFormat)
            warnings.append(.privateKeyDiscarded)
        } else if trimmed.hasPrefix("---- BEGIN SSH2 PUBLIC KEY ----") {
            try checkArmored(trimmed)
            key = try mapping { () throws(KeyError) in try PublicKey(rfc4716: String(trimmed)) }
            format = .rfc4716
        } else if trimmed.hasPrefix("-----BEGIN PUBLIC KEY-----") || trimmed.hasPrefix("-----BEGIN RSA PUBLIC KEY-----") {
            try checkArmored(trimmed)
            key = try mapping { () throws(KeyError) in try PublicKey(pem: String(trimmed)) }
            format = trimmed.hasPrefix("-----BEGIN PUBLIC KEY-----") ? .pkcs8PEM : .pkcs1PEM
        } else if trimmed.hasPrefix("-----BEGIN ") {
            throw PolicyError.invalidKey(
                reason: "the PEM block is neither a public nor a private key (expected PUBLIC KEY, RSA PUBLIC KEY or a private key)")
        } else {
            key = try readOpenSSHLine(trimmed)
            format = .openSSH
        }

        try KeyPolicy.check(key)
        let comment = try cleanComment(key.comment)
        let canonical = try mapping { () throws(KeyError) in try PublicKey(material: key.material) }
        key = canonical
        return ImportedKey(publicKey: key, comment: comment, format: format, warnings: warnings)
    }

    /// Throws ``PolicyError/Code-swift.struct/expiryInPast`` unless `expiry` is after `now`, and
    /// ``PolicyError/Code-swift.struct/invalidExpiry`` outside what authorized_keys can express.
    public static func checkNewExpiry(_ expiry: UInt64, now: UInt64) throws(PolicyError) {
        try ExpiryTime.validate(expiry)
        guard expiry > now else {
            throw PolicyError(.expiryInPast, "the expiry \(expiry) is not in the future (now is \(now), seconds since 1970 UTC)", field: "expiry")
        }
    }

    // MARK: - Steps

    /// `text` without surrounding blanks and line breaks and without a leading BOM.
    static func trim(_ text: String) -> Substring {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        func isOuterBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" }
        while let first = scalars.first, isOuterBlank(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, isOuterBlank(last) { scalars = scalars.dropLast() }
        return Substring(scalars)
    }

    /// How many keys `text` holds: armoured blocks (PEM, RFC 4716, PuTTY), plus every piece between line
    /// breaks or control characters that reads as an OpenSSH key line (bare or after options), plus a key
    /// in such a line's comment.
    static func countKeys(_ text: Substring) -> Int {
        var count =
            occurrences(of: "-----BEGIN ", in: text) + occurrences(of: "---- BEGIN SSH2 PUBLIC KEY ----", in: text)
            + occurrences(of: "PuTTY-User-Key-File-", in: text)
        let scanner = KeyListScanner()
        for piece in text.unicodeScalars.split(whereSeparator: TextPolicy.isSeparator) {
            let bytes = Array(Substring(piece).utf8)
            let line = scanner.scanLine(bytes, start: 0, end: bytes.count)
            guard line.key != nil else { continue }
            count += 1
            if let comment = line.comment {
                let rest = Array(bytes[comment])
                if scanner.scanLine(rest, start: 0, end: rest.count).key != nil { count += 1 }
            }
        }
        return count
    }

    static func occurrences(of needle: String, in text: Substring) -> Int {
        var count = 0
        var rest = text[...]
        while let range = rest.firstRange(of: needle) {
            count += 1
            rest = rest[range.upperBound...]
        }
        return count
    }

    /// A multi-line format: no control character other than line breaks and tabs, nothing after its end.
    static func checkArmored(_ text: Substring) throws(PolicyError) {
        if text.unicodeScalars.contains(where: { TextPolicy.isSeparator($0) && $0 != "\n" && $0 != "\r" }) {
            throw PolicyError.forbiddenCharacter(in: "the key text", field: "key")
        }
        let lastLine = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).last.map(String.init) ?? ""
        let ends: Bool
        if text.hasPrefix("PuTTY-User-Key-File-") {
            ends = lastLine.hasPrefix("Private-MAC: ")
        } else if text.hasPrefix("---- BEGIN SSH2 PUBLIC KEY ----") {
            ends = lastLine == "---- END SSH2 PUBLIC KEY ----"
        } else {
            ends = lastLine.hasPrefix("-----END ") && lastLine.hasSuffix("-----")
        }
        guard ends else { throw PolicyError.invalidKey(reason: "there is text after the end of the key") }
    }

    /// The public key of a private key file, and the file's format.
    static func readPrivateKey(_ text: Substring) throws(PolicyError) -> (PublicKey, PrivateKeyFormat) {
        let document = try mapping { () throws(KeyError) in try PrivateKeyDocument(text: String(text)) }
        let info = document.info
        if !info.isEncrypted {
            let privateKey = try mapping { () throws(KeyError) in try document.decrypt(passphrase: nil) }
            return (privateKey.publicKey, info.format)
        }
        guard var key = info.publicKey else { throw PolicyError.encryptedPrivateKey }
        if let comment = info.comment { key = try mapping { () throws(KeyError) in try key.withComment(comment) } }
        return (key, info.format)
    }

    /// One OpenSSH public key line, after the multiple-key check.
    static func readOpenSSHLine(_ text: Substring) throws(PolicyError) -> PublicKey {
        guard !text.unicodeScalars.contains(where: TextPolicy.isSeparator) else {
            throw PolicyError.forbiddenCharacter(in: "the key or its comment", field: "key")
        }
        let bytes = Array(text.utf8)
        let scanned = KeyListScanner().scanLine(bytes, start: 0, end: bytes.count)
        if scanned.key != nil, scanned.prefix != nil { throw PolicyError.optionsNotAllowed }
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if scanned.key == nil, tokens.dropFirst().contains(where: { KeyType.named(String($0)) != nil }) {
            throw PolicyError.optionsNotAllowed
        }
        do {
            return try PublicKey(openSSHLine: String(text))
        } catch {
            switch error.code {
            case .forbiddenCharacter:
                throw PolicyError.forbiddenCharacter(in: "the key comment", field: "key")
            default:
                // An unknown name before something base64 is an unknown key type; "hello world" is no key.
                if let first = tokens.first, KeyType.named(String(first)) == nil {
                    if tokens.count >= 2, looksLikeTypeName(first), looksLikeBase64(tokens[1]) {
                        throw PolicyError.unknownKeyType(String(first))
                    }
                    throw PolicyError.invalidKey(reason: "the text is not a public key in any format we read (OpenSSH, RFC 4716, PEM, PKCS#8, PuTTY)")
                }
                if error.code == .unsupportedKeyType {
                    throw PolicyError(.unknownKeyType, error.reason, field: "key", underlying: error)
                }
                throw PolicyError.invalidKey(error)
            }
        }
    }

    /// `ssh-foo`, `foo@example.com`: lower-case letters, digits and `-.@`, with a `-` or `@`.
    static func looksLikeTypeName(_ token: Substring) -> Bool {
        token.utf8.count <= 64 && token.contains(where: { $0 == "-" || $0 == "@" })
            && token.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." || $0 == "@" }
    }

    static func looksLikeBase64(_ token: Substring) -> Bool {
        token.utf8.count >= 16
            && token.unicodeScalars.allSatisfy {
                ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || "+/=".unicodeScalars.contains($0)
            }
    }

    /// The comment without surrounding blanks, checked.
    static func cleanComment(_ comment: String) throws(PolicyError) -> String {
        var text = Substring(comment)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        try SSHKeyRecord.validate(comment: text, field: "key")
        return String(text)
    }

    /// Runs an SSHKeys reader, turning its error into the matching refusal.
    static func mapping<Value>(_ body: () throws(KeyError) -> Value) throws(PolicyError) -> Value {
        do {
            return try body()
        } catch {
            switch error.code {
            case .unsupportedKeyType: throw PolicyError(.unknownKeyType, error.reason, field: "key", underlying: error)
            case .forbiddenCharacter: throw PolicyError.forbiddenCharacter(in: "the key comment", field: "key")
            case .passphraseRequired: throw PolicyError.encryptedPrivateKey
            default: throw PolicyError.invalidKey(error)
            }
        }
    }
}
