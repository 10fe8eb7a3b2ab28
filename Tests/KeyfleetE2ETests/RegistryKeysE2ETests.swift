import Foundation
import Testing
import TestSupport

/// One line on stderr, `keyfleet: ... (code)`, exit status 1.
private func expectRefusal(_ result: ToolResult, code: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 1, "exit status \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
    #expect(lines.count == 1, "not one line: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("keyfleet: "), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasSuffix("(\(code))\n"), "expected code \(code): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
}

private func mode(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("Registry keys: import, refusals and generation through the real binary and server", .serialized)
struct RegistryKeysE2ETests {
    /// A key imported from a file stored as the canonical OpenSSH line of the same key ssh-keygen made.
    private func importAndCheck(
        _ server: RegistryServerProcess, name: String, file: String, publicKeyFile: String, privateKey: Bool = false, extra: [String] = []
    ) async throws {
        let before = try await server.storedKeys().count
        let result = try server.client(["ssh-key", "create", "--name", name, "--public-key-from-file", file, "-o", "json"] + extra)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        // A private key never reaches the server: it would warn that it discarded one.
        #expect(!result.stderr.contains("private-key-discarded"), "\(name): the private key was sent: \(result.stderr)")
        #expect(result.stderr.contains("sending only its public key") == privateKey, "\(name): \(result.stderr)")
        let stored = try await server.storedKeys()
        #expect(stored.count == before + 1)
        let key = try #require(stored.first { $0["name"] as? String == name }, "\(name) not stored")
        let expected = try String(contentsOfFile: publicKeyFile, encoding: .utf8)
        #expect(RealKeys.material(key["public_key"] as? String ?? "") == RealKeys.material(expected), "\(name)")
        #expect(key["fingerprint_sha256"] as? String == (try RealKeys.fingerprint(publicKeyFile)), "\(name)")
        // What the client printed is the stored object.
        let printed = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        #expect(printed?["id"] as? String == key["id"] as? String)
        // Nothing private ever reaches the store or the output.
        #expect(!result.text.contains("PRIVATE"))
        #expect(!(key["public_key"] as? String ?? "").contains("PRIVATE"))
    }

    @Test("import in every format ssh-keygen and puttygen write")
    func importFormats() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }

        let ed25519 = try RealKeys.make("ed25519", in: directory, name: "ed", comment: RandomInput.comment().replacingOccurrences(of: " ", with: "_"))
        try await importAndCheck(server, name: "openssh-line", file: ed25519 + ".pub", publicKeyFile: ed25519 + ".pub")

        let rfcKey = try RealKeys.make("ecdsa", bits: 384, in: directory, name: "ec")
        let rfc = try ExternalTool.runChecked("ssh-keygen", ["-e", "-f", rfcKey + ".pub"]).text
        #expect(rfc.hasPrefix("---- BEGIN SSH2 PUBLIC KEY ----"))
        try await importAndCheck(server, name: "rfc4716", file: try directory.write("ec.rfc", rfc), publicKeyFile: rfcKey + ".pub")

        let rsa = try RealKeys.make("rsa", bits: 2048, in: directory, name: "rsa")
        let pkcs8 = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", "PKCS8", "-f", rsa + ".pub"]).text
        #expect(pkcs8.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        try await importAndCheck(server, name: "pkcs8", file: try directory.write("rsa.pkcs8", pkcs8), publicKeyFile: rsa + ".pub")

        let rsa2 = try RealKeys.make("rsa", bits: 3072, in: directory, name: "rsa2")
        let pem = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", "PEM", "-f", rsa2 + ".pub"]).text
        #expect(pem.hasPrefix("-----BEGIN RSA PUBLIC KEY-----"))
        try await importAndCheck(server, name: "pem", file: try directory.write("rsa2.pem", pem), publicKeyFile: rsa2 + ".pub")

        let putty = try RealKeys.make("ed25519", in: directory, name: "putty")
        try ExternalTool.runChecked("puttygen", [putty, "-O", "private", "-o", directory.file("putty.ppk")])
        try ExternalTool.runChecked("puttygen", [directory.file("putty.ppk"), "-O", "public", "-o", directory.file("putty.ppk.pub")])
        try await importAndCheck(server, name: "ppk-public", file: directory.file("putty.ppk.pub"), publicKeyFile: putty + ".pub")

        // A private key file: the client derives its public key and sends only that, from the clear public
        // part (OpenSSH, PuTTY) or by decrypting it with the passphrase (PEM keeps no clear public part).
        let secret = try RealKeys.make("ecdsa", bits: 256, in: directory, name: "secret")
        try await importAndCheck(server, name: "private-openssh", file: secret, publicKeyFile: secret + ".pub", privateKey: true)
        let puttyPrivate = try RealKeys.make("ed25519", in: directory, name: "putty2")
        try ExternalTool.runChecked("puttygen", [puttyPrivate, "-O", "private", "-o", directory.file("putty2.ppk")])
        try await importAndCheck(
            server, name: "private-ppk", file: directory.file("putty2.ppk"), publicKeyFile: puttyPrivate + ".pub", privateKey: true)
        let pemPrivate = try RealKeys.make("rsa", bits: 2048, in: directory, name: "pem-private")
        try ExternalTool.runChecked("ssh-keygen", ["-p", "-q", "-m", "PEM", "-N", "s3cret pass", "-P", "", "-f", pemPrivate])
        #expect(try String(contentsOfFile: pemPrivate, encoding: .utf8).contains("ENCRYPTED"))
        try await importAndCheck(
            server, name: "private-pem", file: pemPrivate, publicKeyFile: pemPrivate + ".pub", privateKey: true, extra: ["-P", "s3cret pass"])

        // The same key again for the same owner: 409 naming the existing key.
        let again = try server.client(["ssh-key", "create", "--name", "dup", "--public-key-from-file", ed25519 + ".pub"])
        expectRefusal(again, code: "conflict")
        #expect(again.stderr.contains("openssh-line"))

        // list -o json shows every stored key, fingerprint filter finds one.
        let listed = try server.clientJSON(["ssh-key", "list", "-o", "json"]) as? [[String: Any]]
        #expect(listed?.count == 8)
        let fingerprint = try RealKeys.fingerprint(rsa + ".pub")
        let filtered = try server.clientJSON(["ssh-key", "list", "--fingerprint", fingerprint, "-o", "json"]) as? [[String: Any]]
        #expect(filtered?.map { $0["name"] as? String } == ["pkcs8"])
        // The table: a header and one aligned row per key, no trailing blanks.
        let table = try server.client(["ssh-key", "list"])
        #expect(table.status == 0)
        let rows = table.text.split(separator: "\n")
        #expect(rows.count == 9)
        #expect(rows.allSatisfy { !$0.hasSuffix(" ") })
        #expect(rows.first?.hasPrefix("ID") == true)
    }

    @Test("every refusal: one line with its code, exit 1, nothing stored")
    func refusals() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let good = try RealKeys.make("ed25519", in: directory, name: "good")
        let goodLine = try String(contentsOfFile: good + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        let material = RealKeys.material(goodLine)
        let other = try RealKeys.make("ed25519", in: directory, name: "other")
        let otherLine = try String(contentsOfFile: other + ".pub", encoding: .utf8)
        let weak = try RealKeys.make("rsa", bits: 1024, in: directory, name: "weak")
        let dsa = try RealKeys.make("dsa", in: directory, name: "dsa")
        let ca = try RealKeys.make("ed25519", in: directory, name: "ca")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", ca, "-I", "e2e", "-n", "root", good + ".pub"])
        // An unknown type: a well-formed blob whose type name no one knows.
        var blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-unknown".utf8) + [0, 0, 0, 32] + RandomInput.bytes(32)
        let unknown = "ssh-unknown " + Data(blob).base64EncodedString() + " x\n"
        blob.removeAll()

        let cases: [(String, String, String)] = [
            ("two-keys", goodLine + "\n" + otherLine, "multiple-keys"),
            ("control-in-comment", material + " evil\u{1b}[2Jcomment\n", "forbidden-character"),
            ("cr-in-comment", material + " a\rssh-ed25519 AAAA\n", "forbidden-character"),
            ("options", "command=\"/bin/sh\",no-pty " + goodLine + "\n", "options-not-allowed"),
            ("from-option", "from=\"10.0.0.1\" " + goodLine + "\n", "options-not-allowed"),
            ("rsa-1024", try String(contentsOfFile: weak + ".pub", encoding: .utf8), "weak-rsa-key"),
            ("dsa", try String(contentsOfFile: dsa + ".pub", encoding: .utf8), "dsa-key"),
            ("certificate", try String(contentsOfFile: good + "-cert.pub", encoding: .utf8), "certificate-not-key"),
            ("unknown-type", unknown, "unknown-key-type"),
            ("too-large", material + " " + String(repeating: "c", count: 17 * 1024) + "\n", "input-too-large"),
        ]
        let before = try await server.storedKeys()
        let listedBefore = try server.client(["ssh-key", "list", "-o", "json"]).text
        for (name, text, code) in cases {
            let file = try directory.write("in-" + name, text)
            let refused = try server.client(["ssh-key", "create", "--name", name, "--public-key-from-file", file])
            expectRefusal(refused, code: code)
            #expect(refused.stderr.hasPrefix("keyfleet: \(file): "), "the refusal names the file: \(refused.stderr)")
            // The same through standard input.
            expectRefusal(
                try server.client(["ssh-key", "create", "--name", name, "--public-key-from-file", "-"], input: Array(text.utf8)), code: code)
        }
        let after = try await server.storedKeys()
        #expect(after.count == before.count)
        #expect(try server.client(["ssh-key", "list", "-o", "json"]).text == listedBefore)
        // The server's own log never carries the submitted key material.
        #expect(!server.standardError.contains(String(material.split(separator: " ")[1])))
    }

    @Test(
        "generate: private key 0600 that ssh-keygen reads, public key as stored",
        arguments: [
            (["-t", "ed25519"], ""), (["-t", "ecdsa", "-b", "384"], "pass phrase"), (["-t", "rsa", "-b", "2048"], ""),
        ])
    func generate(type: [String], passphrase: String) async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let path = directory.file("id")
        var arguments = ["ssh-key", "generate", "--name", "made"] + type + ["-f", path, "-o", "json"]
        if !passphrase.isEmpty { arguments += ["-N", passphrase] }
        let result = try server.client(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try mode(path) == 0o600)
        // Never on standard output.
        #expect(!result.text.contains("PRIVATE KEY"))
        let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text
        if !passphrase.isEmpty { #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", path]).status != 0) }
        let stored = try await server.storedKeys()
        #expect(stored.count == 1)
        let publicKey = stored.first?["public_key"] as? String ?? ""
        #expect(RealKeys.material(derived) == RealKeys.material(publicKey))
        #expect(RealKeys.material(try directory.read("id.pub")) == RealKeys.material(publicKey))
        #expect(stored.first?["fingerprint_sha256"] as? String == (try RealKeys.fingerprint(path + ".pub")))

        // Never overwrites, and asks the server for nothing when it would have to.
        let original = try directory.read("id")
        let again = try server.client(["ssh-key", "generate", "--name", "again", "-f", path])
        #expect(again.status == 1)
        #expect(try directory.read("id") == original)
        #expect(try await server.storedKeys().count == 1)
    }
}
