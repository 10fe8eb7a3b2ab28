import Foundation
import Testing
import TestSupport

@testable import SSHKeys

@Suite("authorized_keys")
struct AuthorizedKeysTests {
    enum Expected: Sendable {
        case options([AuthorizedKeyOption])
        case error(KeyError.Code)
    }

    /// Option strings, what we read from them, and whether the real sshd 9.2 lets the key log in from
    /// 127.0.0.1 (checked by ``sshdAgreesWithTheTable()``). Where we refuse a string sshd accepts, or sshd
    /// refuses a line we read, the note says why.
    static let table: [(options: String, expected: Expected, sshd: Bool, note: String)] = [
        ("no-pty", .options([.noPty]), true, ""),
        ("NO-PTY,No-Agent-Forwarding,no-x11-FORWARDING", .options([.noPty, .noAgentForwarding, .noX11Forwarding]), true, "names in any case"),
        (
            "restrict,pty,user-rc,port-forwarding,agent-forwarding,X11-forwarding",
            .options([.restrict, .pty, .userRC, .portForwarding, .agentForwarding, .x11Forwarding]), true, ""
        ),
        (
            "no-port-forwarding,no-user-rc,no-touch-required,touch-required",
            .options([.noPortForwarding, .noUserRC, .noTouchRequired, .touchRequired]), true, ""
        ),
        ("verify-required,no-verify-required", .options([.verifyRequired, .noVerifyRequired]), true, "no effect on a plain key"),
        (",no-pty", .options([.noPty]), true, "sshd skips empty options"),
        ("no-pty,,restrict,", .options([.noPty, .restrict]), true, "and a trailing comma"),
        (#"command="echo hi""#, .options([.command("echo hi")]), true, ""),
        (#"command="""#, .options([.command("")]), true, "empty command"),
        (#"command="printf %s \"a  b\"""#, .options([.command(#"printf %s "a  b""#)]), true, "escaped quotes, inner blanks"),
        (#"command="printf %s a\\b""#, .options([.command(#"printf %s a\\b"#)]), true, "a backslash not before a quote is itself"),
        (#"command="a\"b",no-pty"#, .options([.command(#"a"b"#), .noPty]), true, ""),
        (#"command="\"""#, .options([.command("\"")]), true, "only a quote"),
        (#"command="echo é中""#, .options([.command("echo é中")]), true, "UTF-8"),
        (#"command="abc\""#, .error(.invalidOption), false, "\\\" at the end is an escaped quote: no closing quote"),
        (#"command="abc"#, .error(.invalidOption), false, "no closing quote"),
        ("command=abc", .error(.invalidOption), false, "value without quotes"),
        (#"command="a",command="b""#, .error(.invalidOption), false, "two commands"),
        (#"command ="x""#, .error(.invalidOption), false, "blank before ="),
        (#"command="x"no-pty"#, .error(.invalidOption), false, "no comma after a value"),
        (#"environment="FOO=bar baz""#, .options([.environment(name: "FOO", value: "bar baz")]), true, ""),
        (#"environment="FOO=""#, .options([.environment(name: "FOO", value: "")]), true, "empty value"),
        (
            #"environment="A_1=1",environment="A_1=2""#,
            .options([.environment(name: "A_1", value: "1"), .environment(name: "A_1", value: "2")]), true, "sshd keeps the first"
        ),
        (#"environment="FOO""#, .error(.invalidOption), false, "no ="),
        (#"environment="=bar""#, .error(.invalidOption), false, "empty name"),
        (#"environment="FOO-1=x""#, .error(.invalidOption), false, "dash in the name"),
        (#"expiry-time="20991231""#, .options([.expiryTime("20991231")]), true, ""),
        (#"expiry-time="209912312359""#, .options([.expiryTime("209912312359")]), true, ""),
        (#"expiry-time="20991231235959Z""#, .options([.expiryTime("20991231235959Z")]), true, ""),
        (#"expiry-time="20991231utc""#, .options([.expiryTime("20991231utc")]), true, ""),
        (#"expiry-time="20000101""#, .options([.expiryTime("20000101")]), false, "valid but past: sshd refuses the key"),
        (#"expiry-time="2099123""#, .error(.invalidOption), false, "7 digits"),
        (#"expiry-time="20991331""#, .error(.invalidOption), false, "month 13"),
        (#"expiry-time="209912312400""#, .error(.invalidOption), false, "hour 24"),
        (#"expiry-time="19700101Z""#, .error(.invalidOption), false, "the epoch itself"),
        (#"expiry-time="2099-12-31""#, .error(.invalidOption), false, ""),
        (#"expiry-time="""#, .error(.invalidOption), false, ""),
        (#"from="127.0.0.1""#, .options([.from(["127.0.0.1"])]), true, ""),
        (#"from="10.0.0.0/8,127.0.0.0/8,::1""#, .options([.from(["10.0.0.0/8", "127.0.0.0/8", "::1"])]), true, ""),
        (#"from="fe80::/10,127.0.0.1""#, .options([.from(["fe80::/10", "127.0.0.1"])]), true, ""),
        (#"from="!10.1.2.3,*""#, .options([.from(["!10.1.2.3", "*"])]), true, ""),
        (#"from="!127.0.0.1,*""#, .options([.from(["!127.0.0.1", "*"])]), false, "a negated match refuses"),
        (#"from="127.0.0.1/8,*""#, .error(.invalidOption), false, "host bits after the mask length"),
        (#"from="10.0.0.0/33,*""#, .error(.invalidOption), false, "mask longer than the address"),
        (#"from="127.0.0.1,""#, .error(.invalidOption), false, "empty pattern"),
        (#"from="""#, .error(.invalidOption), false, ""),
        (#"principals="root""#, .error(.invalidOption), false, "principals without cert-authority: sshd refuses the key"),
        ("cert-authority", .options([.certAuthority]), false, "a CA key does not log in by itself"),
        (
            #"permitopen="localhost:80",permitopen="[::1]:22",permitopen="host/8080",permitopen="*:*""#,
            .options([
                .permitOpen(host: "localhost", port: 80), .permitOpen(host: "::1", port: 22), .permitOpen(host: "host", port: 8080),
                .permitOpen(host: "*", port: nil),
            ]), true, ""
        ),
        (#"permitopen="host""#, .error(.invalidOption), false, "no port"),
        (#"permitopen="host:0""#, .error(.invalidOption), false, ""),
        (#"permitopen="host:65536""#, .error(.invalidOption), false, ""),
        (#"permitopen="::1:22""#, .error(.invalidOption), false, "IPv6 without brackets"),
        (#"permitopen="host:ssh""#, .error(.invalidOption), true, "a service name: sshd looks it up in /etc/services, we refuse"),
        (#"permitopen=":80""#, .error(.invalidOption), true, "an empty host: sshd accepts it, we refuse"),
        (
            #"permitlisten="8080",permitlisten="localhost:2222""#,
            .options([.permitListen(host: "*", port: 8080), .permitListen(host: "localhost", port: 2222)]), true, "a bare port is *:port"
        ),
        (#"permitlisten="[::1""#, .error(.invalidOption), false, ""),
        (#"tunnel="1""#, .options([.tunnel(.number(1))]), true, ""),
        (#"tunnel="ANY""#, .options([.tunnel(.any)]), true, ""),
        (#"tunnel="2147483645""#, .options([.tunnel(.number(2_147_483_645))]), true, "SSH_TUNID_MAX"),
        (#"tunnel="2147483646""#, .error(.invalidOption), false, ""),
        (#"tunnel="-1""#, .error(.invalidOption), false, ""),
        (#"tunnel="x""#, .error(.invalidOption), false, ""),
        ("foo", .error(.invalidOption), false, "unknown option"),
        ("no-restrict", .error(.invalidOption), false, "restrict cannot be negated"),
        ("no-cert-authority", .error(.invalidOption), false, ""),
        (#"restrict="1""#, .error(.invalidOption), false, "a flag with a value"),
        (#"no-pty"x""#, .error(.invalidOption), false, ""),
    ]

    @Test("reads option strings as sshd's grammar does", arguments: table.indices)
    func grammar(_ index: Int) throws {
        let row = Self.table[index]
        let line = row.options + " " + KeyTextFixtures.ed25519Line
        switch row.expected {
        case .options(let options):
            let parsed = try AuthorizedKey(line: line)
            #expect(parsed.options == options, "\(row.options)")
            #expect(parsed.comment == "fixture")
            #expect(parsed.key.isSameKey(as: try KeyTextFixtures.ed25519()))
            // Rendered again, the line reads back the same.
            #expect(try AuthorizedKey(line: parsed.line) == parsed, "\(parsed.line)")
        case .error(let code):
            #expect(throws: KeyError(code, ""), "\(row.options)") { try AuthorizedKey(line: line) }
        }
    }

    @Test("the real sshd accepts exactly what the table says, as written and as we render it")
    func sshdAgreesWithTheTable() throws {
        let directory = try TemporaryDirectory()
        var lines = [String]()
        // Each row as written, and (where it differs) each row we read as we render it again, each with its
        // own key.
        var checks = [(identity: String, line: String, sshd: Bool)]()
        for (index, row) in Self.table.enumerated() {
            let written = try KeyTextFixtures.generate(["-t", "ed25519"], comment: "row\(index)", in: directory, name: "row\(index)")
            lines.append(row.options + " " + written.line)
            checks.append((written.privatePath, lines[lines.count - 1], row.sshd))
            if case .options(let options) = row.expected, options.map(\.text).joined(separator: ",") != row.options {
                let rendered = try KeyTextFixtures.generate(["-t", "ed25519"], comment: "ours\(index)", in: directory, name: "ours\(index)")
                lines.append(try AuthorizedKey(options: options, key: try PublicKey(openSSHLine: rendered.line)).line)
                checks.append((rendered.privatePath, lines[lines.count - 1], row.sshd))
            }
        }
        let server = try LoopbackSSHD(authorizedKeys: lines.joined(separator: "\n") + "\n")
        for check in checks {
            let result = try server.ssh(identity: check.identity, command: "true")
            let accepted = result.status != 255
            #expect(accepted == check.sshd, "sshd \(accepted ? "accepted" : "refused") \(check.line): \(result.stderr)")
        }
    }

    // MARK: Rendering through the real sshd

    /// Command text with quotes, backslashes (never last), blanks, commas and non-ASCII; no single quote.
    static func randomCommandText() -> String {
        let alphabet = Array(#"abcXYZ019 "\,=:;*?$`!#%&()[]{}<>|~é中"#)
        var text = String((0..<Int.random(in: 0...40)).map { _ in alphabet.randomElement() ?? "a" })
        while text.hasSuffix("\\") { text.removeLast() }
        return text
    }

    @Test("sshd runs our command= and environment= values byte for byte")
    func sshdDequotesOurValues() throws {
        let directory = try TemporaryDirectory()
        var lines = [String]()
        var cases = [(identity: String, expected: String)]()
        for index in 0..<8 {
            let generated = try KeyTextFixtures.generate(["-t", "ed25519"], comment: RandomInput.comment(), in: directory, name: "k\(index)")
            let key = try PublicKey(openSSHLine: generated.line)
            let value = Self.randomCommandText()
            let options: [AuthorizedKeyOption] =
                index.isMultiple(of: 2)
                ? [.command("printf '%s' '\(value)'"), .restrict]
                : [.environment(name: "KEYFLEET_V", value: value), .command(#"printf '%s' "$KEYFLEET_V""#), .noPty]
            let line = try AuthorizedKey(options: options, key: key).line
            lines.append(line)
            cases.append((generated.privatePath, value))
        }
        let server = try LoopbackSSHD(authorizedKeys: lines.joined(separator: "\n") + "\n")
        for (index, item) in cases.enumerated() {
            let result = try server.ssh(identity: item.identity, command: "ignored")
            #expect(result.status == 0, "\(lines[index]): \(result.stderr)")
            #expect(result.text == item.expected, "\(lines[index])")
        }
    }

    // MARK: ssh-keygen -l

    /// A random valid option list.
    static func randomOptions() -> [AuthorizedKeyOption] {
        var options = [AuthorizedKeyOption]()
        let flags: [AuthorizedKeyOption] = [
            .restrict, .noPty, .pty, .noAgentForwarding, .agentForwarding, .noPortForwarding, .portForwarding,
            .noUserRC, .userRC, .noX11Forwarding, .x11Forwarding, .noTouchRequired, .verifyRequired,
        ]
        for flag in flags where Bool.random() { options.append(flag) }
        if Bool.random() { options.append(.command(randomCommandText())) }
        if Bool.random() { options.append(.environment(name: "V\(Int.random(in: 0...99))", value: randomCommandText())) }
        if Bool.random() { options.append(.from(["10.\(Int.random(in: 0...255)).0.0/16", "!*.example.com", "*.keyfleet.test", "::1"])) }
        if Bool.random() {
            options.append(
                .permitOpen(
                    host: ["localhost", "::1", "10.0.0.1", "*"].randomElement() ?? "h", port: Bool.random() ? Int.random(in: 1...65535) : nil))
        }
        if Bool.random() { options.append(.permitListen(host: "localhost", port: Int.random(in: 1024...65535))) }
        if Bool.random() {
            options.append(
                .expiryTime(
                    String(format: "%04d%02d%02d", Int.random(in: 2030...2099), Int.random(in: 1...12), Int.random(in: 1...28))
                        + (Bool.random() ? "Z" : "")))
        }
        if Bool.random() { options.append(.tunnel(Bool.random() ? .any : .number(Int.random(in: 0...1000)))) }
        return options.shuffled()
    }

    @Test("ssh-keygen -l finds our key after any options, with our comment", arguments: KeyTextFixtures.keygenTypes)
    func sshKeygenFindsTheKey(_ type: [String]) throws {
        let directory = try TemporaryDirectory()
        let generated = try KeyTextFixtures.generate(type, comment: RandomInput.comment(maxLength: 40), in: directory)
        let key = try PublicKey(openSSHLine: generated.line)
        let expected = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", generated.publicPath]).text
        var lines = [String]()
        for _ in 0..<6 {
            let entry = try AuthorizedKey(options: Self.randomOptions(), key: key)
            #expect(try AuthorizedKey(line: entry.line) == entry)
            lines.append(entry.line)
        }
        let path = try directory.write("authorized_keys", lines.joined(separator: "\n") + "\n")
        let listed = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", path]).text
        #expect(listed == String(repeating: expected, count: lines.count), "\(lines.joined(separator: "\n"))")
    }

    // MARK: Hostile input

    @Test("a comment never smuggles a second key or options", arguments: KeyTextFixtures.smugglingComments)
    func smuggling(_ comment: String) throws {
        let key = try KeyTextFixtures.ed25519()
        #expect(throws: KeyError(.forbiddenCharacter, "")) { try AuthorizedKey(line: "ssh-ed25519 \(KeyTextFixtures.ed25519Base64) \(comment)") }
        #expect(throws: KeyError(.forbiddenCharacter, "")) {
            try AuthorizedKey(line: "no-pty ssh-ed25519 \(KeyTextFixtures.ed25519Base64) \(comment)")
        }
        #expect(throws: KeyError(.forbiddenCharacter, "")) { try AuthorizedKey(key: key, comment: comment) }
        for option in [AuthorizedKeyOption.command(comment), .environment(name: "A", value: comment), .from([comment]), .principals([comment])] {
            #expect(throws: KeyError.self) { try AuthorizedKey(options: [option, .certAuthority], key: key) }
        }
        // As a file, a line holding a CR, NUL or look-alike is one bad line, never a key.
        if !comment.unicodeScalars.contains("\n") {
            let results = AuthorizedKeysFile.parse("ssh-ed25519 \(KeyTextFixtures.ed25519Base64) \(comment)\n")
            #expect(results.count == 1)
            #expect(results.allSatisfy { (try? $0.result.get()) == nil })
        }
    }

    static let badLines: [(name: String, line: String, code: KeyError.Code)] = {
        let b64 = KeyTextFixtures.ed25519Base64
        return [
            ("empty", "", .invalidFormat),
            ("blank", " \t ", .invalidFormat),
            ("comment line", "# ssh-ed25519 \(b64)", .invalidFormat),
            ("type only", "ssh-ed25519", .invalidFormat),
            ("type and blank", "ssh-ed25519 ", .invalidFormat),
            ("options only", "no-pty", .invalidFormat),
            ("options and blank", "no-pty ", .invalidFormat),
            ("missing padding", "ssh-ed25519 \(b64.dropLast()) c", .invalidBase64),
            ("extra padding", "ssh-ed25519 \(b64)= c", .invalidBase64),
            ("three padding characters", "ssh-ed25519 \(b64.dropLast(4))A=== c", .invalidBase64),
            ("not base64", "ssh-ed25519 \(b64.replacingOccurrences(of: "A", with: "*")) c", .invalidBase64),
            ("wrong outer type", "ssh-rsa \(b64)", .typeMismatch),
            ("unknown type after options", "no-pty ssh-foo \(b64)", .unsupportedKeyType),
            ("unknown first word", "ssh-foo \(b64)", .invalidOption),
            ("two keys on one line after options", "no-pty,ssh-ed25519 \(b64)", .invalidOption),
            ("unterminated quote swallowing the key", #"command="x ssh-ed25519 "# + b64, .invalidOption),
            ("NUL in the options", "no-pty\u{0},restrict ssh-ed25519 \(b64)", .forbiddenCharacter),
            ("CR in the middle", "ssh-ed25519 \(b64)\rssh-ed25519 \(b64)", .forbiddenCharacter),
            ("LF in the middle", "ssh-ed25519 \(b64) a\nssh-ed25519 \(b64)", .forbiddenCharacter),
            ("U+2028 in a value", "command=\"a\u{2028}b\" ssh-ed25519 \(b64)", .forbiddenCharacter),
            ("U+0085 in a value", "command=\"a\u{85}b\" ssh-ed25519 \(b64)", .forbiddenCharacter),
            ("tab in a value", "command=\"a\tb\" ssh-ed25519 \(b64)", .forbiddenCharacter),
            ("huge", "ssh-ed25519 \(b64) " + String(repeating: "x", count: 1 << 20), .tooLarge),
        ]
    }()

    @Test("refuses malformed lines", arguments: badLines.indices)
    func refusesBadLines(_ index: Int) {
        let row = Self.badLines[index]
        #expect(throws: KeyError(row.code, ""), "\(row.name)") { try AuthorizedKey(line: row.line) }
    }

    @Test("values that cannot be rendered safely are refused when the line is made")
    func refusesUnrenderableValues() throws {
        let key = try KeyTextFixtures.ed25519()
        let bad: [[AuthorizedKeyOption]] = [
            [.command(#"ends in a backslash\"#)], [.command("a\nb")], [.command("a\u{0}b")], [.environment(name: "A B", value: "x")],
            [.environment(name: "", value: "x")], [.from([])], [.from([""])], [.from(["a b"])], [.from(["!"])],
            [.principals([]), .certAuthority], [.principals([""]), .certAuthority], [.principals(["a,b"]), .certAuthority],
            [.permitOpen(host: "", port: 1)], [.permitOpen(host: "h", port: 0)], [.permitOpen(host: "h", port: 65536)],
            [.permitOpen(host: "a b", port: 1)], [.permitOpen(host: "[h]", port: 1)], [.permitListen(host: "h/1", port: 1)],
            [.tunnel(.number(-1))], [.tunnel(.number(2_147_483_646))], [.expiryTime("x")], [.expiryTime("20991231 ")],
            [.command("a"), .command("b")], [.from(["*"]), .from(["*"])], [.principals(["a"])],
        ]
        for options in bad {
            #expect(throws: KeyError.self, "\(options)") { try AuthorizedKey(options: options, key: key) }
        }
    }

    @Test("a certificate is refused: sshd never accepts one from authorized_keys")
    func refusesCertificates() throws {
        let directory = try TemporaryDirectory()
        let ca = try KeyTextFixtures.generate(["-t", "ed25519"], comment: "ca", in: directory, name: "ca")
        let user = try KeyTextFixtures.generate(["-t", "ed25519"], comment: "user", in: directory, name: "user")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", ca.privatePath, "-I", "id", "-n", "root", user.publicPath])
        let certificateLine = try directory.read("user-cert.pub").trimmingCharacters(in: .newlines)
        #expect(throws: KeyError(.invalidFormat, "")) { try AuthorizedKey(line: certificateLine) }
        #expect(throws: KeyError(.invalidFormat, "")) { try AuthorizedKey(line: "cert-authority " + certificateLine) }
        // Its CA, marked as one, is fine.
        let caLine = try AuthorizedKey(line: #"cert-authority,principals="root,admin" "# + ca.line)
        #expect(caLine.options == [.certAuthority, .principals(["root", "admin"])])
    }

    @Test("every truncation of a line fails or keeps its key and options; never two keys")
    func truncation() throws {
        let key = try KeyTextFixtures.ed25519()
        let entry = try AuthorizedKey(
            options: [.command(#"echo "a\" b""#), .from(["10.0.0.0/8", "!x"]), .noPty, .environment(name: "A", value: "\"")],
            key: key, comment: "a comment")
        let line = Array(entry.line.utf8)
        for length in 0...line.count {
            do {
                let parsed = try AuthorizedKey(line: String(decoding: line[..<length], as: UTF8.self))
                #expect(parsed.options == entry.options)
                #expect(parsed.key.isSameKey(as: key))
                #expect(entry.comment.hasPrefix(parsed.comment))
            } catch {
                // Fine: an error, not a crash.
            }
        }
    }

    @Test("lines up to the 16 KiB limit are read; longer ones are refused")
    func lineLimit() throws {
        let prefix = "ssh-ed25519 \(KeyTextFixtures.ed25519Base64) "
        let longest = prefix + String(repeating: "c", count: AuthorizedKey.maximumLineLength - prefix.utf8.count)
        #expect(try AuthorizedKey(line: longest).line == longest)
        #expect(try AuthorizedKey(line: longest + "\n").line == longest)
        #expect(throws: KeyError(.tooLarge, "")) { try AuthorizedKey(line: longest + "c") }
        let key = try KeyTextFixtures.ed25519()
        #expect(throws: KeyError(.tooLarge, "")) {
            try AuthorizedKey(options: [.command(String(repeating: "x", count: AuthorizedKey.maximumLineLength))], key: key)
        }
    }

    @Test("a file: blank and # lines skipped, every bad line reported with its number, the rest read")
    func file() throws {
        let b64 = KeyTextFixtures.ed25519Base64
        let text = [
            "# keyfleet", "", "   ", "ssh-ed25519 \(b64) one", "no-pty ssh-ed25519 \(b64) two\r", "  # indented comment",
            "bogus ssh-ed25519 \(b64)", "ssh-ed25519 \(b64.dropLast())", "\tcommand=\"x\" ssh-ed25519 \(b64)",
        ].joined(separator: "\n")
        let results = AuthorizedKeysFile.parse(text)
        #expect(results.map { $0.lineNumber } == [4, 5, 7, 8, 9])
        #expect((try? results[0].result.get())?.comment == "one")
        #expect((try? results[1].result.get())?.options == [.noPty])
        #expect((try? results[1].result.get())?.comment == "two")
        #expect(throws: KeyError(.invalidOption, "")) { try results[2].result.get() }
        #expect(throws: KeyError(.invalidBase64, "")) { try results[3].result.get() }
        if case .failure(let error) = results[2].result { #expect(error.location == "line 7") }
        #expect((try? results[4].result.get())?.options == [.command("x")])
        #expect(AuthorizedKeysFile.keys(in: text).count == 3)
        let rendered = AuthorizedKeysFile.render(AuthorizedKeysFile.keys(in: text))
        #expect(rendered == "ssh-ed25519 \(b64) one\nno-pty ssh-ed25519 \(b64) two\ncommand=\"x\" ssh-ed25519 \(b64)\n")
    }

    @Test(
        "CIDR checks as addr_pton_cidr",
        arguments: [
            ("10.0.0.0/8", true), ("10.0.0.1/32", true), ("10.0.0.1/31", false), ("0.0.0.0/0", true), ("1.2.3.4/33", false),
            ("256.0.0.0/8", false), ("1.2.3/24", false), ("::/0", true), ("::1/128", true), ("::1/127", false),
            ("fe80::/10", true), ("fe80::1/10", false), ("2001:db8::/32", true), ("::ffff:10.0.0.0/104", true),
            ("1:2:3:4:5:6:7:8/128", true), ("1:2:3:4:5:6:7:8:9/128", false), ("1::2::3/128", false), ("::/129", false),
            ("x/8", false), ("10.0.0.0/", false), ("10.0.0.0/+8", false), ("/8", false),
        ])
    func cidr(_ text: String, _ valid: Bool) {
        #expect(AuthorizedKeyCIDR.isValidBlock(text) == valid, "\(text)")
    }
}
