/// Reads files that hold many public keys, one per line (plain key files, authorized_keys, known_hosts),
/// line by line as `ssh-keygen -l` reads them, so that what it finds agrees with `ssh-keygen` exactly.
///
/// For each line: blank lines and `#` comments are skipped; a bare key is tried first; otherwise the first
/// field (host names, or authorized_keys options with their quotes) is skipped and the key is tried again.
/// Lines marked `@cert-authority` or `@revoked` hold no key for this purpose, as for ssh-keygen.
public struct KeyListScanner: Sendable {
    /// One line and what it holds. Ranges index the scanned byte array.
    public struct Line: Sendable {
        /// 1-based line number.
        public var number: Int
        /// The line, without its line feed.
        public var range: Range<Int>
        /// The key, when the line holds one.
        public var key: PublicKey?
        /// Why a line that is neither blank, a comment nor a marker line holds no key.
        public var error: KeyError?
        /// The first field skipped before the key: host names or authorized_keys options (or a marker).
        public var prefix: Range<Int>?
        /// The text after the key, when there is some and it does not start with `#`.
        public var comment: Range<Int>?

        /// Blank, a `#` comment, or a known_hosts marker line.
        public var isSkipped: Bool { key == nil && error == nil }
    }

    /// Whether lines are read exactly as `ssh-keygen -l` reads them: each line ends at its first NUL (ssh-keygen
    /// handles it as a C string) and may be of any length. Otherwise a NUL is an error in the line, and a line
    /// longer than ``PublicKey/maximumLineLength`` is refused.
    public var readsAsSSHKeygen = false

    /// Makes a scanner; it holds no state, so one scanner can scan any number of inputs.
    public init() {}

    /// Makes a scanner that reads lines exactly as `ssh-keygen -l` does (see ``readsAsSSHKeygen``).
    public init(readingAsSSHKeygen: Bool) {
        readsAsSSHKeygen = readingAsSSHKeygen
    }

    /// Calls `body` with each line.
    public func scan(_ bytes: [UInt8], _ body: (Line) -> Void) {
        var number = 0
        var start = 0
        while start < bytes.count {
            number += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            body(scanLine(bytes, start: start, end: end, number: number))
            start = end + 1
        }
    }

    /// One line, `bytes[start..<end]` without its line feed.
    public func scanLine(_ bytes: [UInt8], start: Int, end lineEnd: Int, number: Int = 1) -> Line {
        var line = Line(number: number, range: start..<lineEnd)
        // ssh-keygen sees a line only up to its first NUL.
        let end = readsAsSSHKeygen ? (bytes[start..<lineEnd].firstIndex(of: 0) ?? lineEnd) : lineEnd
        var cursor = start
        while cursor < end, Trimming.isBlank(bytes[cursor]) { cursor += 1 }
        if cursor == end || bytes[cursor] == UInt8(ascii: "#") { return line }
        guard readsAsSSHKeygen || end - start <= PublicKey.maximumLineLength else {
            line.error = KeyError.tooLarge("line", limit: PublicKey.maximumLineLength)
            return line
        }
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
            guard !startsWithNumberAndBlank(bytes, at: cursor, end: end) else {
                line.error = firstError ?? KeyError.invalidFormat("not a public key")
                return line
            }
            let fieldStart = cursor
            var quoted = false
            while cursor < end, quoted || !Trimming.isBlank(bytes[cursor]) {
                if bytes[cursor] == UInt8(ascii: "\\"), cursor + 1 < end, bytes[cursor + 1] == UInt8(ascii: "\"") {
                    cursor += 1
                } else if bytes[cursor] == UInt8(ascii: "\"") {
                    quoted.toggle()
                }
                cursor += 1
            }
            guard cursor < end else {
                let notAKey = KeyError.invalidFormat("not a public key")
                line.error = startsWithKeyType ? (firstError ?? notAKey) : notAKey
                return line
            }
            line.prefix = fieldStart..<cursor
            cursor += 1
            do {
                found = try OpenSSHKeyText.readKey(bytes, from: cursor, end: end)
            } catch {
                let marker = String(decoding: bytes[fieldStart..<(cursor - 1)], as: UTF8.self)
                if marker == "@cert-authority" || marker == "@revoked" { return line }
                // Report the error of the attempt that looked like a key.
                line.error = startsWithKeyType ? (firstError ?? error) : error
                return line
            }
        }
        guard let (key, keyEnd) = found else { return line }
        line.key = key
        cursor = keyEnd
        while cursor < end, Trimming.isBlank(bytes[cursor]) { cursor += 1 }
        if cursor < end, bytes[cursor] != UInt8(ascii: "#") { line.comment = cursor..<end }
        return line
    }

    private func startsWithKnownType(_ bytes: [UInt8], at start: Int, end: Int) -> Bool {
        var index = start
        while index < end, !Trimming.isBlank(bytes[index]) { index += 1 }
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
        return index > digitsStart && nonZero && index < end && Trimming.isBlank(bytes[index])
    }
}
