import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

@Suite("cloud-init user-data")
struct CloudInitTests {
    static let hash = "sha256:" + String(repeating: "0f", count: 32)

    /// The Python cloud-init runs on (Debian's cloud-init package brings PyYAML to it), else the first on PATH.
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// The document as PyYAML (cloud-init's own loader) reads it, as a JSON value.
    static func load(_ yaml: String, in dir: TemporaryDirectory) throws -> [String: Any] {
        let file = try dir.write("user-data.yaml", yaml)
        let script = "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), ensure_ascii=True))"
        let output = try ExternalTool.runChecked(Self.python, ["-c", script, file]).stdout
        return try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
    }

    /// `cloud-init schema --config-file` must accept the document.
    static func expectValidSchema(_ yaml: String, in dir: TemporaryDirectory, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = try dir.write("schema-check.yaml", yaml)
        let result = try ExternalTool.run("cloud-init", ["schema", "--config-file", file])
        #expect(result.status == 0, "cloud-init schema: \(result.text) \(result.stderr)\n\(yaml)", sourceLocation: sourceLocation)
        #expect(result.text.contains("Valid cloud-config"), sourceLocation: sourceLocation)
    }

    /// Checks the loaded document against effective access and the enrollment.
    static func expectMatches(_ document: [String: Any], host: Host, registry: RegistrySnapshot, now: UInt64, enrollment: Enrollment) throws {
        #expect(document["disable_root"] as? Bool == false)
        #expect(document["allow_public_ssh_keys"] as? Bool == false)
        #expect(document["ssh_authorized_keys"] == nil, "no top-level keys: they go to the default user and root")
        let listed = try #require(document["users"] as? [Any])
        #expect(listed.first as? String == "default", "the image's default user is kept")
        let users = try #require(Array(listed.dropFirst()) as? [[String: Any]])
        let expectedLogins = host.logins.isEmpty ? [LoginName.root] : host.logins
        #expect(users.map { $0["name"] as? String } == expectedLogins.map(\.rawValue))
        for (user, login) in zip(users, expectedLogins) {
            let expected = EffectiveAccess.compute(host: host, login: login, registry: registry, now: now).map(\.line)
            let keys = user["ssh_authorized_keys"] as? [String] ?? []
            #expect(keys == expected, "login \(login)")
            #expect(user["lock_passwd"] as? Bool == (login != .root))
            #expect(Set(user.keys).isSubset(of: ["name", "lock_passwd", "ssh_authorized_keys"]))
            for line in keys {
                let parsed = try AuthorizedKey(line: line)
                #expect(parsed.options.allSatisfy { if case .expiryTime = $0 { true } else { false } })
            }
        }
        let files = try #require(document["write_files"] as? [[String: Any]])
        #expect(files.count == 1)
        let file = try #require(files.first)
        #expect(file["path"] as? String == "/etc/keyfleet/enroll.json")
        #expect(file["permissions"] as? String == "0600")
        #expect(file["owner"] as? String == "root:root")
        let content = try #require(file["content"] as? String)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any])
        #expect(json.count == 4)
        #expect(json["server"] as? String == enrollment.serverURL)
        #expect(json["token"] as? String == enrollment.token)
        #expect(json["hostID"] as? String == host.id.rawValue)
        if let hash = enrollment.caCertHash {
            #expect(json["caCertHash"] as? String == hash)
        } else {
            #expect(json["caCertHash"] is NSNull)
        }
        let commands = try #require(document["runcmd"] as? [[String]])
        // One fixed script; values are its arguments. The token is read from the root-only file, never given
        // on the command line.
        #expect(
            commands == [
                [
                    "sh", "-c", CloudInit.provisionScript, "keyfleet-provision", enrollment.agentPackage?.url ?? "",
                    enrollment.agentPackage?.sha256 ?? "",
                    "/etc/keyfleet/enroll.json",
                ]
            ])
        #expect(!commands.joined().joined().contains(enrollment.token))
        #expect(Set(document.keys) == ["disable_root", "allow_public_ssh_keys", "users", "write_files", "runcmd"])
    }

    @Test("the standard hosts: passes the real schema checker and holds exactly the effective keys", arguments: ["h1", "h2", "hc", "hx", "h3", "hr"])
    func standardHosts(_ name: String) throws {
        let world = try World()
        let dir = try TemporaryDirectory()
        let host = try world.host(name)
        let enrollment = try Enrollment(
            serverURL: "https://keyfleet.example.com:8443", token: "kft_" + String(repeating: "A1b2", count: 10), caCertHash: Self.hash)
        let yaml = CloudInit.userData(host: host, registry: world.snapshot, now: World.now, enrollment: enrollment)
        #expect(yaml.hasPrefix("#cloud-config\n"))
        #expect(yaml.unicodeScalars.allSatisfy { $0 == "\n" || (0x20...0x7E).contains($0.value) }, "printable ASCII only")
        try Self.expectValidSchema(yaml, in: dir)
        try Self.expectMatches(try Self.load(yaml, in: dir), host: host, registry: world.snapshot, now: World.now, enrollment: enrollment)
        #expect(!yaml.contains("k-rescue") || name != "hr", "rescue keys are not provisioned")
    }

    @Test("a host without logins and a login without keys still pass the schema")
    func emptyCases() throws {
        let world = try World()
        let dir = try TemporaryDirectory()
        let enrollment = try Enrollment(serverURL: "http://127.0.0.1:8080", token: String(repeating: "t", count: 43), caCertHash: Self.hash)
        let bare = try Host(id: id("bare"), project: id("p1"), name: "bare", logins: [])
        let yaml = CloudInit.userData(host: bare, registry: world.snapshot, now: World.now, enrollment: enrollment)
        try Self.expectValidSchema(yaml, in: dir)
        try Self.expectMatches(try Self.load(yaml, in: dir), host: bare, registry: world.snapshot, now: World.now, enrollment: enrollment)
        let keyless = try Host(
            id: id("keyless"), project: id("p1"), name: "keyless", logins: [.root, login("ops")], access: [login("ops"): .explicit([])])
        let second = CloudInit.userData(host: keyless, registry: world.snapshot, now: World.now, enrollment: enrollment)
        try Self.expectValidSchema(second, in: dir)
        try Self.expectMatches(try Self.load(second, in: dir), host: keyless, registry: world.snapshot, now: World.now, enrollment: enrollment)
    }

    @Test("a plain-HTTP server: no hash to pin, no --ca-cert-hash, null in the enrollment file, still schema-valid")
    func plainHTTP() throws {
        let world = try World()
        let dir = try TemporaryDirectory()
        let enrollment = try Enrollment(serverURL: "http://127.0.0.1:8080", token: String(repeating: "t", count: 43), caCertHash: nil)
        let host = try world.host("h1")
        let yaml = CloudInit.userData(host: host, registry: world.snapshot, now: World.now, enrollment: enrollment)
        #expect(yaml.components(separatedBy: enrollment.token).count == 2, "the token appears once, in the enrollment file")
        try Self.expectValidSchema(yaml, in: dir)
        try Self.expectMatches(try Self.load(yaml, in: dir), host: host, registry: world.snapshot, now: World.now, enrollment: enrollment)
    }

    @Test("random hosts, logins, keys and hostile names: schema-valid, and the keys read back exactly")
    func randomHosts() throws {
        let dir = try TemporaryDirectory()
        let hostile = [
            "\"", "\\", "\n", "#", ": ", "- ", "---", "...", "'", "{", "}", "[", "]", ",", "&a", "*a", "!tag", "%", "@", "`", "|", ">", "\u{85}", "é",
            "中",
        ]
        for round in 0..<8 {
            var keys = [SSHKeyRecord]()
            let owner: KeyOwner = .project(try id("p1"))
            for index in 0..<Int.random(in: 0...12) {
                var name = RandomInput.comment(maxLength: 40)
                // Mix in YAML syntax; names with line breaks never get this far (checked in EffectiveAccessTests).
                if let piece = hostile.randomElement(), TextPolicy.isAcceptable(piece) { name = String((piece + name).prefix(60)) }
                let key: PublicKey =
                    switch index % 3 {
                    case 0: try TestKeys.ed25519()
                    case 1: try PrivateKey.generate(.ecdsa(.nistp384)).publicKey
                    default: try PrivateKey.generate(.ecdsa(.nistp256)).publicKey
                    }
                let expiry: UInt64? = Bool.random() ? World.now + UInt64.random(in: 1...500_000_000) : nil
                keys.append(
                    try SSHKeyRecord(
                        id: id("k\(round)-\(index)"),
                        name: name.trimmingCharacters(in: .whitespaces).isEmpty ? "n" : name.trimmingCharacters(in: .whitespaces),
                        owner: owner, publicKey: key, comment: RandomInput.comment(), expiresAt: expiry, createdBy: id("alice"), createdAt: 0))
            }
            var logins = [LoginName]()
            for _ in 0..<Int.random(in: 0...4) {
                let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789._-")
                let text = "u" + String((0..<Int.random(in: 0...20)).map { _ in alphabet.randomElement() ?? "a" })
                if let name = LoginName(rawValue: text), !logins.contains(name) { logins.append(name) }
            }
            if Bool.random() { logins.insert(.root, at: 0) }
            var access = [LoginName: Host.LoginAccess]()
            for login in logins where Bool.random() {
                access[login] = .explicit(keys.filter { _ in Bool.random() }.map(\.id))
            }
            let host = try Host(id: id("host-\(round)"), project: id("p1"), name: "random \(round)", logins: logins, access: access)
            let registry = RegistrySnapshot(
                users: [try User(id: id("alice"), name: "alice")], projects: [try Project(id: id("p1"), name: "p1", members: [id("alice"): .owner])],
                keys: keys, hosts: [host])
            let token = String((0..<Int.random(in: 16...80)).map { _ in Array("ABCabc012-_.~").randomElement() ?? "a" })
            let enrollment = try Enrollment(serverURL: "https://kf-\(round).example.org/base?x=1&y='2'", token: token, caCertHash: Self.hash)
            let yaml = CloudInit.userData(host: host, registry: registry, now: World.now, enrollment: enrollment)
            try Self.expectValidSchema(yaml, in: dir)
            try Self.expectMatches(try Self.load(yaml, in: dir), host: host, registry: registry, now: World.now, enrollment: enrollment)
        }
    }

    @Test("the YAML and JSON quoting give back any string exactly")
    func quotingRoundTrip() throws {
        var samples = [
            "", "plain", "\"", "\\", "\\\"", "a: b", "- x", "# c", "---", "...", "\n", "\r\n", "\t", "\u{0}", "\u{7}", "\u{1B}", "\u{7F}", "\u{85}",
            "\u{A0}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}", "😀", "é中ж", "'single'", "{a: [b]}", "&anchor *alias",
            "!!python/object",
            "%YAML 1.2", "\u{202E}", "@", "`", "line1\nline2\n", " lead", "trail ", "null", "~", "true", "0x10", "1e3",
        ]
        for _ in 0..<200 {
            samples.append(String((0..<Int.random(in: 0...20)).map { _ in Character(Unicode.Scalar(UInt32.random(in: 0...0x2FF)) ?? "x") }))
            samples.append(
                String(String.UnicodeScalarView((0..<Int.random(in: 0...8)).compactMap { _ in Unicode.Scalar(UInt32.random(in: 0...0x10FFFF)) })))
        }
        let json = "[" + samples.map(SafeText.jsonQuoted).joined(separator: ",") + "]"
        let yaml = "items:\n" + samples.map { "  - " + SafeText.yamlQuoted($0) + "\n" }.joined() + "json: " + SafeText.yamlQuoted(json) + "\n"
        #expect(yaml.unicodeScalars.allSatisfy { $0 == "\n" || (0x20...0x7E).contains($0.value) })
        let dir = try TemporaryDirectory()
        let file = try dir.write("quoting.yaml", yaml)
        let script = """
            import json, sys, yaml
            doc = yaml.safe_load(open(sys.argv[1], encoding='ascii'))
            assert json.loads(doc['json']) == doc['items']
            print(json.dumps(doc['items'], ensure_ascii=True))
            """
        let output = try ExternalTool.runChecked(Self.python, ["-c", script, file]).stdout
        let items = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String])
        #expect(items.count == samples.count)
        for (item, sample) in zip(items, samples) {
            #expect(Array(item.unicodeScalars) == Array(sample.unicodeScalars), "\(sample.debugDescription)")
        }
    }
}

@Suite("Secret text and certificate pins")
struct SecretTextTests {
    @Test("the pin of a certificate is what openssl and sha256sum say")
    func pinAgreesWithOpenSSL() throws {
        let work = try TemporaryDirectory()
        let certificate = work.file("cert.pem")
        try ExternalTool.runChecked(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", work.file("key.pem"),
                "-out", certificate, "-days", "1", "-subj", "/CN=pin",
            ])
        let der = try ExternalTool.runChecked("openssl", ["x509", "-in", certificate, "-outform", "DER"]).stdout
        let expected = "sha256:" + (try ExternalTool.runChecked("sha256sum", [], input: der)).text.prefix(64)
        #expect(CertificatePin.of(der: der) == expected)
        #expect(CertificatePin.isWellFormed(expected))
        #expect(!CertificatePin.isWellFormed(expected.uppercased()))
        #expect(!CertificatePin.isWellFormed(String(expected.dropLast())))
    }

    @Test(
        "secret text: URL-safe characters and a bounded length",
        arguments: [
            ("kfe_" + String(repeating: "a", count: 12), true), (String(repeating: "a", count: 15), false), ("kft_abc def ghi jkl", false),
            (String(repeating: "~", count: 512), true), (String(repeating: "b", count: 513), false), ("kfh_aaaaaaaaaaaa\n", false),
        ])
    func secretText(_ text: String, _ valid: Bool) {
        #expect(SecretText.isWellFormed(text) == valid)
    }
}
