import Foundation
import Testing
import TestSupport

func mode(of path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("keyfleet key commands against ssh-keygen")
struct KeyCommandsE2ETests {
    @Test(
        "keygen: files, modes, and ssh-keygen reads what we wrote",
        arguments: [
            ["-t", "ed25519"], ["-t", "ecdsa", "-b", "384"], ["-t", "ecdsa", "-b", "521"], ["-t", "rsa", "-b", "2048"],
        ])
    func keygen(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("id")
        let comment = RandomInput.comment()
        let passphrase = RandomInput.passphrase()
        let cipher = ["aes256-ctr", "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com", "3des-cbc"].randomElement() ?? "aes256-ctr"
        let result = try KeyfleetBinary.run(["keygen"] + type + ["-C", comment, "-N", passphrase, "-a", "2", "-Z", cipher, "-f", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try mode(of: path) == 0o600)
        #expect(try mode(of: path + ".pub") == 0o644)
        let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text
        // ssh-keygen -y -P succeeds on an unencrypted key too: the key must refuse the empty passphrase.
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", path]).status != 0)
        let publicLine = try directory.read("id.pub")
        #expect(derived.split(separator: " ").prefix(2) == publicLine.split(separator: " ").prefix(2))
        #expect(publicLine.hasSuffix(" \(comment)\n"))
        // The fingerprint and randomart printed are the ones ssh-keygen computes.
        let expected = try ExternalTool.runChecked("ssh-keygen", ["-lv", "-f", path + ".pub"]).text
        let lines = expected.split(separator: "\n")
        #expect(result.text.contains(String(lines[0].split(separator: " ")[1])))
        #expect(result.text.contains(lines[1...].joined(separator: "\n")))

        // Never overwrites without --force; with --force it does.
        let again = try KeyfleetBinary.run(["keygen"] + type + ["-N", "", "-f", path])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("keyfleet: \(path): already exists"))
        #expect(try directory.read("id.pub") == publicLine)
        #expect(try KeyfleetBinary.run(["keygen"] + type + ["-N", "", "-f", path, "--force"]).status == 0)
        #expect(try directory.read("id.pub") != publicLine)
    }

    @Test("keygen --format pem and pkcs8 load in ssh-keygen", arguments: ["pem", "pkcs8"])
    func keygenFormats(format: String) throws {
        let directory = try TemporaryDirectory()
        for type in [["-t", "ecdsa"], ["-t", "rsa", "-b", "2048"]] {
            let path = directory.file("k\(type[1])")
            let passphrase = Bool.random() ? "" : RandomInput.passphrase()
            let result = try KeyfleetBinary.run(["keygen"] + type + ["--format", format, "-N", passphrase, "-f", path])
            #expect(result.status == 0, "\(result.stderr)")
            let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text
            #expect(try directory.read("k\(type[1]).pub").hasPrefix(derived.trimmingCharacters(in: .newlines)))
        }
    }

    @Test("keygen takes its new passphrase from KEYFLEET_NEW_PASSPHRASE, as the README says")
    func keygenNewPassphraseFromEnvironment() throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        let made = try KeyfleetBinary.run(
            ["keygen", "-t", "ed25519", "-f", directory.file("k")], environment: ["KEYFLEET_NEW_PASSPHRASE": passphrase])
        #expect(made.status == 0, "\(made.stderr)")
        let expected = try directory.read("k.pub").split(separator: " ").prefix(2).joined(separator: " ")
        let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", directory.file("k")]).text
        #expect(derived.hasPrefix(expected), "ssh-keygen could not open the key with the passphrase from the environment")
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", directory.file("k")]).status != 0, "the key is not encrypted")
    }

    @Test("bad keygen arguments: exit 1 with one line")
    func keygenErrors() throws {
        let directory = try TemporaryDirectory()
        for arguments in [
            ["-t", "dsa"], ["-t", "rsa", "-b", "1024"], ["-t", "ecdsa", "-b", "300"], ["-t", "bogus"],
            ["-t", "ed25519", "-a", "0", "-N", "x"], ["-Z", "rot13", "-N", "x"], ["--format", "jpeg"],
        ] {
            let result = try KeyfleetBinary.run(["keygen"] + arguments + ["-f", directory.file("k")])
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.file("k")), "\(arguments)")
        }
    }

    @Test("pubkey equals ssh-keygen -y for every format; wrong passphrase exits 2", arguments: [[], ["-m", "PEM"], ["-m", "PKCS8"]])
    func pubkey(format: [String]) throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        for type in [["-t", "ecdsa"], ["-t", "rsa", "-b", "2048"]] + (format.isEmpty ? [["-t", "ed25519"]] : []) {
            _ = try makeKey(type, in: directory, name: "k", passphrase: passphrase, extra: format + ["-a", "2"])
            let expected = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", directory.file("k")]).text
            let ours = try KeyfleetBinary.run(["pubkey", "-P", passphrase, directory.file("k")])
            #expect(ours.text == expected)
            let fromEnvironment = try KeyfleetBinary.run(["pubkey", directory.file("k")], environment: ["KEYFLEET_PASSPHRASE": passphrase])
            #expect(fromEnvironment.text == expected)
            let file = try directory.write("pass", passphrase + "\n")
            #expect(try KeyfleetBinary.run(["pubkey", "--passphrase-file", file, directory.file("k")]).text == expected)
            let wrong = try KeyfleetBinary.run(["pubkey", "-P", passphrase + "x", directory.file("k")])
            #expect(wrong.status == 2)
            #expect(wrong.stderr == "keyfleet: \(directory.file("k")): wrong passphrase\n")
            try FileManager.default.removeItem(atPath: directory.file("k"))
            try FileManager.default.removeItem(atPath: directory.file("k.pub"))
        }
    }

    @Test("passwd adds, changes and removes a passphrase in place, keeping mode", arguments: ["openssh", "pem", "pkcs8"])
    func passwd(format: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k")
        #expect(try KeyfleetBinary.run(["keygen", "-t", "ecdsa", "--format", format, "-N", "", "-f", path]).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        let first = RandomInput.passphrase(), second = RandomInput.passphrase()
        #expect(
            try KeyfleetBinary.run(["passwd", "-N", first, "-a", "3", path].filter { format == "openssh" || ($0 != "-a" && $0 != "3") }).status == 0)
        #expect(try mode(of: path) == 0o400)
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", first, "-f", path]).status == 0)
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", path]).status != 0)
        #expect(try KeyfleetBinary.run(["passwd", "-P", first, "-N", second, path]).status == 0)
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", second, "-f", path]).status == 0)
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", first, "-f", path]).status != 0)
        let before = try directory.read("k")
        #expect(try KeyfleetBinary.run(["passwd", "-P", "wrong", "-N", "x", path]).status == 2)
        #expect(try directory.read("k") == before)
        // Without -N and without a terminal, nothing is decided silently: an error, and the file unchanged.
        let silent = try directory.read("k")
        let noNew = try KeyfleetBinary.run(["passwd", "-P", second, path])
        #expect(noNew.status == 1)
        #expect(noNew.stderr.contains("-N ''"))
        #expect(try directory.read("k") == silent)
        #expect(try KeyfleetBinary.run(["passwd", "-P", second, "-N", "", path]).status == 0)
        #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", path]).status == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    @Test("comment changes the key's and FILE.pub's comment, as ssh-keygen sees it")
    func comment() throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        _ = try makeKey(["-t", "ed25519"], in: directory, name: "k", passphrase: passphrase, extra: ["-a", "2"])
        let newComment = RandomInput.comment()
        let result = try KeyfleetBinary.run(["comment", "-P", passphrase, "-C", newComment, directory.file("k")])
        #expect(result.status == 0, "\(result.stderr)")
        try FileManager.default.removeItem(atPath: directory.file("k.pub"))
        let listed = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", directory.file("k")]).text
        #expect(listed.hasSuffix(" \(newComment)\n"))
        #expect(try KeyfleetBinary.run(["comment", "-P", passphrase, "-C", "bad\nline", directory.file("k")]).status == 1)
    }

    @Test("convert: RFC 4716 and PKCS#8 exports agree with ssh-keygen both ways", arguments: keyTypes.prefix(5))
    func convertPublic(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let line = try makeKey(type, in: directory, name: "k", comment: "cmt")
        let bare = line.split(separator: " ").prefix(2).joined(separator: " ")
        // OpenSSH 9.2 exports Ed25519 only as RFC 4716; PKCS#1 exists only for RSA.
        let targets = [("rfc4716", "RFC4716")] + (type[1] == "ed25519" ? [] : [("pkcs8", "PKCS8")]) + (type[1] == "ed25519" ? [] : [("pem", "PEM")])
        for (target, mode) in targets {
            let ours = try KeyfleetBinary.run(["convert", "--to", target, directory.file("k.pub")])
            #expect(ours.status == 0, "\(target): \(ours.stderr)")
            if target != "rfc4716" {
                let theirs = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", mode, "-f", directory.file("k.pub")]).text
                #expect(ours.text == theirs, "\(target)")
            }
            let exported = try directory.write("exported.\(target)", ours.text)
            // ssh-keygen -i -m PEM reads only RSA; its -e -m PEM of other keys is SubjectPublicKeyInfo.
            let importMode = mode == "PEM" && type[1] != "rsa" ? "PKCS8" : mode
            let imported = try ExternalTool.runChecked("ssh-keygen", ["-i", "-m", importMode, "-f", exported]).text
            #expect(imported.trimmingCharacters(in: .newlines) == bare)
            let theirs = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", mode, "-f", directory.file("k.pub")]).text
            let theirsPath = try directory.write("theirs.\(target)", theirs)
            let back = try KeyfleetBinary.run(["convert", "--to", "openssh", theirsPath])
            #expect(back.text.trimmingCharacters(in: .newlines).split(separator: " ").prefix(2).joined(separator: " ") == bare, "\(target)")
        }
    }

    @Test("convert a private key between formats; ssh-keygen reads every result")
    func convertPrivate() throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        let line = try makeKey(["-t", "ecdsa"], in: directory, name: "k", passphrase: passphrase, extra: ["-a", "2"])
        let bare = line.split(separator: " ").prefix(2).joined(separator: " ")
        for target in ["pem", "pkcs8", "openssh"] {
            let out = directory.file("out-\(target)")
            let result = try KeyfleetBinary.run(["convert", "--to", target, "-P", passphrase, "-o", out, directory.file("k")])
            #expect(result.status == 0, "\(target): \(result.stderr)")
            #expect(try mode(of: out) == 0o600)
            let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", out]).text
            #expect(derived.hasPrefix(bare))
            // Still under the key's passphrase, never written in the clear by default.
            #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", "", "-f", out]).status != 0, "\(target)")
        }
        let publicOnly = try KeyfleetBinary.run(["convert", "--to", "openssh", "--public", directory.file("k")])
        #expect(publicOnly.text.hasPrefix(bare))
    }

    @Test("inspect reports format, KDF and warnings")
    func inspect() throws {
        let directory = try TemporaryDirectory()
        _ = try makeKey(["-t", "rsa", "-b", "1024"], in: directory, name: "weak", passphrase: "pw", extra: ["-a", "4", "-Z", "aes128-cbc"])
        let result = try KeyfleetBinary.run(["inspect", "--json", "-P", "pw", directory.file("weak")])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(object["format"] as? String == "openssh-key-v1")
        #expect(object["cipher"] as? String == "aes128-cbc")
        #expect(object["kdf rounds"] as? Int == 4)
        #expect(object["bits"] as? Int == 1024)
        let warnings = object["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("under 2048") })
        #expect(warnings.contains { $0.contains("bcrypt rounds") })
        let expected = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", directory.file("weak.pub")]).text
        #expect(expected.contains(object["sha256"] as? String ?? "none"))
        let table = try KeyfleetBinary.run(["inspect", directory.file("weak")])
        #expect(table.status == 0)
        #expect(table.text.contains("encrypted:"))
    }

    @Test("doctor finds bad modes and missing .pub files; --fix repairs them")
    func doctor() throws {
        let home = try TemporaryDirectory()
        let ssh = home.file(".ssh")
        try FileManager.default.createDirectory(atPath: ssh, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o775], ofItemAtPath: ssh)
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", ssh + "/id_ed25519"])
        try FileManager.default.removeItem(atPath: ssh + "/id_ed25519.pub")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: ssh + "/id_ed25519")
        let authorized = ssh + "/authorized_keys"
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: authorized))
        try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: authorized)

        let check = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(check.status == 1)
        #expect(check.text.contains("\(ssh): has mode 0775"))
        #expect(check.text.contains("id_ed25519: has mode 0644"))
        #expect(check.text.contains("has no .pub file"))
        #expect(check.text.contains("authorized_keys: has mode 0666"))
        #expect(check.text.contains("line 1:"))

        let fix = try KeyfleetBinary.run(["doctor", "--fix", "--home", home.path])
        #expect(fix.text.contains("(fixed)"))
        #expect(try mode(of: ssh) == 0o700)
        #expect(try mode(of: ssh + "/id_ed25519") == 0o600)
        #expect(try mode(of: authorized) == 0o600)
        let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-f", ssh + "/id_ed25519"]).text
        #expect(try String(contentsOfFile: ssh + "/id_ed25519.pub", encoding: .utf8).hasPrefix(derived.trimmingCharacters(in: .newlines)))
    }
}
