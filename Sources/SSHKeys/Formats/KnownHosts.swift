import Crypto

/// One line of a known_hosts file, as OpenSSH 9.2's ssh reads it (hostfile.c, match.c; sshd(8)
/// "SSH_KNOWN_HOSTS FILE FORMAT"): an optional marker, the hosts, a key and a comment.
///
/// A value can only be made through initialisers that check it, so ``line`` never holds a line break,
/// NUL or other control character, and ssh reads back exactly these hosts and this key.
public struct KnownHost: Hashable, Sendable {
    /// The longest line we read or write, without its line break.
    public static let maximumLineLength = PublicKey.maximumLineLength
    /// The salt and hash length of a hashed host name (`|1|`, HMAC-SHA1).
    public static let hashLength = 20
    /// The longest host pattern OpenSSH's `match_pattern_list` uses; a longer one makes the line match
    /// nothing, so we refuse it.
    public static let maximumPatternLength = 1022

    /// `@cert-authority` or `@revoked` before the hosts.
    public enum Marker: String, Hashable, Sendable {
        /// The key is a CA whose host certificates are trusted for these hosts.
        case certAuthority = "@cert-authority"
        /// The key is revoked: ssh refuses it (or certificates it signed) for these hosts.
        case revoked = "@revoked"
    }

    /// Which hosts a line is for.
    public enum Hosts: Hashable, Sendable {
        /// Comma-separated patterns: names or addresses, `[name]:port` for a port other than 22, `*` and `?`
        /// wildcards, and a leading `!` to exclude.
        case patterns([String])
        /// `|1|salt|hash`: HMAC-SHA1 of one host name (or `[name]:port`) keyed by the 20-byte salt.
        case hashed(salt: [UInt8], hash: [UInt8])

        /// The hosts field as written in a line.
        public var text: String {
            switch self {
            case .patterns(let patterns): patterns.joined(separator: ",")
            case .hashed(let salt, let hash): "|1|" + Base64.encode(salt) + "|" + Base64.encode(hash)
            }
        }
    }

    /// The marker, if any.
    public let marker: Marker?
    /// The hosts the line is for.
    public let hosts: Hosts
    /// The host key (or CA key). Its comment is ``comment``.
    public let key: PublicKey
    /// The comment after the key; empty when there is none.
    public var comment: String { key.comment }

    /// Makes a line from its parts.
    ///
    /// - Parameters:
    ///   - marker: `@cert-authority`, `@revoked` or nil.
    ///   - hosts: non-empty patterns without blanks, commas or control characters, at most
    ///     ``maximumPatternLength`` bytes each, the first not starting with `|`, `#` or `@` (which would
    ///     make ssh read the line differently); or a hashed name with a 20-byte salt and hash.
    ///   - key: the key.
    ///   - comment: the comment; nil keeps the key's own comment. Leading and trailing spaces are removed.
    public init(marker: Marker? = nil, hosts: Hosts, key: PublicKey, comment: String? = nil) throws(KeyError) {
        switch hosts {
        case .patterns(let patterns):
            guard !patterns.isEmpty else { throw KeyError.invalidFormat("the line names no host") }
            for pattern in patterns { try Self.validate(pattern: pattern) }
            if let first = patterns.first?.utf8.first,
                first == UInt8(ascii: "|") || first == UInt8(ascii: "#") || first == UInt8(ascii: "@")
            {
                throw KeyError.invalidFormat("the first host pattern may not start with \"|\", \"#\" or \"@\"")
            }
        case .hashed(let salt, let hash):
            guard salt.count == Self.hashLength, hash.count == Self.hashLength else {
                throw KeyError.invalidFormat("a hashed host needs a \(Self.hashLength)-byte salt and hash")
            }
        }
        var text = comment ?? key.comment
        while text.hasPrefix(" ") { text.removeFirst() }
        while text.hasSuffix(" ") { text.removeLast() }
        guard CommentPolicy.isAcceptable(text.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        var copy = key
        copy.comment = text
        self.marker = marker
        self.hosts = hosts
        self.key = copy
        guard line.utf8.count <= Self.maximumLineLength else {
            throw KeyError.tooLarge("the known_hosts line", limit: Self.maximumLineLength)
        }
    }

    /// A hashed line for one host, as `ssh-keygen -H` writes it: the name (lower-cased), or `[name]:port`
    /// when `port` is not 22, hashed with `salt` (20 random bytes the caller supplies).
    public init(hashing host: String, port: Int = 22, salt: [UInt8], key: PublicKey, marker: Marker? = nil) throws(KeyError) {
        let name = Self.hostKey(host, port: port)
        try self.init(marker: marker, hosts: .hashed(salt: salt, hash: try Self.hash(name, salt: salt)), key: key)
    }

    /// Parses one known_hosts line as ssh does.
    ///
    /// One trailing line break is allowed. A marker must be exactly `@cert-authority` or `@revoked`, and
    /// only one may be given. A hosts field starting with `|` must be `|1|salt|hash` with a 20-byte salt and
    /// hash in strict base64; otherwise it is a comma-separated list of patterns. The key is read as
    /// `sshkey_read` reads it; the rest of the line is the comment. A blank or `#` comment line is refused
    /// (``KnownHostsFile`` skips those), as are control characters anywhere, empty host patterns and lines
    /// over ``maximumLineLength``.
    public init(line: String) throws(KeyError) {
        var bytes = Array(line.utf8)
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard bytes.count <= Self.maximumLineLength else {
            throw KeyError.tooLarge("the known_hosts line", limit: Self.maximumLineLength)
        }
        guard !bytes.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
            throw KeyError.forbiddenCharacter(in: "the known_hosts line")
        }
        var index = 0
        func skipBlanks() { while index < bytes.count, Trimming.isBlank(bytes[index]) { index += 1 } }
        func field() -> ArraySlice<UInt8> {
            let start = index
            while index < bytes.count, !Trimming.isBlank(bytes[index]) { index += 1 }
            return bytes[start..<index]
        }
        skipBlanks()
        guard index < bytes.count, bytes[index] != UInt8(ascii: "#") else {
            throw KeyError.invalidFormat("the line holds no key")
        }
        var marker: Marker?
        if bytes[index] == UInt8(ascii: "@") {
            let text = String(decoding: field(), as: UTF8.self)
            guard let known = Marker(rawValue: text) else {
                throw KeyError.invalidFormat("unknown marker \"\(KeyError.printable(text))\"")
            }
            guard index < bytes.count else { throw KeyError.invalidFormat("the marker is not followed by hosts") }
            marker = known
            skipBlanks()
            guard index < bytes.count, bytes[index] != UInt8(ascii: "@") else {
                throw KeyError.invalidFormat("a line may have only one marker, followed by hosts")
            }
        }
        let hostField = field()
        skipBlanks()
        guard index < bytes.count, bytes[index] != UInt8(ascii: "#") else {
            throw KeyError.invalidFormat("the line ends before the key")
        }
        let hosts = try Self.parseHosts(hostField)
        let (key, keyEnd) = try OpenSSHKeyText.readKey(bytes, from: index)
        let comment = bytes[keyEnd...].trimmingBlanks(trailingCR: true)
        guard CommentPolicy.isAcceptable(comment) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        try self.init(marker: marker, hosts: hosts, key: key, comment: String(decoding: comment, as: UTF8.self))
    }

    /// The line, without a line break: marker, hosts, key type, base64 key and comment, separated by single
    /// spaces (marker and comment left out when absent).
    public var line: String {
        var out = ""
        if let marker {
            out += marker.rawValue
            out += " "
        }
        out += hosts.text
        out += " "
        out += key.typeName
        out += " "
        out += Base64.encode(key.wireBytes)
        if !comment.isEmpty {
            out += " "
            out += comment
        }
        return out
    }

    /// Whether this line is for `host` on `port`, as ssh decides when it looks a server up.
    ///
    /// The name looked up is `host` lower-cased (ASCII), or `[host]:port` when `port` is neither 22 nor 0.
    /// A hashed line matches when the HMAC-SHA1 of that name under the line's salt is its hash. A pattern
    /// line matches when some pattern matches the name (`*` any run of bytes, `?` any one byte, compared
    /// without regard to ASCII case) and no negated pattern (`!pattern`) does. The marker is not considered:
    /// a matching `@revoked` line means the key is revoked for this host. These are the lines
    /// `ssh-keygen -F` finds. (When no line at all is for `[host]:port`, ssh then also trusts a line for the
    /// plain `host` that holds the very key the server shows; that fallback is the caller's policy.)
    public func matches(host: String, port: Int = 22) -> Bool {
        let name = Self.hostKey(host, port: port)
        switch hosts {
        case .hashed(let salt, let hash):
            guard let computed = try? Self.hash(name, salt: salt) else { return false }
            return computed == hash
        case .patterns(let patterns):
            return KnownHostPattern.matchList(Array(name.utf8), patterns: patterns) == 1
        }
    }

    /// The same line with one hashed line for each of its host names, as `ssh-keygen -H` rewrites a file.
    ///
    /// A line that is already hashed, has a marker, or has a pattern with `*`, `?` or `!` is returned as it
    /// is (ssh-keygen leaves those alone). Otherwise each comma-separated name becomes its own line, hashed
    /// lower-cased with a fresh salt from `makeSalt` (which must return 20 random bytes).
    public func hashingHostNames(makeSalt: () -> [UInt8]) throws(KeyError) -> [KnownHost] {
        guard marker == nil, case .patterns(let patterns) = hosts,
            !patterns.contains(where: { $0.contains(where: { $0 == "*" || $0 == "?" || $0 == "!" }) })
        else { return [self] }
        var out = [KnownHost]()
        for name in patterns {
            let salt = makeSalt()
            out.append(try KnownHost(hosts: .hashed(salt: salt, hash: try Self.hash(Self.lowercased(name), salt: salt)), key: key))
        }
        return out
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, byte for byte what `ssh-keygen -H` writes for `name`
    /// with this salt; the name is lower-cased (ASCII) first, as ssh-keygen does.
    ///
    /// - Throws: ``KeyError/Code-swift.struct/invalidParameter`` unless `salt` is 20 bytes (ssh reads no other).
    public static func hashedHost(_ name: String, salt: [UInt8]) throws(KeyError) -> String {
        Hosts.hashed(salt: salt, hash: try hash(lowercased(name), salt: salt)).text
    }

    static func hash(_ name: String, salt: [UInt8]) throws(KeyError) -> [UInt8] {
        guard salt.count == hashLength else {
            throw KeyError.invalidParameter("a known_hosts salt must be \(hashLength) bytes, not \(salt.count)")
        }
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Array(name.utf8), using: SymmetricKey(data: salt))
        return Array(code)
    }

    /// The name ssh looks up: lower-cased, in `[host]:port` form for a port other than 22 (`put_host_port`).
    static func hostKey(_ host: String, port: Int) -> String {
        let name = lowercased(host)
        return port == 22 || port == 0 ? name : "[\(name)]:\(port)"
    }

    static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    static func validate(pattern: String) throws(KeyError) {
        var body = Substring(pattern)
        if body.hasPrefix("!") { body = body.dropFirst() }
        guard !body.isEmpty else { throw KeyError.invalidFormat("a host pattern is empty") }
        guard body.utf8.count <= maximumPatternLength else {
            throw KeyError.tooLarge("a host pattern", limit: maximumPatternLength)
        }
        guard CommentPolicy.isAcceptable(pattern.utf8),
            !pattern.utf8.contains(where: { $0 == 0x20 || $0 == UInt8(ascii: ",") })
        else {
            throw KeyError.invalidFormat("the host pattern \"\(KeyError.printable(pattern))\" holds a blank, comma or control character")
        }
    }

    static func parseHosts(_ field: ArraySlice<UInt8>) throws(KeyError) -> Hosts {
        if field.first == UInt8(ascii: "|") {
            let parts = field.split(separator: UInt8(ascii: "|"), omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0].isEmpty, Array(parts[1]) == Array("1".utf8) else {
                throw KeyError.invalidFormat("the hashed host is not \"|1|salt|hash\"")
            }
            guard let salt = Base64.decode(parts[2]), salt.count == hashLength,
                let hash = Base64.decode(parts[3]), hash.count == hashLength
            else {
                throw KeyError.invalidFormat("the hashed host's salt and hash are not \(hashLength) bytes in base64")
            }
            return .hashed(salt: salt, hash: hash)
        }
        let patterns = field.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        return .patterns(patterns)
    }
}

/// A whole known_hosts file.
public struct KnownHostsFile: Sendable {
    /// Parses every line of `text` as ssh reads the file: lines end at LF (a CR before it is dropped); blank
    /// lines and lines whose first non-blank character is `#` are skipped. Each other line gives an entry or
    /// an error located at its 1-based line number (`line N`); a bad line does not stop the others.
    public static func parse(_ text: String) -> [(lineNumber: Int, result: Result<KnownHost, KeyError>)] {
        var results = [(lineNumber: Int, result: Result<KnownHost, KeyError>)]()
        AuthorizedKeysFile.forEachLine(Array(text.utf8)) { number, line in
            do throws(KeyError) {
                results.append((number, .success(try KnownHost(line: String(decoding: line, as: UTF8.self)))))
            } catch {
                results.append((number, .failure(error.at("line \(number)"))))
            }
        }
        return results
    }

    /// The 1-based numbers of the lines that parse and match `host` on `port` (what `ssh-keygen -F` finds).
    public static func lines(matching host: String, port: Int = 22, in text: String) -> [Int] {
        parse(text).compactMap { entry in
            guard case .success(let knownHost) = entry.result, knownHost.matches(host: host, port: port) else { return nil }
            return entry.lineNumber
        }
    }

    /// Renders `entries` as a file: one ``KnownHost/line`` per line, each ending in LF.
    public static func render(_ entries: [KnownHost]) -> String {
        entries.map { $0.line + "\n" }.joined()
    }
}

/// OpenSSH's host pattern matching (`match_pattern`, `match_pattern_list`), without its recursion.
enum KnownHostPattern {
    /// 1 when a pattern matches and no negated one does, -1 when a negated one matches, 0 otherwise.
    /// `name` must already be lower-case; patterns are lower-cased (ASCII) here.
    static func matchList(_ name: [UInt8], patterns: [String]) -> Int {
        var positive = false
        for pattern in patterns {
            var bytes = Array(pattern.utf8)
            var negated = false
            if bytes.first == UInt8(ascii: "!") {
                negated = true
                bytes.removeFirst()
            }
            // OpenSSH gives up on the whole list (no match) when a pattern is 1023 bytes or longer.
            guard bytes.count <= KnownHost.maximumPatternLength else { return 0 }
            let lowered = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
            if matches(name, lowered) {
                if negated { return -1 }
                positive = true
            }
        }
        return positive ? 1 : 0
    }

    /// `*` matches any run of bytes, `?` any one byte, anything else itself. Linear-space, O(n·m) worst case
    /// (the classic backtracking to the last star), same answers as OpenSSH's recursive `match_pattern`.
    static func matches(_ text: [UInt8], _ pattern: [UInt8]) -> Bool {
        var t = 0
        var p = 0
        var starPattern = -1
        var starText = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                starPattern = p
                starText = t
                p += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                t += 1
                p += 1
            } else if starPattern >= 0 {
                p = starPattern + 1
                starText += 1
                t = starText
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
