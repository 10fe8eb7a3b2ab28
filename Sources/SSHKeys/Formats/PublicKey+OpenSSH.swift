extension PublicKey {
    /// The longest OpenSSH public key line we read (OpenSSH's own limit for authorized_keys lines is 16 KiB;
    /// a 16384-bit RSA certificate line is about 6 KiB).
    public static let maximumLineLength = 64 * 1024

    /// Parses one OpenSSH public key line, `type base64 [comment]`, as `ssh-keygen` and sshd read it.
    ///
    /// One trailing line break is allowed. The comment may not hold line breaks, NUL or other control
    /// characters (see ``CommentPolicy``), so a comment can never smuggle a second key or options.
    public init(openSSHLine line: String) throws(KeyError) {
        var bytes = Array(line.utf8)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count <= Self.maximumLineLength else {
            throw KeyError.tooLarge("public key line", limit: Self.maximumLineLength)
        }
        let (key, end) = try OpenSSHKeyText.readKey(bytes, from: 0)
        let comment = bytes[end...].trimmingBlanks(trailingCR: true)
        guard CommentPolicy.isAcceptable(comment) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        self = key
        self.comment = String(decoding: comment, as: UTF8.self)
    }

    /// The OpenSSH one-line form, `type base64 comment`, without a line break. The comment is left out
    /// when empty.
    public var openSSHLine: String {
        var line = typeName
        line += " "
        line += Base64.encode(wireBytes)
        if !comment.isEmpty {
            line += " "
            line += comment
        }
        return line
    }

    /// The same key with another comment; throws when the comment has a forbidden character.
    public func withComment(_ newComment: String) throws(KeyError) -> PublicKey {
        guard CommentPolicy.isAcceptable(newComment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        var copy = self
        copy.comment = newComment
        return copy
    }
}

/// Which characters a key comment may hold when it is rendered into a key line.
public enum CommentPolicy {
    /// False when `text` has a C0 or C1 control character (tab, CR, LF and NUL included), DEL, a Unicode
    /// line or paragraph separator, a bidirectional override, or is not UTF-8.
    public static func isAcceptable(_ text: some Collection<UInt8>) -> Bool {
        // Fast path: printable ASCII only.
        if text.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return true }
        guard let string = String(validating: text, as: UTF8.self) else { return false }
        return string.unicodeScalars.allSatisfy(isAcceptable(scalar:))
    }

    /// `bytes` as text ``isAcceptable(_:)`` accepts: themselves when they are, else with every scalar it refuses
    /// and every byte that is not UTF-8 written as `\ooo` octal, as `ssh-keygen -l` shows such bytes.
    public static func displayText(_ bytes: some Collection<UInt8>) -> String {
        if isAcceptable(bytes) { return String(decoding: bytes, as: UTF8.self) }
        let input = Array(bytes)
        var out = ""
        var index = 0
        func octal(_ byte: UInt8) -> String { "\\" + String(byte >> 6) + String((byte >> 3) & 7) + String(byte & 7) }
        while index < input.count {
            guard let (scalar, length) = scalar(in: input, at: index) else {
                out += octal(input[index])
                index += 1
                continue
            }
            if isAcceptable(scalar: scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                for byte in input[index..<index + length] { out += octal(byte) }
            }
            index += length
        }
        return out
    }

    /// The scalar whose UTF-8 encoding starts at `index`, with its length; nil for a byte that starts none.
    private static func scalar(in bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length = lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0
        guard length > 0, index + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[index..<index + length].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator), scalar.utf8.count == length else { return nil }
        return (scalar, length)
    }

    /// Whether one scalar may stand in a comment: the rule ``isAcceptable(_:)`` applies to each, and the one
    /// the registry applies to every text it keeps (names, labels, comments).
    public static func isAcceptable(scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F..<0xA0: false
        case 0x2028, 0x2029: false  // line and paragraph separators
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: false  // bidirectional controls
        case 0xFEFF: false
        default: true
        }
    }
}

/// The byte-level reader of `type base64` key text shared by key lines, authorized_keys and known_hosts.
enum OpenSSHKeyText {
    /// Reads `type base64` at `start` (leading blanks skipped) up to `end`, as OpenSSH's `sshkey_read`: the
    /// type name must be known and must match the type inside the blob. Returns the key (without comment)
    /// and the index just after the base64 text.
    static func readKey(_ bytes: [UInt8], from start: Int, end: Int? = nil) throws(KeyError) -> (key: PublicKey, end: Int) {
        let limit = end ?? bytes.count
        var index = start
        while index < limit, Trimming.isBlank(bytes[index]) { index += 1 }
        let typeStart = index
        while index < limit, !Trimming.isBlank(bytes[index]) { index += 1 }
        let typeName = String(decoding: bytes[typeStart..<index], as: UTF8.self)
        guard index < limit else {
            if typeName.isEmpty { throw KeyError.invalidFormat("the line holds no key") }
            if KeyType.named(typeName) == nil {
                throw KeyError.invalidFormat("\"\(KeyError.printable(typeName))\" is not a key")
            }
            throw KeyError.invalidFormat("the key has no base64 data after \"\(KeyError.printable(typeName))\"")
        }
        guard KeyType.named(typeName) != nil else { throw KeyError.unsupportedKeyType(typeName) }
        while index < limit, Trimming.isBlank(bytes[index]) { index += 1 }
        let dataStart = index
        while index < limit, !Trimming.isBlank(bytes[index]) { index += 1 }
        guard index > dataStart else { throw KeyError.invalidFormat("the key has no base64 data after \"\(typeName)\"") }
        var data = bytes[dataStart..<index]
        // OpenSSH's b64_pton skips CR, VT and FF inside the text (a CRLF file leaves a CR here).
        if data.contains(where: { $0 == 0x0D || $0 == 0x0B || $0 == 0x0C }) {
            data = ArraySlice(data.filter { $0 != 0x0D && $0 != 0x0B && $0 != 0x0C })
        }
        guard let blob = Base64.decode(data) else { throw KeyError.invalidBase64("the key data") }
        let key = try PublicKey(wireBytes: blob)
        guard key.typeName == typeName else { throw KeyError.typeMismatch(outer: typeName, inner: key.typeName) }
        return (key, index)
    }
}

extension PublicKey {
    /// Reads `type base64` from `bytes[start..<end]` as OpenSSH's `sshkey_read` does (leading blanks skipped,
    /// the named type must match the blob) and returns the key without comment and the index where the
    /// comment starts (blanks after the key skipped).
    public static func readKeyText(_ bytes: [UInt8], from start: Int, end: Int) throws(KeyError) -> (key: PublicKey, commentStart: Int) {
        var (key, index) = try OpenSSHKeyText.readKey(bytes, from: start, end: end)
        while index < end, Trimming.isBlank(bytes[index]) { index += 1 }
        return (key, index)
    }
}
