import Foundation
import Testing
import TestSupport

/// Every toolkit command on PuTTY files, checked with the real puttygen.
@Suite("keyfleet commands on .ppk files against puttygen")
struct PuTTYE2ETests {
    let puttygenTypes: [[String]] = [["-t", "ed25519"], ["-t", "ecdsa", "-b", "384"], ["-t", "rsa", "-b", "2048"]]

    /// Writes `passphrase` to a file for puttygen's --old-passphrase/--new-passphrase.
    func passFile(_ directory: TemporaryDirectory, _ passphrase: String) throws -> String {
        try directory.write("pass-\(UUID().uuidString)", passphrase + "\n")
    }

    /// The public key line of a .ppk file, after puttygen has decrypted it (and so checked its MAC) with
    /// `passphrase`: it exports the private key in OpenSSH format, which ssh-keygen then reads.
    func puttygenPublic(_ path: String, passphrase: String, in directory: TemporaryDirectory) throws -> String {
        let exported = directory.file("exported-\(UUID().uuidString)")
        try ExternalTool.runChecked("puttygen", [path, "-O", "private-openssh", "-o", exported, "--old-passphrase", passFile(directory, passphrase)])
        // puttygen encrypts the export with the same passphrase.
        let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", exported]).text.trimmingCharacters(in: .newlines)
        let comment = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh"]).text
            .trimmingCharacters(in: .newlines).split(separator: " ", maxSplits: 2).dropFirst(2).first.map(String.init)
        return derived.split(separator: " ").prefix(2).joined(separator: " ") + (comment.map { " " + $0 } ?? "")
    }

    @Test(
        "puttygen's keys: fingerprint, pubkey, inspect",
        arguments: [
            ["--ppk-param", "version=2"], ["--ppk-param", "kdf=argon2id,memory=1024,passes=2"],
            ["--ppk-param", "kdf=argon2i,memory=2048,passes=1,parallelism=2"],
        ])
    func readsPuttygenKeys(parameters: [String]) throws {
        let directory = try TemporaryDirectory()
        for type in puttygenTypes {
            let comment = RandomInput.comment().replacingOccurrences(of: "\"", with: "")
            let passphrase = RandomInput.passphrase()
            let path = directory.file("k.ppk")
            try ExternalTool.runChecked(
                "puttygen", type + ["-C", comment, "-o", path, "--new-passphrase", passFile(directory, passphrase)] + parameters)
            let expected = try puttygenPublic(path, passphrase: passphrase, in: directory)

            let pubkey = try KeyfleetBinary.run(["pubkey", "-P", passphrase, path])
            #expect(pubkey.text.trimmingCharacters(in: .newlines) == expected)
            let wrong = try KeyfleetBinary.run(["pubkey", "-P", passphrase + "!", path])
            #expect(wrong.status == 2)
            #expect(wrong.stderr == "keyfleet: \(path): wrong passphrase\n")

            // The fingerprint needs no passphrase: PuTTY files carry the public key and comment in the clear.
            let fingerprint = try KeyfleetBinary.run(["fingerprint", path])
            let theirs = try ExternalTool.runChecked("puttygen", ["-E", "sha256", path, "-O", "fingerprint"]).text
            let theirFingerprint = try #require(theirs.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("SHA256:") })
            #expect(fingerprint.text.contains(" \(theirFingerprint) \(comment) ("))

            let inspect = try KeyfleetBinary.run(["inspect", "--json", path])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout)) as? [String: Any])
            let version = parameters[1] == "version=2" ? 2 : 3
            #expect(object["format"] as? String == "putty ppk version \(version)")
            #expect(object["encrypted"] as? Bool == true)
            if version == 3 {
                #expect(object["kdf"] as? String == (parameters[1].contains("argon2i,") ? "Argon2i" : "Argon2id"))
                #expect(object["kdf memory"] as? String == (parameters[1].contains("memory=1024") ? "1024" : "2048"))
            }
            try FileManager.default.removeItem(atPath: path)
        }
    }

    @Test("passwd and comment keep a .ppk file puttygen reads")
    func passwdAndComment() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k.ppk")
        let first = RandomInput.passphrase(), second = RandomInput.passphrase()
        try ExternalTool.runChecked("puttygen", ["-t", "ed25519", "-C", "before", "-o", path, "--new-passphrase", passFile(directory, first)])
        let original = try puttygenPublic(path, passphrase: first, in: directory)

        #expect(try KeyfleetBinary.run(["passwd", "-P", first, "-N", second, path]).status == 0)
        #expect(try puttygenPublic(path, passphrase: second, in: directory) == original)
        #expect(
            try ExternalTool.run(
                "puttygen", [path, "-O", "private-openssh", "-o", directory.file("x"), "--old-passphrase", passFile(directory, first)]
            ).status != 0)

        #expect(try KeyfleetBinary.run(["comment", "-P", second, "-C", "after edit", path]).status == 0)
        let renamed = try puttygenPublic(path, passphrase: second, in: directory)
        #expect(renamed.hasSuffix(" after edit"))
        #expect(renamed.split(separator: " ").prefix(2) == original.split(separator: " ").prefix(2))

        #expect(try KeyfleetBinary.run(["passwd", "-P", second, "-N", "", path]).status == 0)
        #expect(try puttygenPublic(path, passphrase: "", in: directory) == renamed)
        #expect(try directory.read("k.ppk").contains("Encryption: none"))
    }

    @Test("convert and keygen write .ppk v3 and v2 that puttygen reads", arguments: ["ppk", "ppk2"])
    func writesPPK(format: String) throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        _ = try makeKey(["-t", "ecdsa"], in: directory, name: "source", comment: "from openssh")
        let out = directory.file("out.ppk")
        var arguments = ["convert", "--to", format, "-N", passphrase, "-o", out, directory.file("source")]
        if format == "ppk" { arguments += ["--ppk-param", "kdf=argon2d,memory=4096,passes=3"] }
        let converted = try KeyfleetBinary.run(arguments)
        #expect(converted.status == 0, "\(converted.stderr)")
        let expected = try directory.read("source.pub").trimmingCharacters(in: .newlines)
        #expect(try puttygenPublic(out, passphrase: passphrase, in: directory) == expected)
        let text = try directory.read("out.ppk")
        #expect(text.hasPrefix("PuTTY-User-Key-File-\(format == "ppk" ? 3 : 2): ecdsa-sha2-nistp256"))
        if format == "ppk" {
            #expect(text.contains("Key-Derivation: Argon2d\nArgon2-Memory: 4096\nArgon2-Passes: 3\n"))
        }

        let generated = directory.file("gen.ppk")
        let keygen = try KeyfleetBinary.run(["keygen", "-t", "ed25519", "--format", format, "-N", passphrase, "-C", "made here", "-f", generated])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        #expect(
            try puttygenPublic(generated, passphrase: passphrase, in: directory)
                == (try directory.read("gen.ppk.pub").trimmingCharacters(in: .newlines)))
    }

    @Test("puttygen's RFC 4716 export is read by fingerprint and convert")
    func readsPuttygenExport() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k.ppk")
        try ExternalTool.runChecked(
            "puttygen", ["-t", "rsa", "-b", "2048", "-C", "exported \"key\"", "-o", path, "--new-passphrase", passFile(directory, "")])
        let export = directory.file("k.rfc")
        try ExternalTool.runChecked("puttygen", [path, "-O", "public", "-o", export])
        let expected = try puttygenPublic(path, passphrase: "", in: directory)
        let converted = try KeyfleetBinary.run(["convert", "--to", "openssh", export])
        #expect(converted.text.trimmingCharacters(in: .newlines) == expected)
        let fingerprint = try KeyfleetBinary.run(["fingerprint", export])
        #expect(fingerprint.text.contains("exported \"key\" (RSA)"))
    }

    @Test("a tampered .ppk is refused as corrupt, never half-read")
    func tampered() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k.ppk")
        try ExternalTool.runChecked("puttygen", ["-t", "ed25519", "-C", "c", "-o", path, "--new-passphrase", passFile(directory, "")])
        var text = try directory.read("k.ppk")
        text = text.replacingOccurrences(of: "Comment: c\n", with: "Comment: d\n")
        let tampered = try directory.write("t.ppk", text)
        let result = try KeyfleetBinary.run(["pubkey", tampered])
        #expect(result.status == 1)
        #expect(result.stderr.contains("tampered"))
        #expect(result.text.isEmpty)
    }
}
