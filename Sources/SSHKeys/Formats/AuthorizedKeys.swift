/// One option of an authorized_keys line, as OpenSSH 9.2's sshd knows it (`sshauthopt_parse` in
/// auth-options.c; sshd(8) "AUTHORIZED_KEYS FILE FORMAT").
///
/// Values are kept as typed values and rendered canonically by ``AuthorizedKey/line``. A value is checked
/// when an ``AuthorizedKey`` is made from it: text values may not hold line breaks, NUL or other control
/// characters (see ``CommentPolicy``) and may not end in a backslash (sshd would read `\"` as an escaped
/// quote and never find the closing one).
public enum AuthorizedKeyOption: Hashable, Sendable {
    /// `agent-forwarding`: allow agent forwarding again after `restrict`.
    case agentForwarding
    /// `no-agent-forwarding`.
    case noAgentForwarding
    /// `cert-authority`: the key is a certificate authority trusted to sign user certificates.
    case certAuthority
    /// `command="..."`: the command run whatever the client asks for.
    case command(String)
    /// `environment="NAME=value"` (used only when sshd's `PermitUserEnvironment` allows it). The name is
    /// letters, digits and underscores.
    case environment(name: String, value: String)
    /// `expiry-time="YYYYMMDD[HHMM[SS]][Z]"`, kept as written. Without `Z` (or `UTC`) the time is the
    /// server's local time.
    case expiryTime(String)
    /// `from="pattern,..."`: the client's host name or address must match one of these patterns
    /// (`*` and `?` wildcards, `!` to negate, CIDR `addr/len`).
    case from([String])
    /// `port-forwarding`: allow port forwarding again after `restrict`.
    case portForwarding
    /// `no-port-forwarding`.
    case noPortForwarding
    /// `pty`: allow a terminal again after `restrict`.
    case pty
    /// `no-pty`.
    case noPty
    /// `user-rc`: run `~/.ssh/rc` again after `restrict`.
    case userRC
    /// `no-user-rc`.
    case noUserRC
    /// `X11-forwarding`: allow X11 forwarding again after `restrict`.
    case x11Forwarding
    /// `no-X11-forwarding`.
    case noX11Forwarding
    /// `permitlisten="[host:]port"`: a remote forwarding the client may listen on; `port` nil means `*`.
    /// A bare port is read as host `*`, as sshd does.
    case permitListen(host: String, port: Int?)
    /// `permitopen="host:port"`: a local forwarding the client may open; `port` nil means `*`.
    case permitOpen(host: String, port: Int?)
    /// `principals="name,..."`: with `cert-authority`, the certificate principals accepted.
    case principals([String])
    /// `restrict`: turn off every forwarding, the terminal and `~/.ssh/rc`.
    case restrict
    /// `tunnel="n"` or `tunnel="any"`: the tun device the client must use.
    case tunnel(TunnelDevice)
    /// `touch-required`: a FIDO key must prove user presence (the default).
    case touchRequired
    /// `no-touch-required`.
    case noTouchRequired
    /// `verify-required`: a FIDO key must verify the user (PIN or biometrics).
    case verifyRequired
    /// `no-verify-required`.
    case noVerifyRequired

    /// The device of a `tunnel=` option.
    public enum TunnelDevice: Hashable, Sendable {
        /// `tunnel="any"`.
        case any
        /// A device number from 0 to ``maximum``.
        case number(Int)

        /// The largest device number sshd accepts (`SSH_TUNID_MAX`).
        public static let maximum = 0x7FFF_FFFD
    }

    /// The option name as rendered: `no-pty`, `command`, `no-X11-forwarding`, ...
    public var name: String {
        switch self {
        case .agentForwarding: "agent-forwarding"
        case .noAgentForwarding: "no-agent-forwarding"
        case .certAuthority: "cert-authority"
        case .command: "command"
        case .environment: "environment"
        case .expiryTime: "expiry-time"
        case .from: "from"
        case .portForwarding: "port-forwarding"
        case .noPortForwarding: "no-port-forwarding"
        case .pty: "pty"
        case .noPty: "no-pty"
        case .userRC: "user-rc"
        case .noUserRC: "no-user-rc"
        case .x11Forwarding: "X11-forwarding"
        case .noX11Forwarding: "no-X11-forwarding"
        case .permitListen: "permitlisten"
        case .permitOpen: "permitopen"
        case .principals: "principals"
        case .restrict: "restrict"
        case .tunnel: "tunnel"
        case .touchRequired: "touch-required"
        case .noTouchRequired: "no-touch-required"
        case .verifyRequired: "verify-required"
        case .noVerifyRequired: "no-verify-required"
        }
    }

    /// The unquoted value, nil for a flag.
    var value: String? {
        switch self {
        case .command(let command): command
        case .environment(let name, let value): "\(name)=\(value)"
        case .expiryTime(let time): time
        case .from(let patterns): patterns.joined(separator: ",")
        case .permitListen(let host, let port), .permitOpen(let host, let port):
            (host.contains(":") ? "[\(host)]" : host) + ":" + (port.map(String.init) ?? "*")
        case .principals(let names): names.joined(separator: ",")
        case .tunnel(.any): "any"
        case .tunnel(.number(let number)): String(number)
        default: nil
        }
    }

    /// `name` or `name="value"`, with every `"` in the value written `\"` (sshd's only escape).
    var text: String {
        guard let value else { return name }
        var out = name + "=\""
        for character in value.unicodeScalars {
            if character == "\"" { out += "\\" }
            out.unicodeScalars.append(character)
        }
        out += "\""
        return out
    }

    /// Checks the value as sshd would, and that it renders safely.
    func validate() throws(KeyError) {
        if let value {
            guard CommentPolicy.isAcceptable(value.utf8) else {
                throw KeyError.forbiddenCharacter(in: "the \(name) option")
            }
            guard !value.hasSuffix("\\") else {
                throw KeyError.invalidOption("the \(name) option's value ends in a backslash, which sshd cannot read")
            }
        }
        switch self {
        case .environment(let name, _):
            guard !name.isEmpty, name.utf8.allSatisfy(AuthorizedKeyOptionGrammar.isEnvironmentNameByte) else {
                throw KeyError.invalidOption("the environment option's name \"\(KeyError.printable(name))\" is not letters, digits and underscores")
            }
        case .expiryTime(let time):
            guard AuthorizedKeyOptionGrammar.isValidExpiryTime(time) else {
                throw KeyError.invalidOption("the expiry-time \"\(KeyError.printable(time))\" is not YYYYMMDD[HHMM[SS]][Z] after 1970")
            }
        case .from(let patterns):
            guard !patterns.isEmpty else { throw KeyError.invalidOption("the from option is empty") }
            for pattern in patterns { try AuthorizedKeyOptionGrammar.validateFromPattern(pattern) }
        case .principals(let names):
            guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains(",") }) else {
                throw KeyError.invalidOption("the principals option has an empty name")
            }
        case .permitListen(let host, let port), .permitOpen(let host, let port):
            try AuthorizedKeyOptionGrammar.validatePermit(option: name, host: host, port: port)
        case .tunnel(.number(let number)):
            guard (0...TunnelDevice.maximum).contains(number) else {
                throw KeyError.invalidOption("the tunnel device \(number) is not between 0 and \(TunnelDevice.maximum)")
            }
        default:
            break
        }
    }
}

/// One line of an authorized_keys file: options, a key and a comment, as sshd reads it.
///
/// A value can only be made through initialisers that check it, so ``line`` never holds a line break,
/// NUL or other control character, and sshd reads back exactly these options and this key.
public struct AuthorizedKey: Hashable, Sendable {
    /// The longest line we read or write, without its line break. sshd 9.2 reads lines of any length, but
    /// sshd 7.7 and earlier read lines into a 16384-byte buffer with the line feed and a NUL, so a longer
    /// line would be silently cut on such a server.
    public static let maximumLineLength = 16 * 1024 - 2

    /// The options, in order.
    public let options: [AuthorizedKeyOption]
    /// The key. Its comment is ``comment``.
    public let key: PublicKey
    /// The comment after the key; empty when there is none.
    public var comment: String { key.comment }

    /// Makes a line from its parts, checking them as sshd would parse them back.
    ///
    /// - Parameters:
    ///   - options: the options, rendered in this order.
    ///   - key: a plain key (certificates are refused: sshd never accepts a certificate listed in
    ///     authorized_keys).
    ///   - comment: the comment; nil keeps the key's own comment. Leading and trailing spaces are removed.
    /// - Throws: ``KeyError/Code-swift.struct/invalidOption`` for a malformed or contradictory option (a second
    ///   `command`, `from` or `principals`; `principals` without `cert-authority`, which sshd refuses),
    ///   ``KeyError/Code-swift.struct/forbiddenCharacter`` for a control character in a value or the
    ///   comment, ``KeyError/Code-swift.struct/tooLarge`` when the line would exceed ``maximumLineLength``.
    public init(options: [AuthorizedKeyOption] = [], key: PublicKey, comment: String? = nil) throws(KeyError) {
        guard !key.isCertificate else {
            throw KeyError.invalidFormat("a certificate is never accepted from authorized_keys; list its CA with cert-authority")
        }
        var seen = Set<String>()
        var hasCertAuthority = false
        var hasPrincipals = false
        for option in options {
            try option.validate()
            switch option {
            case .command, .from, .principals:
                guard seen.insert(option.name).inserted else {
                    throw KeyError.invalidOption("multiple \"\(option.name)\" options")
                }
                if case .principals = option { hasPrincipals = true }
            case .certAuthority:
                hasCertAuthority = true
            default:
                break
            }
        }
        guard !hasPrincipals || hasCertAuthority else {
            throw KeyError.invalidOption("the principals option needs cert-authority (sshd refuses it on a plain key)")
        }
        var text = comment ?? key.comment
        while text.hasPrefix(" ") { text.removeFirst() }
        while text.hasSuffix(" ") { text.removeLast() }
        guard CommentPolicy.isAcceptable(text.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        var copy = key
        copy.comment = text
        self.options = options
        self.key = copy
        let length = line.utf8.count
        guard length <= Self.maximumLineLength else {
            throw KeyError.tooLarge("the authorized_keys line", limit: Self.maximumLineLength)
        }
    }

    /// Parses one authorized_keys line as sshd 9.2 does.
    ///
    /// A line that starts with a key type name is a bare key; otherwise options come first, separated by
    /// commas and ended by a blank. Option names are compared without regard to case; values are in double
    /// quotes, inside which `\"` stands for `"` (and a backslash before anything else is itself). Every
    /// option OpenSSH 9.2 knows is read and its value checked as sshd checks it; an unknown option is refused
    /// by name. Empty options between commas are skipped, as sshd skips them. One trailing line break is
    /// allowed; a blank or `#` comment line is refused (``AuthorizedKeysFile`` skips those).
    ///
    /// Beyond sshd's own checks, a line that sshd would read but never accept is refused: a certificate,
    /// `principals` without `cert-authority`, a `from` pattern that is empty, holds a blank, or is a
    /// malformed CIDR block. So are control characters anywhere, and lines over ``maximumLineLength``.
    public init(line: String) throws(KeyError) {
        var bytes = Array(line.utf8)
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard bytes.count <= Self.maximumLineLength else {
            throw KeyError.tooLarge("the authorized_keys line", limit: Self.maximumLineLength)
        }
        guard !bytes.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
            throw KeyError.forbiddenCharacter(in: "the authorized_keys line")
        }
        var index = 0
        while index < bytes.count, Trimming.isBlank(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] != UInt8(ascii: "#") else {
            throw KeyError.invalidFormat("the line holds no key")
        }
        var tokenEnd = index
        while tokenEnd < bytes.count, !Trimming.isBlank(bytes[tokenEnd]) { tokenEnd += 1 }
        var options = [AuthorizedKeyOption]()
        if KeyType.named(String(decoding: bytes[index..<tokenEnd], as: UTF8.self)) == nil {
            var parser = AuthorizedKeyOptionParser(bytes: bytes, index: index)
            options = try parser.parseOptions()
            index = parser.index
            guard index < bytes.count else { throw KeyError.invalidFormat("the options are not followed by a key") }
        }
        let (key, keyEnd) = try OpenSSHKeyText.readKey(bytes, from: index)
        let comment = bytes[keyEnd...].trimmingBlanks(trailingCR: true)
        guard CommentPolicy.isAcceptable(comment) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        try self.init(options: options, key: key, comment: String(decoding: comment, as: UTF8.self))
    }

    /// The line, without a line break: the options (if any) joined by commas, the key type, the base64 key
    /// and the comment (if any), separated by single spaces.
    public var line: String {
        var out = ""
        if !options.isEmpty {
            out += options.map(\.text).joined(separator: ",")
            out += " "
        }
        out += key.typeName
        out += " "
        out += Base64.encode(key.wireBytes)
        if !comment.isEmpty {
            out += " "
            out += comment
        }
        return out
    }

    /// The same line with other options.
    public func withOptions(_ newOptions: [AuthorizedKeyOption]) throws(KeyError) -> AuthorizedKey {
        try AuthorizedKey(options: newOptions, key: key)
    }
}

/// A whole authorized_keys file.
public struct AuthorizedKeysFile: Sendable {
    /// Parses every line of `text` as sshd reads the file: lines end at LF (a CR before it is dropped);
    /// blank lines and lines whose first non-blank character is `#` are skipped. Each other line gives a key
    /// or an error located at its 1-based line number (`line N`); a bad line does not stop the others.
    public static func parse(_ text: String) -> [(lineNumber: Int, result: Result<AuthorizedKey, KeyError>)] {
        var results = [(lineNumber: Int, result: Result<AuthorizedKey, KeyError>)]()
        forEachLine(Array(text.utf8)) { number, line in
            do throws(KeyError) {
                results.append((number, .success(try AuthorizedKey(line: String(decoding: line, as: UTF8.self)))))
            } catch {
                results.append((number, .failure(error.at("line \(number)"))))
            }
        }
        return results
    }

    /// The keys of the lines that parse, in file order.
    public static func keys(in text: String) -> [AuthorizedKey] {
        parse(text).compactMap { try? $0.result.get() }
    }

    /// Renders `keys` as a file: one ``AuthorizedKey/line`` per line, each ending in LF.
    public static func render(_ keys: [AuthorizedKey]) -> String {
        keys.map { $0.line + "\n" }.joined()
    }

    /// Calls `body` with each line that is neither blank nor a `#` comment, without its LF and a CR before it.
    /// Lines with invalid UTF-8 are passed as they are and fail to parse on their own.
    static func forEachLine(_ bytes: [UInt8], _ body: (Int, ArraySlice<UInt8>) -> Void) {
        var number = 0
        var start = 0
        while start < bytes.count {
            number += 1
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            start = end + 1
            guard let first = line.firstIndex(where: { !Trimming.isBlank($0) }), line[first] != UInt8(ascii: "#") else {
                continue
            }
            body(number, line)
        }
    }
}

/// Reads the options at the start of an authorized_keys line, as `sshauthopt_parse` does.
struct AuthorizedKeyOptionParser {
    let bytes: [UInt8]
    var index: Int

    private static let flags: [String: AuthorizedKeyOption] = [
        "restrict": .restrict, "cert-authority": .certAuthority,
        "port-forwarding": .portForwarding, "no-port-forwarding": .noPortForwarding,
        "agent-forwarding": .agentForwarding, "no-agent-forwarding": .noAgentForwarding,
        "x11-forwarding": .x11Forwarding, "no-x11-forwarding": .noX11Forwarding,
        "touch-required": .touchRequired, "no-touch-required": .noTouchRequired,
        "verify-required": .verifyRequired, "no-verify-required": .noVerifyRequired,
        "pty": .pty, "no-pty": .noPty, "user-rc": .userRC, "no-user-rc": .noUserRC,
    ]
    private static let valued: Set<String> = [
        "command", "principals", "from", "expiry-time", "environment", "permitopen", "permitlisten", "tunnel",
    ]

    private func isEnd(_ position: Int) -> Bool { position >= bytes.count || Trimming.isBlank(bytes[position]) }

    /// Reads options up to the first blank outside quotes; leaves `index` at that blank.
    mutating func parseOptions() throws(KeyError) -> [AuthorizedKeyOption] {
        var options = [AuthorizedKeyOption]()
        while !isEnd(index) {
            if bytes[index] != UInt8(ascii: ",") {
                options.append(try parseOption())
            }
            // After an option: the end of the options, or a comma and more.
            if isEnd(index) { break }
            guard bytes[index] == UInt8(ascii: ",") else {
                throw KeyError.invalidOption(
                    "unexpected \"\(KeyError.printable(String(decoding: bytes[index...].prefix(16), as: UTF8.self)))\" after an option")
            }
            index += 1
            guard index < bytes.count else { throw KeyError.invalidOption("the options end with a comma and no key") }
        }
        return options
    }

    private mutating func parseOption() throws(KeyError) -> AuthorizedKeyOption {
        let nameStart = index
        while index < bytes.count, !Trimming.isBlank(bytes[index]), bytes[index] != UInt8(ascii: ","),
            bytes[index] != UInt8(ascii: "=")
        {
            index += 1
        }
        let written = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        let name = KnownHost.lowercased(written)  // strncasecmp: ASCII only
        let hasValue = index < bytes.count && bytes[index] == UInt8(ascii: "=")
        if let flag = Self.flags[name], !hasValue { return flag }
        guard Self.valued.contains(name), hasValue else {
            if Self.flags[name] != nil { throw KeyError.invalidOption("the \(name) option takes no value") }
            if Self.valued.contains(name) { throw KeyError.invalidOption("the \(name) option needs a value in double quotes") }
            throw KeyError.invalidOption("unknown option \"\(KeyError.printable(written))\"")
        }
        index += 1
        let value = try dequote(option: name)
        return try AuthorizedKeyOptionGrammar.option(named: name, value: value)
    }

    /// A double-quoted value as `opt_dequote` reads it: `\"` is `"`, every other byte is itself.
    private mutating func dequote(option: String) throws(KeyError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw KeyError.invalidOption("the \(option) option's value does not start with a double quote")
        }
        index += 1
        var value = [UInt8]()
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                index += 1
            }
            value.append(bytes[index])
            index += 1
        }
        guard index < bytes.count else { throw KeyError.invalidOption("the \(option) option's value has no closing double quote") }
        index += 1
        guard let text = String(validating: value, as: UTF8.self) else {
            throw KeyError.forbiddenCharacter(in: "the \(option) option")
        }
        return text
    }
}

/// The value grammars of authorized_keys options (auth-options.c, misc.c, addrmatch.c in OpenSSH 9.2).
enum AuthorizedKeyOptionGrammar {
    /// Builds the option `name` (lower case) from its dequoted value, checking it as sshd does.
    static func option(named name: String, value: String) throws(KeyError) -> AuthorizedKeyOption {
        switch name {
        case "command":
            return .command(value)
        case "principals":
            return .principals(value.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        case "from":
            return .from(value.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        case "expiry-time":
            return .expiryTime(value)
        case "environment":
            guard let equals = value.firstIndex(of: "=") else {
                throw KeyError.invalidOption("the environment option \"\(KeyError.printable(value))\" has no \"=\"")
            }
            return .environment(name: String(value[..<equals]), value: String(value[value.index(after: equals)...]))
        case "permitopen", "permitlisten":
            var text = value
            if name == "permitlisten", !text.contains(":") { text = "*:" + text }
            let (host, port) = try permitTarget(text, option: name)
            return name == "permitopen" ? .permitOpen(host: host, port: port) : .permitListen(host: host, port: port)
        case "tunnel":
            if KnownHost.lowercased(value) == "any" { return .tunnel(.any) }
            guard !value.isEmpty, value.utf8.count <= 10, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int(value)
            else {
                throw KeyError.invalidOption("the tunnel device \"\(KeyError.printable(value))\" is not a number or \"any\"")
            }
            return .tunnel(.number(number))
        default:
            throw KeyError.invalidOption("unknown option \"\(KeyError.printable(name))\"")
        }
    }

    /// Splits `host:port` as `hpdelim2` does: `[host]` may hold colons; `/` also separates; the port is a
    /// number from 1 to 65535 or `*` (service names from /etc/services are not accepted here).
    static func permitTarget(_ text: String, option: String) throws(KeyError) -> (host: String, port: Int?) {
        let bytes = Array(text.utf8)
        var host: ArraySlice<UInt8>
        var rest: ArraySlice<UInt8>
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else {
                throw KeyError.invalidOption("the \(option) host has no closing \"]\"")
            }
            host = bytes[1..<close]
            rest = bytes[(close + 1)...]
            guard let separator = rest.first, separator == UInt8(ascii: ":") || separator == UInt8(ascii: "/") else {
                throw KeyError.invalidOption("the \(option) option \"\(KeyError.printable(text))\" has no port")
            }
            rest = rest.dropFirst()
        } else {
            guard let separator = bytes.firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }) else {
                throw KeyError.invalidOption("the \(option) option \"\(KeyError.printable(text))\" has no port")
            }
            host = bytes[..<separator]
            rest = bytes[(separator + 1)...]
        }
        let port: Int?
        if Array(rest) == [UInt8(ascii: "*")] {
            port = nil
        } else {
            guard !rest.isEmpty, rest.count <= 5, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int(String(decoding: rest, as: UTF8.self)), (1...65535).contains(number)
            else {
                throw KeyError.invalidOption(
                    "the \(option) port \"\(KeyError.printable(String(decoding: rest, as: UTF8.self)))\" is not a number from 1 to 65535 or \"*\"")
            }
            port = number
        }
        let hostText = String(decoding: host, as: UTF8.self)
        try validatePermit(option: option, host: hostText, port: port)
        return (hostText, port)
    }

    /// The host of a permitopen or permitlisten option: not empty, no blank, bracket or slash, shorter than
    /// sshd's `NI_MAXHOST` (1025) with its brackets.
    static func validatePermit(option: String, host: String, port: Int?) throws(KeyError) {
        guard !host.isEmpty else { throw KeyError.invalidOption("the \(option) option has an empty host") }
        guard host.utf8.count + 2 < 1025,
            !host.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "/") })
        else {
            throw KeyError.invalidOption("the \(option) host \"\(KeyError.printable(host))\" is not a host name or address")
        }
        if let port, !(1...65535).contains(port) {
            throw KeyError.invalidOption("the \(option) port \(port) is not between 1 and 65535")
        }
    }

    /// `valid_env_name`: ASCII letters, digits and underscore.
    static func isEnvironmentNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    /// `parse_absolute_time`: `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, optionally followed by `Z` or
    /// `UTC` (any case); fields in range (seconds up to 61, as strptime allows); and, since sshd refuses a
    /// time at or before the epoch, not on 1 January 1970.
    static func isValidExpiryTime(_ text: String) -> Bool {
        var digits = Array(text.utf8)
        if digits.count > 1, digits.last == UInt8(ascii: "Z") || digits.last == UInt8(ascii: "z") {
            digits.removeLast()
        } else if digits.count > 3, KnownHost.lowercased(String(decoding: digits.suffix(3), as: UTF8.self)) == "utc" {
            digits.removeLast(3)
        }
        guard [8, 12, 14].contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        func field(_ start: Int, _ length: Int) -> Int {
            digits[start..<(start + length)].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        let year = field(0, 4), month = field(4, 2), day = field(6, 2)
        guard year >= 1970, (1...12).contains(month), (1...31).contains(day) else { return false }
        guard !(year == 1970 && month == 1 && day == 1) else { return false }
        if digits.count >= 12 {
            guard field(8, 2) <= 23, field(10, 2) <= 59 else { return false }
        }
        if digits.count == 14 {
            guard field(12, 2) <= 61 else { return false }
        }
        return true
    }

    /// One entry of a `from` list: `!` optional, then a non-empty pattern without blanks; an entry with a
    /// `/` must be a CIDR block whose host bits are zero (sshd refuses the whole list otherwise).
    static func validateFromPattern(_ entry: String) throws(KeyError) {
        var pattern = Substring(entry)
        if pattern.hasPrefix("!") { pattern = pattern.dropFirst() }
        guard !pattern.isEmpty else { throw KeyError.invalidOption("the from option has an empty pattern") }
        guard !pattern.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: ",") }) else {
            throw KeyError.invalidOption("the from pattern \"\(KeyError.printable(entry))\" holds a blank")
        }
        if pattern.contains("/") {
            guard AuthorizedKeyCIDR.isValidBlock(String(pattern)) else {
                throw KeyError.invalidOption("the from pattern \"\(KeyError.printable(entry))\" is not a CIDR block with its host bits zero")
            }
        }
    }
}

/// Just enough IPv4 and IPv6 parsing to check `addr/len` as sshd's `addr_pton_cidr` does.
enum AuthorizedKeyCIDR {
    /// Whether `text` is `address/length` with a dotted-quad IPv4 or an RFC 4291 IPv6 address, a length
    /// within the address size, and no bits set after the length.
    static func isValidBlock(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].utf8.count <= 3,
            parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(parts[1])
        else { return false }
        guard let address = ipv4(parts[0]) ?? ipv6(parts[0]) else { return false }
        guard length <= address.count * 8 else { return false }
        for bit in length..<(address.count * 8) where address[bit / 8] & (0x80 >> UInt8(bit % 8)) != 0 {
            return false
        }
        return true
    }

    static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out = [UInt8]()
        for part in parts {
            guard !part.isEmpty, part.utf8.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(part), value <= 255
            else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    static func ipv6(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: ":")) else { return nil }
        let colon = UInt8(ascii: ":")
        var split: Int?
        for index in 0..<max(bytes.count - 1, 0) where bytes[index] == colon && bytes[index + 1] == colon {
            guard split == nil else { return nil }  // "::" twice
            split = index
        }
        func groups(_ part: ArraySlice<UInt8>) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out = [UInt8]()
            let pieces = part.split(separator: colon, omittingEmptySubsequences: false)
            for (offset, piece) in pieces.enumerated() {
                if offset == pieces.count - 1, piece.contains(UInt8(ascii: ".")) {
                    guard let v4 = ipv4(Substring(String(decoding: piece, as: UTF8.self))) else { return nil }
                    out += v4
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, piece.allSatisfy(isHexDigit) else { return nil }
                let value = piece.reduce(0) { $0 << 4 | hexValue($1) }
                out += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return out
        }
        guard let split else {
            guard let all = groups(bytes[...]), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(bytes[..<split]), let tail = groups(bytes[(split + 2)...]),
            head.count + tail.count <= 14
        else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    private static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        default: Int(byte &- 0x61 &+ 10)
        }
    }
}
