extension PublicKey {
    /// The longest RFC 4716 text we read: a 64 KiB key blob in base64 with room for headers.
    public static let maximumRFC4716Length = 128 * 1024

    /// Reads an RFC 4716 ("SSH2") public key, as `ssh-keygen -e` and `puttygen -O public` write it.
    ///
    /// ```
    /// ---- BEGIN SSH2 PUBLIC KEY ----
    /// Comment: "256-bit ED25519, converted by me@host from OpenSSH"
    /// AAAAC3NzaC1lZDI1NTE5AAAAIF...
    /// ---- END SSH2 PUBLIC KEY ----
    /// ```
    ///
    /// Lines may end in LF, CR or CRLF. Header lines are `Tag: value`; tags are compared without regard to
    /// case; a header line ending in `\` continues on the next line; headers other than `Comment` (such as
    /// `Subject` and private `x-` tags) are ignored, as RFC 4716 section 3.3 asks. The `Comment` value becomes
    /// the key's comment: matching outer double quotes are removed, and inside them a backslash escapes the
    /// next character (PuTTYgen writes `\"` and `\\`). A comment with a line break, NUL or other control
    /// character is refused (see ``CommentPolicy``), as is a second `Comment` header. Body lines may have any
    /// length; the base64 must be strict (padding required). Blank lines before the begin marker, between the
    /// headers and the body, and after the end marker are allowed; any other text outside the markers is not.
    public init(rfc4716 text: String) throws(KeyError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maximumRFC4716Length else {
            throw KeyError.tooLarge("RFC 4716 text", limit: Self.maximumRFC4716Length)
        }
        self = try RFC4716.read(bytes)
    }

    /// This key as RFC 4716 text, byte for byte what `ssh-keygen -e -f key.pub` writes when given the same
    /// comment: the begin marker, a `Comment: "..."` header, the base64 body wrapped at 70 columns, the end
    /// marker, each line ending in LF.
    ///
    /// `comment` defaults to the key's comment; an empty comment leaves the header out. Inside the quotes,
    /// `"` and `\` are escaped with a backslash (as PuTTYgen writes them). A header line longer than the
    /// 72 bytes RFC 4716 allows is continued on the next line with a trailing `\`; the breaks are chosen so
    /// that `ssh-keygen -i` still reads the file (no continuation line contains `": "` or starts with
    /// `----`). Characters ``CommentPolicy`` forbids (line breaks, NUL, other controls) are never written:
    /// each is replaced by U+FFFD. A comment longer than the 1024 bytes RFC 4716 allows a header value is
    /// cut at a character boundary to fit.
    public func rfc4716Text(comment: String? = nil) -> String {
        var out = [UInt8]()
        out += RFC4716.beginMarker
        out.append(0x0A)
        var text = comment ?? self.comment
        while text.utf8.count > RFC4716.maximumValueLength { text.unicodeScalars.removeLast() }
        if !text.isEmpty {
            for line in RFC4716.quotedHeaderLines(tag: "Comment", value: text) {
                out += line
                out.append(0x0A)
            }
        }
        for line in Base64.lines(wireBytes, width: RFC4716.bodyColumns) {
            out += line.utf8
            out.append(0x0A)
        }
        out += RFC4716.endMarker
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 4716 ("The Secure Shell (SSH) Public Key File Format") reading and writing.
enum RFC4716 {
    static let beginMarker = Array("---- BEGIN SSH2 PUBLIC KEY ----".utf8)
    static let endMarker = Array("---- END SSH2 PUBLIC KEY ----".utf8)
    /// The longest line RFC 4716 section 3 allows, without its line terminator.
    static let maximumLineLength = 72
    /// The column at which `ssh-keygen -e` wraps the body.
    static let bodyColumns = 70
    /// RFC 4716 section 3.3: header tags are at most 64 bytes, header values at most 1024.
    static let maximumTagLength = 64
    static let maximumValueLength = 1024
    /// A value as written: quotes and a backslash before each quote, backslash and continuation dash.
    static let maximumRawValueLength = 3 * maximumValueLength

    private static let colon = UInt8(ascii: ":")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    // MARK: Reading

    static func read(_ bytes: [UInt8]) throws(KeyError) -> PublicKey {
        let lines = splitLines(bytes)
        var index = 0
        func isBlankLine(_ line: ArraySlice<UInt8>) -> Bool { line.allSatisfy(Trimming.isBlank) }

        while index < lines.count, isBlankLine(lines[index]) { index += 1 }
        guard index < lines.count else { throw KeyError.invalidFormat("the text holds no RFC 4716 public key") }
        guard Array(lines[index].trimmingBlanks()) == beginMarker else {
            throw KeyError.invalidFormat("the text does not start with \"---- BEGIN SSH2 PUBLIC KEY ----\"")
                .at("line \(index + 1)")
        }
        index += 1

        // Headers: every line with a colon before the body starts (RFC 4716 section 3.3).
        var comment: String?
        while index < lines.count, lines[index].contains(colon), !lines[index].starts(with: Array("----".utf8)) {
            let firstLine = index
            var logical = Array(lines[index])
            while logical.last == backslash {
                logical.removeLast()
                index += 1
                guard index < lines.count else {
                    throw KeyError.truncated("the header continued with \"\\\"").at("line \(firstLine + 1)")
                }
                logical += lines[index]
                guard logical.count <= maximumTagLength + 2 + maximumRawValueLength else {
                    throw KeyError.tooLarge("the header", limit: maximumTagLength + 2 + maximumRawValueLength)
                        .at("line \(firstLine + 1)")
                }
            }
            index += 1
            do throws(KeyError) {
                if let value = try header(logical) {
                    guard comment == nil else { throw KeyError.invalidFormat("the text has two Comment headers") }
                    comment = value
                }
            } catch {
                throw error.at("line \(firstLine + 1)")
            }
        }

        // Body: base64 lines up to the end marker.
        var body = [UInt8]()
        var sawEnd = false
        let bodyStart = index
        while index < lines.count {
            let line = lines[index].trimmingBlanks()
            index += 1
            if line.isEmpty { continue }
            if Array(line) == endMarker {
                sawEnd = true
                break
            }
            if line.starts(with: Array("----".utf8)) {
                throw KeyError.invalidFormat("expected \"---- END SSH2 PUBLIC KEY ----\"").at("line \(index)")
            }
            if line.contains(colon) {
                throw KeyError.invalidFormat("a header follows the base64 body").at("line \(index)")
            }
            body += line
        }
        guard sawEnd else { throw KeyError.truncated("the RFC 4716 text (no end marker)") }
        while index < lines.count {
            guard isBlankLine(lines[index]) else {
                throw KeyError.trailingData(after: "end marker").at("line \(index + 1)")
            }
            index += 1
        }
        guard !body.isEmpty else { throw KeyError.invalidFormat("the RFC 4716 text has no key data").at("line \(bodyStart + 1)") }
        guard let blob = Base64.decode(body) else { throw KeyError.invalidBase64("the RFC 4716 body") }
        return try PublicKey(wireBytes: blob, comment: comment ?? "")
    }

    /// Checks one logical header line; returns the comment when it is the Comment header.
    private static func header(_ line: [UInt8]) throws(KeyError) -> String? {
        guard let colonIndex = line.firstIndex(of: colon) else { throw KeyError.invalidFormat("the header has no \":\"") }
        let tag = line[..<colonIndex]
        guard !tag.isEmpty, tag.count <= maximumTagLength, tag.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw KeyError.invalidFormat(
                "the header name \"\(KeyError.printable(String(decoding: tag, as: UTF8.self)))\" is not 1 to 64 printable ASCII characters")
        }
        var value = line[(colonIndex + 1)...].trimmingBlanks()
        // A quoted value may be longer as written (escapes); its unquoted text is limited below.
        let isQuoted = value.count >= 2 && value.first == quote && value.last == quote
        guard value.count <= (isQuoted ? maximumRawValueLength : maximumValueLength) else {
            throw KeyError.tooLarge("the header value", limit: maximumValueLength)
        }
        guard String(decoding: tag, as: UTF8.self).lowercased() == "comment" else { return nil }

        if isQuoted {
            value = value.dropFirst().dropLast()
            var unescaped = [UInt8]()
            unescaped.reserveCapacity(value.count)
            var position = value.startIndex
            while position < value.endIndex {
                if value[position] == backslash, position + 1 < value.endIndex { position += 1 }
                unescaped.append(value[position])
                position += 1
            }
            value = unescaped[...]
        }
        guard value.count <= maximumValueLength else { throw KeyError.tooLarge("the Comment header value", limit: maximumValueLength) }
        guard CommentPolicy.isAcceptable(value) else { throw KeyError.forbiddenCharacter(in: "the Comment header") }
        return String(decoding: value, as: UTF8.self)
    }

    /// Splits at LF, CR or CRLF (RFC 4716 section 3.1). A final line terminator does not start another line.
    static func splitLines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines = [ArraySlice<UInt8>]()
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<index])
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        return lines
    }

    // MARK: Writing

    /// Text that `ssh-keygen -i` acts on anywhere in a header line: it stops at `" END "` and takes the file
    /// for a private key when it sees the private key marker.
    private static let sshKeygenMarkers = [Array(" END ".utf8), Array("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----".utf8)]

    /// `Tag: "value"` as one line, or as several joined by trailing backslashes when longer than 72 bytes.
    ///
    /// `ssh-keygen -i` tells header lines from body lines by `": "` and a leading `----`, stops at a header
    /// line holding `" END "`, and skips one line for each line ending in `\` only when the skipped line is
    /// not itself a header line. So no continuation line may contain `": "` (the line is broken between the
    /// colon and the space instead) or start with `----` (the first dash is written escaped, `\-`, which
    /// readers that unescape quoted values, ours and PuTTYgen's, read back as `-`); and the first line is
    /// broken before it would hold `" END "` or the private key marker (continuation lines may hold them:
    /// ssh-keygen does not look at them). An escape is never split from the character it escapes.
    static func quotedHeaderLines(tag: String, value: String) -> [[UInt8]] {
        // Units that must stay on one line: a character, or a backslash and the character it escapes.
        var units = [[UInt8]]()
        for scalar in value.unicodeScalars {
            let safe = CommentPolicy.isAcceptable(scalar: scalar) ? scalar : "\u{FFFD}"
            var unit = [UInt8]()
            if safe == "\"" || safe == "\\" { unit.append(backslash) }
            unit += Array(String(safe).utf8)
            units.append(unit)
        }
        units.append([quote])

        let prefix = Array(tag.utf8) + [colon, 0x20, quote]

        var lines = [[UInt8]]()
        var current = prefix
        var index = 0
        while index < units.count {
            var unit = units[index]
            let isContinuation = !lines.isEmpty
            if isContinuation, current.isEmpty, unit == [UInt8(ascii: "-")], index + 3 < units.count,
                units[(index + 1)...(index + 3)].allSatisfy({ $0 == [UInt8(ascii: "-")] })
            {
                unit = [backslash, UInt8(ascii: "-")]
            }
            // Room for a trailing backslash unless this is the last unit.
            let limit = index == units.count - 1 ? maximumLineLength : maximumLineLength - 1
            let splitsColonSpace = isContinuation && unit == [0x20] && current.last == colon
            let completesMarker = !isContinuation && sshKeygenMarkers.contains { (current + unit).suffix($0.count).elementsEqual($0) }
            if !current.isEmpty, current.count + unit.count > limit || splitsColonSpace || completesMarker {
                lines.append(current + [backslash])
                current = []
                continue
            }
            current += unit
            index += 1
        }
        lines.append(current)
        return lines
    }
}
