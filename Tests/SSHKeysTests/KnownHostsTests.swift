import Foundation
import Testing
import TestSupport

@testable import SSHKeys

@Suite("known_hosts")
struct KnownHostsTests {
    /// Hosts fields, a host and port looked up, and whether ssh uses the line (match_hostname in match.c,
    /// put_host_port in misc.c). ``sshKeygenFindAgrees()`` checks every row against `ssh-keygen -F`.
    static let matching: [(hosts: String, host: String, port: Int, matches: Bool)] = [
        ("example.com", "example.com", 22, true),
        ("example.com", "EXAMPLE.com", 22, true),
        ("Example.COM", "example.com", 22, true),
        ("example.com", "example.com", 2222, false),
        ("example.com", "example.co", 22, false),
        ("[example.com]:2222", "example.com", 2222, true),
        ("[example.com]:2222", "example.com", 22, false),
        ("[example.com]:2222", "example.com", 2223, false),
        ("*.example.com", "a.example.com", 22, true),
        ("*.example.com", "example.com", 22, false),
        ("*.example.com,!bad.example.com", "bad.example.com", 22, false),
        ("!bad.example.com,*.example.com", "bad.example.com", 22, false),
        ("*.example.com,!bad.example.com", "good.example.com", 22, true),
        ("!bad.example.com", "other.example.com", 22, false),
        ("host?", "host1", 22, true),
        ("host?", "host", 22, false),
        ("host?", "host12", 22, false),
        ("*", "anything.test", 22, true),
        ("[*]:*", "h.test", 2222, true),
        ("[*]:*", "h.test", 22, false),
        ("192.168.0.*", "192.168.0.17", 22, true),
        ("a*b*c", "axxbyyc", 22, true),
        ("a*b*c", "axxbyy", 22, false),
        ("**x", "abx", 22, true),
        ("*x*", "x", 22, true),
        ("[::1]:2222", "::1", 2222, true),
        ("one.test,two.test,three.test", "two.test", 22, true),
        ("one.test,two.test,three.test", "four.test", 22, false),
    ]

    @Test("matches hosts as ssh does", arguments: matching.indices)
    func matchesLikeSSH(_ index: Int) throws {
        let row = Self.matching[index]
        let entry = try KnownHost(line: "\(row.hosts) \(KeyTextFixtures.ed25519Line)")
        #expect(entry.matches(host: row.host, port: row.port) == row.matches, "\(row.hosts) vs \(row.host):\(row.port)")
    }

    @Test(
        "reads and renders lines",
        arguments: [
            ("host.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64)", "host.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64)"),
            (
                "  a.test,b.test\tssh-ed25519   \(KeyTextFixtures.ed25519Base64)  some comment  \r\n",
                "a.test,b.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64) some comment"
            ),
            (
                "@cert-authority *.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64) ca",
                "@cert-authority *.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64) ca"
            ),
            ("@revoked\t* ssh-ed25519 \(KeyTextFixtures.ed25519Base64)", "@revoked * ssh-ed25519 \(KeyTextFixtures.ed25519Base64)"),
            (
                "|1|iKfaLP/3kAgKHViRBXmdxWSSt4o=|5er1InAqOci6stFvcBxwiuJIRH8= ssh-ed25519 \(KeyTextFixtures.ed25519Base64)",
                "|1|iKfaLP/3kAgKHViRBXmdxWSSt4o=|5er1InAqOci6stFvcBxwiuJIRH8= ssh-ed25519 \(KeyTextFixtures.ed25519Base64)"
            ),
        ])
    func readsAndRenders(_ line: String, _ rendered: String) throws {
        let entry = try KnownHost(line: line)
        #expect(entry.line == rendered)
        #expect(try KnownHost(line: entry.line) == entry)
    }

    @Test("marker and hosts are read into their parts")
    func parts() throws {
        let entry = try KnownHost(line: "@cert-authority *.test,!x.test ssh-ed25519 \(KeyTextFixtures.ed25519Base64) my ca")
        #expect(entry.marker == .certAuthority)
        #expect(entry.hosts == .patterns(["*.test", "!x.test"]))
        #expect(entry.comment == "my ca")
        let hashed = try KnownHost(line: "|1|iKfaLP/3kAgKHViRBXmdxWSSt4o=|5er1InAqOci6stFvcBxwiuJIRH8= ssh-ed25519 \(KeyTextFixtures.ed25519Base64)")
        guard case .hashed(let salt, let hash) = hashed.hosts else {
            Issue.record("not hashed")
            return
        }
        #expect(salt.count == 20 && hash.count == 20)
    }

    /// A known vector: `printf 'example.com <KeyTextFixtures.ed25519Line>\n' > f; ssh-keygen -H -f f`
    /// (OpenSSH 9.2p1), re-derived here from its salt.
    @Test("hashedHost reproduces a known ssh-keygen -H line")
    func knownHashVector() throws {
        let field = "|1|iKfaLP/3kAgKHViRBXmdxWSSt4o=|5er1InAqOci6stFvcBxwiuJIRH8="
        let entry = try KnownHost(line: "\(field) \(KeyTextFixtures.ed25519Line)")
        guard case .hashed(let salt, _) = entry.hosts else {
            Issue.record("not hashed")
            return
        }
        let name = "example.com"
        #expect(entry.matches(host: name))
        #expect(entry.matches(host: "Example.COM"))
        #expect(!entry.matches(host: name, port: 2222))
        #expect(!entry.matches(host: "example.org"))
        #expect(try KnownHost.hashedHost(name, salt: salt) == field)
        #expect(try KnownHost.hashedHost(name.uppercased(), salt: salt) == field)
        #expect(throws: KeyError(.invalidParameter, "")) { try KnownHost.hashedHost(name, salt: Array(salt.dropLast())) }
    }

    // MARK: Real tools

    /// Host names in mixed case, some with ports, for `ssh-keygen -H`.
    static func randomHostName() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        let label = { String((0..<Int.random(in: 1...12)).map { _ in letters.randomElement() ?? "a" }) }
        let name = (0..<Int.random(in: 1...3)).map { _ in label() }.joined(separator: ".")
        switch Int.random(in: 0...3) {
        case 0: return "[\(name)]:\(Int.random(in: 1024...65535))"
        case 1: return "\(Int.random(in: 1...254)).\(Int.random(in: 0...255)).\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
        default: return name
        }
    }

    @Test("byte-identical to ssh-keygen -H given its salts; its hashed lines match their hosts", arguments: 0..<3)
    func sshKeygenHash(_ round: Int) throws {
        let directory = try TemporaryDirectory()
        let generated = try KeyTextFixtures.generate(["-t", "ed25519"], comment: RandomInput.comment(), in: directory, name: "host")
        let key = try PublicKey(openSSHLine: generated.line)
        var entries = [KnownHost]()
        for _ in 0..<12 {
            let names = (0..<Int.random(in: 1...3)).map { _ in Self.randomHostName() }
            entries.append(try KnownHost(hosts: .patterns(names), key: key))
        }
        // Lines ssh-keygen leaves alone: a wildcard, a marker, one already hashed.
        entries.append(try KnownHost(hosts: .patterns(["*.wild.test"]), key: key))
        entries.append(try KnownHost(marker: .certAuthority, hosts: .patterns(["ca.test"]), key: key))
        entries.append(try KnownHost(hashing: "already.test", salt: RandomInput.bytes(20), key: key))
        entries.shuffle()
        let path = try directory.write("known_hosts", KnownHostsFile.render(entries))
        try ExternalTool.runChecked("ssh-keygen", ["-H", "-f", path])
        let hashedText = try directory.read("known_hosts")

        let theirs = KnownHostsFile.parse(hashedText).map { try? $0.result.get() }
        #expect(theirs.allSatisfy { $0 != nil })
        var salts = theirs.compactMap { entry -> [UInt8]? in
            guard case .hashed(let salt, _) = entry?.hosts else { return nil }
            return salt
        }.makeIterator()
        var ours = [KnownHost]()
        for entry in entries {
            let hashed = try entry.hashingHostNames { salts.next() ?? [] }
            // An entry already hashed keeps its own salt, so skip the one ssh-keygen copied.
            if case .hashed = entry.hosts { _ = salts.next() }
            ours += hashed
        }
        #expect(KnownHostsFile.render(ours) == hashedText)

        // Each hashed name matches its own line and hashes to the same text.
        var index = 0
        for entry in entries {
            guard case .patterns(let names) = entry.hosts, entry.marker == nil, !names.contains(where: { $0.contains("*") }) else {
                index += 1
                continue
            }
            for name in names {
                let hashedEntry = try #require(theirs[index])
                guard case .hashed(let salt, _) = hashedEntry.hosts else {
                    Issue.record("line \(index + 1) is not hashed")
                    return
                }
                #expect(try KnownHost.hashedHost(name, salt: salt) == hashedEntry.hosts.text)
                let (host, port) = Self.split(name)
                #expect(hashedEntry.matches(host: host, port: port), "\(name)")
                #expect(!hashedEntry.matches(host: host + "x", port: port))
                index += 1
            }
        }
    }

    /// `[host]:port` as host and port; a plain name as itself and 22.
    static func split(_ name: String) -> (String, Int) {
        guard name.hasPrefix("["), let close = name.lastIndex(of: "]"),
            let port = Int(name[name.index(close, offsetBy: 2)...])
        else { return (name, 22) }
        return (String(name[name.index(after: name.startIndex)..<close]), port)
    }

    @Test("ssh-keygen -F finds the same lines as matches(host:port:)")
    func sshKeygenFindAgrees() throws {
        let directory = try TemporaryDirectory()
        let key = try KeyTextFixtures.ed25519()
        var lines = Self.matching.map { "\($0.hosts) \(KeyTextFixtures.ed25519Line)" }
        lines.append("@cert-authority *.example.com \(KeyTextFixtures.ed25519Line)")
        lines.append("@revoked host? \(KeyTextFixtures.ed25519Line)")
        let queries: [(String, Int)] = Self.matching.map { ($0.host.lowercased(), $0.port) } + [("nothing.test", 22), ("h.test", 1)]
        for (host, port) in queries.prefix(6) {
            lines.append(try KnownHost(hashing: host, port: port, salt: RandomInput.bytes(20), key: key).line)
        }
        let text = lines.joined(separator: "\n") + "\n"
        let path = try directory.write("known_hosts", text)
        for (host, port) in queries {
            let query = port == 22 ? host : "[\(host)]:\(port)"
            let result = try ExternalTool.run("ssh-keygen", ["-F", query, "-f", path])
            let found = result.text.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("# Host "), let range = line.range(of: " found: line ") else { return nil }
                return Int(line[range.upperBound...].prefix { $0.isNumber })
            }
            #expect(KnownHostsFile.lines(matching: host, port: port, in: text) == found, "\(query)")
        }
    }

    @Test("ssh trusts the server exactly when our line matches it")
    func sshAgrees() throws {
        let directory = try TemporaryDirectory()
        let user = try KeyTextFixtures.generate(["-t", "ed25519"], comment: "user", in: directory, name: "user")
        let server = try LoopbackSSHD(authorizedKeys: user.line + "\n")
        let hostKey = try PublicKey(openSSHLine: server.hostKeyLine)
        let other = try KeyTextFixtures.ed25519()
        let port = server.port
        let files: [(name: String, entries: [KnownHost])] = [
            ("hashed", [try KnownHost(hashing: "127.0.0.1", port: port, salt: RandomInput.bytes(20), key: hostKey)]),
            ("wildcards", [try KnownHost(hosts: .patterns(["[127.0.0.?]:*"]), key: hostKey)]),
            ("exact with port", [try KnownHost(hosts: .patterns(["other.test", "[127.0.0.1]:\(port)"]), key: hostKey)]),
            ("without the port", [try KnownHost(hosts: .patterns(["127.0.0.1"]), key: hostKey)]),
            ("negated", [try KnownHost(hosts: .patterns(["[127.0.0.*]:*", "![127.0.0.1]:*"]), key: hostKey)]),
            ("hashed, wrong port", [try KnownHost(hashing: "127.0.0.1", port: port + 1, salt: RandomInput.bytes(20), key: hostKey)]),
            ("another key", [try KnownHost(hosts: .patterns(["[127.0.0.1]:\(port)"]), key: other)]),
            (
                "revoked",
                [
                    try KnownHost(hosts: .patterns(["[127.0.0.1]:\(port)"]), key: hostKey),
                    try KnownHost(marker: .revoked, hosts: .patterns(["*"]), key: hostKey),
                ]
            ),
        ]
        for file in files {
            let path = try directory.write("known_hosts_\(file.name.replacingOccurrences(of: " ", with: "_"))", KnownHostsFile.render(file.entries))
            // ssh's policy (sshconnect.c check_host_key): lines for [host]:port decide; when there is none,
            // a line for the plain host with the very same key is trusted too.
            func trusts(port: Int) -> Bool? {
                let lines = file.entries.filter { $0.marker == nil && $0.matches(host: "127.0.0.1", port: port) }
                return lines.isEmpty ? nil : lines.contains { $0.key.isSameKey(as: hostKey) }
            }
            let revoked = file.entries.contains {
                $0.marker == .revoked && $0.key.isSameKey(as: hostKey) && $0.matches(host: "127.0.0.1", port: port)
            }
            let trusted = !revoked && (trusts(port: port) ?? (trusts(port: 22) ?? false))
            let result = try server.ssh(identity: user.privatePath, command: "true", knownHosts: path)
            #expect((result.status == 0) == trusted, "\(file.name): ssh exited \(result.status): \(result.stderr)")
        }
    }

    // MARK: Hostile input

    @Test("a comment never smuggles a second key", arguments: KeyTextFixtures.smugglingComments)
    func smuggling(_ comment: String) throws {
        let key = try KeyTextFixtures.ed25519()
        #expect(throws: KeyError(.forbiddenCharacter, "")) { try KnownHost(line: "host.test \(KeyTextFixtures.ed25519Line) \(comment)") }
        #expect(throws: KeyError(.forbiddenCharacter, "")) { try KnownHost(hosts: .patterns(["h"]), key: key, comment: comment) }
        #expect(throws: KeyError.self) { try KnownHost(hosts: .patterns([comment]), key: key) }
    }

    static let badLines: [(name: String, line: String, code: KeyError.Code)] = {
        let key = "ssh-ed25519 \(KeyTextFixtures.ed25519Base64)"
        let salt = "iKfaLP/3kAgKHViRBXmdxWSSt4o=", hash = "5er1InAqOci6stFvcBxwiuJIRH8="
        return [
            ("empty", "", .invalidFormat),
            ("comment", "# host \(key)", .invalidFormat),
            ("host only", "host.test", .invalidFormat),
            ("host and comment", "host.test # \(key)", .invalidFormat),
            ("unknown marker", "@trusted host \(key)", .invalidFormat),
            ("marker case", "@Revoked host \(key)", .invalidFormat),
            ("two markers", "@cert-authority @revoked host \(key)", .invalidFormat),
            ("marker only", "@revoked", .invalidFormat),
            ("marker and host only", "@revoked host", .invalidFormat),
            ("empty pattern", "a,,b \(key)", .invalidFormat),
            ("trailing comma", "a, \(key)", .invalidFormat),
            ("bare negation", "!,a \(key)", .invalidFormat),
            ("hash magic 2", "|2|\(salt)|\(hash) \(key)", .invalidFormat),
            ("hash without hash", "|1|\(salt) \(key)", .invalidFormat),
            ("hash with extra field", "|1|\(salt)|\(hash)|x \(key)", .invalidFormat),
            ("short salt", "|1|\(Base64.encode([UInt8](repeating: 1, count: 19)))|\(hash) \(key)", .invalidFormat),
            ("long hash", "|1|\(salt)|\(Base64.encode([UInt8](repeating: 1, count: 21))) \(key)", .invalidFormat),
            ("salt without padding", "|1|\(salt.dropLast())|\(hash) \(key)", .invalidFormat),
            ("SSH-1 key", "host 1024 35 1234567", .unsupportedKeyType),
            ("bad base64", "host ssh-ed25519 \(KeyTextFixtures.ed25519Base64.dropLast())", .invalidBase64),
            ("extra padding", "host \(key)=", .invalidBase64),
            ("wrong outer type", "host ssh-rsa \(KeyTextFixtures.ed25519Base64)", .typeMismatch),
            ("CR inside", "host \(key)\rhost2 \(key)", .forbiddenCharacter),
            ("NUL in hosts", "ho\u{0}st \(key)", .forbiddenCharacter),
            ("U+2028 in hosts", "a\u{2028}b \(key)", .invalidFormat),
            ("huge", "host \(key) " + String(repeating: "c", count: 1 << 20), .tooLarge),
        ]
    }()

    @Test("refuses malformed lines", arguments: badLines.indices)
    func refusesBadLines(_ index: Int) {
        let row = Self.badLines[index]
        #expect(throws: KeyError(row.code, ""), "\(row.name)") { try KnownHost(line: row.line) }
    }

    @Test("every truncation fails or keeps marker, hosts and key; never a crash")
    func truncation() throws {
        let key = try KeyTextFixtures.ed25519()
        for entry in [
            try KnownHost(marker: .revoked, hosts: .patterns(["a.test", "[b.test]:22", "!c*"]), key: key, comment: "comment here"),
            try KnownHost(hashing: "a.test", salt: RandomInput.bytes(20), key: key, marker: .certAuthority),
        ] {
            let line = Array(entry.line.utf8)
            for length in 0...line.count {
                guard let parsed = try? KnownHost(line: String(decoding: line[..<length], as: UTF8.self)) else { continue }
                #expect(parsed.marker == entry.marker && parsed.hosts == entry.hosts && parsed.key.isSameKey(as: key))
                #expect(entry.comment.hasPrefix(parsed.comment))
            }
        }
    }

    @Test("patterns cannot change how the line is read")
    func refusesUnrenderablePatterns() throws {
        let key = try KeyTextFixtures.ed25519()
        for patterns in [[], [""], ["a b"], ["a,b"], ["|1|x"], ["#x"], ["@revoked"], ["!"], [String(repeating: "a", count: 1023)], ["a\tb"]] {
            #expect(throws: KeyError.self, "\(patterns)") { try KnownHost(hosts: .patterns(patterns), key: key) }
        }
        #expect(throws: KeyError.self) { try KnownHost(hosts: .hashed(salt: [1], hash: [2]), key: key) }
        #expect(throws: KeyError.self) { try KnownHost(hashing: "h", salt: [1, 2, 3], key: key) }
    }

    @Test("wildcard matching stays fast on hostile patterns")
    func pathologicalPattern() throws {
        let pattern = String(repeating: "*a", count: 300) + "*b"
        let entry = try KnownHost(hosts: .patterns([pattern]), key: try KeyTextFixtures.ed25519())
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(!entry.matches(host: String(repeating: "a", count: 1000)))
        }
        #expect(elapsed < .seconds(2))
    }

    @Test("a file: blank and # lines skipped, bad lines reported with their numbers")
    func file() throws {
        let text =
            "# known\n\nhost.test \(KeyTextFixtures.ed25519Line)\n@bogus h \(KeyTextFixtures.ed25519Line)\n"
            + "  *.test \(KeyTextFixtures.ed25519Line)\r\n"
        let results = KnownHostsFile.parse(text)
        #expect(results.map { $0.lineNumber } == [3, 4, 5])
        if case .failure(let error) = results[1].result { #expect(error.location == "line 4") } else { Issue.record("line 4 read") }
        #expect(KnownHostsFile.lines(matching: "x.test", in: text) == [5])
        #expect(KnownHostsFile.lines(matching: "host.test", in: text) == [3, 5])
    }
}
