/// Reads files that hold many public keys, one per line (plain key files, authorized_keys, known_hosts),
/// line by line as `ssh-keygen -l` reads them, so that what it finds and the comment it shows agree with
/// `ssh-keygen` exactly.
///
/// For each line: blank lines and `#` comments are skipped; a bare key is tried first; otherwise the first
/// field (host names, or authorized_keys options with their quotes) is skipped and the key is tried again.
/// The comment shown is the text after the key, or else that first field. Lines marked `@cert-authority`
/// or `@revoked` are skipped, as ssh-keygen does.
public struct KeyListScanner: Sendable {
    /// What one line holds.
    public enum Line: Sendable {
        /// A key, with the comment `ssh-keygen -l` shows (raw bytes, not yet sanitised), nil for "no comment".
        case key(PublicKey, comment: ArraySlice<UInt8>?)
        /// Blank, a `#` comment, or a known_hosts marker line.
        case skipped
        /// Not a key; the error says why.
        case invalid(KeyError)
    }

    public init() {}

    /// Calls `body` with each line's 1-based number and what it holds.
    public func scan(_ bytes: [UInt8], _ body: (Int, Line) -> Void) {
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            body(lineNumber, scanLine(bytes, start: start, end: end))
            start = end + 1
        }
    }

    /// One line, `bytes[start..<end]` without its line feed.
    public func scanLine(_ bytes: [UInt8], start: Int, end: Int) -> Line {
        var cursor = start
        while cursor < end, OpenSSHKeyText.isBlank(bytes[cursor]) { cursor += 1 }
        if cursor == end || bytes[cursor] == UInt8(ascii: "#") { return .skipped }
        guard end - start <= PublicKey.maximumLineLength else {
            return .invalid(KeyError.tooLarge("line", limit: PublicKey.maximumLineLength))
        }
        var comment: ArraySlice<UInt8>?
        var found: (key: PublicKey, end: Int)?
        var firstError: KeyError?
        let startsWithKeyType = startsWithKnownType(bytes, at: cursor, end: end)
        do {
            found = try OpenSSHKeyText.readKey(bytes, from: cursor, end: end)
        } catch {
            firstError = error
        }
        if found == nil {
            // A line that starts with a number and a blank is an SSH-1 key: not retried (as ssh-keygen).
            if !startsWithNumberAndBlank(bytes, at: cursor, end: end) {
                let fieldStart = cursor
                var quoted = false
                while cursor < end, quoted || !OpenSSHKeyText.isBlank(bytes[cursor]) {
                    if bytes[cursor] == UInt8(ascii: "\\"), cursor + 1 < end, bytes[cursor + 1] == UInt8(ascii: "\"") {
                        cursor += 1
                    } else if bytes[cursor] == UInt8(ascii: "\"") {
                        quoted.toggle()
                    }
                    cursor += 1
                }
                if cursor == end {
                    return .invalid(startsWithKeyType ? (firstError ?? KeyError.invalidFormat("not a public key")) : KeyError.invalidFormat("not a public key"))
                }
                comment = bytes[fieldStart..<cursor]
                cursor += 1
                if bytes[fieldStart] == UInt8(ascii: "@") {
                    let marker = String(decoding: bytes[fieldStart..<(cursor - 1)], as: UTF8.self)
                    if marker == "@cert-authority" || marker == "@revoked" { return .skipped }
                }
                do {
                    found = try OpenSSHKeyText.readKey(bytes, from: cursor, end: end)
                } catch {
                    // Report the error of the attempt that looked like a key.
                    return .invalid(startsWithKeyType ? (firstError ?? error) : error)
                }
            }
        }
        guard let (key, keyEnd) = found else {
            return .invalid(firstError ?? KeyError.invalidFormat("not a public key"))
        }
        cursor = keyEnd
        while cursor < end, OpenSSHKeyText.isBlank(bytes[cursor]) { cursor += 1 }
        if cursor < end, bytes[cursor] != UInt8(ascii: "#") { comment = bytes[cursor..<end] }
        return .key(key, comment: comment)
    }

    private func startsWithKnownType(_ bytes: [UInt8], at start: Int, end: Int) -> Bool {
        var index = start
        while index < end, !OpenSSHKeyText.isBlank(bytes[index]) { index += 1 }
        return KeyType.named(String(decoding: bytes[start..<index], as: UTF8.self)) != nil
    }

    /// `strtol` finds a non-zero number followed by a blank.
    private func startsWithNumberAndBlank(_ bytes: [UInt8], at start: Int, end: Int) -> Bool {
        var index = start
        if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        var nonZero = false
        while index < end, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            if bytes[index] != UInt8(ascii: "0") { nonZero = true }
            index += 1
        }
        return index > digitsStart && nonZero && index < end && OpenSSHKeyText.isBlank(bytes[index])
    }
}
