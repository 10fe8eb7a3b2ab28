import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// One way of asking puttygen 0.78 for a .ppk file.
struct PPKVariant: Sendable, CustomTestStringConvertible {
    /// `-t TYPE [-b BITS]`.
    var type: [String]
    var version: Int
    /// `argon2id`, `argon2i` or `argon2d` for encrypted version-3 files.
    var kdf: String?
    var encrypted: Bool

    var testDescription: String {
        "\(type.joined(separator: " ")) v\(version) \(encrypted ? (kdf ?? "sha1") : "plain")"
    }

    /// Small random Argon2 costs, so the suite stays fast while covering lanes and passes.
    static func randomParameters(_ variant: Argon2Parameters.Variant) -> Argon2Parameters {
        let lanes = Int.random(in: 1...3)
        return Argon2Parameters(
            variant: variant, memoryKiB: 8 * lanes * Int.random(in: 1...8), passes: Int.random(in: 1...3), parallelism: lanes)
    }

    /// `--ppk-param` for puttygen.
    func puttygenParameters(_ parameters: Argon2Parameters?) -> String {
        guard version == 3 else { return "version=2" }
        guard let parameters, let kdf else { return "version=3" }
        return "version=3,kdf=\(kdf),memory=\(parameters.memoryKiB),passes=\(parameters.passes),parallelism=\(parameters.parallelism)"
    }

    static let types: [[String]] = [
        ["-t", "ed25519"], ["-t", "ecdsa", "-b", "256"], ["-t", "ecdsa", "-b", "384"], ["-t", "ecdsa", "-b", "521"],
        ["-t", "rsa", "-b", "2048"],
    ]

    static let all: [PPKVariant] = types.flatMap { type in
        [
            PPKVariant(type: type, version: 2, kdf: nil, encrypted: false),
            PPKVariant(type: type, version: 2, kdf: nil, encrypted: true),
            PPKVariant(type: type, version: 3, kdf: nil, encrypted: false),
        ] + ["argon2id", "argon2i", "argon2d"].map { PPKVariant(type: type, version: 3, kdf: $0, encrypted: true) }
    }
}

/// The line `puttygen -l -E HASH` prints for `key` (PuTTY counts Ed25519 as 255 bits and prints MD5 bare).
func puttygenFingerprintLine(_ key: PublicKey, _ hash: FingerprintHash) -> String {
    let bits = key.type == .ed25519 ? 255 : key.bits
    var fingerprint = key.fingerprint(hash)
    if hash == .md5 { fingerprint = String(fingerprint.dropFirst("MD5:".count)) }
    return "\(key.typeName) \(bits) \(fingerprint)\n"
}

/// The secret numbers puttygen itself exports from `path` (unencrypted PEM or OpenSSH), read by our readers.
func puttygenExportedMaterial(_ path: String, passFile: String, in directory: TemporaryDirectory) throws -> PrivateKey.Material {
    let empty = try directory.write("empty-pass", "")
    let out = directory.file("exported-\(UUID().uuidString)")
    try ExternalTool.runChecked("puttygen", [path, "-O", "private-openssh", "--old-passphrase", passFile, "--new-passphrase", empty, "-o", out])
    let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
    return try PrivateKeyDocument(text: text).decrypt(passphrase: nil).material
}

@Suite("PuTTY .ppk against puttygen")
struct PPKFormatTests {
    @Test("puttygen's files: public key, fingerprints, secret numbers, and our byte-identical rewrite", arguments: PPKVariant.all)
    func readsPuttygen(variant: PPKVariant) throws {
        let directory = try TemporaryDirectory()
        let comment = RandomInput.comment()
        let passphrase = variant.encrypted ? RandomInput.passphrase() : ""
        let passFile = try directory.write("pass", passphrase.isEmpty ? "" : passphrase + "\n")
        let argon2 = variant.kdf.flatMap(Argon2Parameters.Variant.init(rawValue:)).map(PPKVariant.randomParameters)
        let path = directory.file("k.ppk")
        try ExternalTool.runChecked(
            "puttygen",
            variant.type + [
                "-C", comment, "-o", path, "--new-passphrase", passFile, "-q", "--ppk-param", variant.puttygenParameters(argon2),
            ])
        let text = try directory.read("k.ppk")
        let document = try PrivateKeyDocument(text: text)

        // What is known without the passphrase.
        let expectedLine = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh"]).text
            .trimmingCharacters(in: .newlines)
        let info = document.info
        #expect(info.format == .ppk(version: variant.version))
        #expect(info.isEncrypted == variant.encrypted)
        #expect(info.comment == comment)
        #expect(info.publicKey?.openSSHLine == expectedLine)
        #expect(info.cipher == (variant.encrypted ? "aes256-cbc" : "none"))
        if let argon2 {
            #expect(info.kdf?.lowercased() == variant.kdf)
            #expect(info.kdfRounds == argon2.passes)
            #expect(info.kdfParameters == ["memory": String(argon2.memoryKiB), "parallelism": String(argon2.parallelism)])
        } else {
            #expect(info.kdf == (variant.encrypted ? "SHA-1" : nil))
        }

        if variant.encrypted {
            #expect(throws: KeyError.passphraseRequired) { try document.decrypt(passphrase: nil) }
            #expect(throws: KeyError.wrongPassphrase) { try document.decrypt(passphrase: Array((passphrase + "x").utf8)) }
        }
        let key = try document.decrypt(passphrase: variant.encrypted ? Array(passphrase.utf8) : nil)
        #expect(key.publicKey.openSSHLine == expectedLine)
        #expect(key.comment == comment)
        for hash in FingerprintHash.allCases {
            let printed = try ExternalTool.runChecked("puttygen", [path, "-l", "-E", hash.rawValue]).text
            #expect(printed == puttygenFingerprintLine(key.publicKey, hash))
        }
        #expect(try puttygenExportedMaterial(path, passFile: passFile, in: directory) == key.material)

        // Written again with the file's own salt and costs, our text is puttygen's, byte for byte.
        let container = try #require(document.container as? PPKContainer)
        let rewritten = try key.ppkText(
            version: variant.version, passphrase: variant.encrypted ? Array(passphrase.utf8) : nil,
            parameters: container.argon2, salt: container.salt)
        #expect(rewritten == text)

        // puttygen's RFC 4716 export reads as the same key and comment.
        let rfc4716 = try ExternalTool.runChecked("puttygen", [path, "-O", "public"]).text
        let exported = try PublicKey(rfc4716: rfc4716)
        #expect(exported.isSameKey(as: key.publicKey))
        #expect(exported.comment == comment)
    }

    @Test("puttygen reads our files: public key, fingerprint, and its MAC check passes", arguments: PPKVariant.all)
    func puttygenReadsOurs(variant: PPKVariant) throws {
        let directory = try TemporaryDirectory()
        let keyType: KeyType =
            switch variant.type[1] {
            case "ed25519": .ed25519
            case "rsa": .rsa
            default: variant.type[3] == "256" ? .ecdsa(.nistp256) : variant.type[3] == "384" ? .ecdsa(.nistp384) : .ecdsa(.nistp521)
            }
        let comment = RandomInput.comment()
        let key = try PrivateKey.generate(keyType, bits: keyType == .rsa ? 2048 : nil, comment: comment)
        let passphrase = variant.encrypted ? RandomInput.passphrase() : ""
        let passFile = try directory.write("pass", passphrase.isEmpty ? "" : passphrase + "\n")
        let argon2 = variant.kdf.flatMap(Argon2Parameters.Variant.init(rawValue:)).map(PPKVariant.randomParameters)
        var generator = SystemRandomNumberGenerator()
        let text = try key.ppkText(
            version: variant.version, passphrase: variant.encrypted ? Array(passphrase.utf8) : nil, parameters: argon2,
            using: &generator)
        let path = try directory.write("ours.ppk", text)

        let line = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh", "--old-passphrase", passFile]).text
        #expect(line == key.publicKey.openSSHLine + "\n")
        let printed = try ExternalTool.runChecked("puttygen", [path, "-l", "-E", "sha256"]).text
        #expect(printed == puttygenFingerprintLine(key.publicKey, .sha256))
        // Exporting the private key needs PuTTY to decrypt ours and verify our MAC.
        #expect(try puttygenExportedMaterial(path, passFile: passFile, in: directory) == key.material)
        if variant.encrypted {
            let wrong = try directory.write("wrong", passphrase + "x\n")
            let refused = try ExternalTool.run("puttygen", [path, "-O", "private-openssh", "--old-passphrase", wrong, "-o", directory.file("no")])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("wrong passphrase"))
        }
        // And we read our own file back.
        let back = try PrivateKeyDocument(text: text).decrypt(passphrase: variant.encrypted ? Array(passphrase.utf8) : nil)
        #expect(back.material == key.material)
        #expect(back.comment == comment)
    }

    @Test("puttygen's DSA keys are read, and written back as puttygen reads them", arguments: [2, 3])
    func readsDSA(version: Int) throws {
        let directory = try TemporaryDirectory()
        let passphrase = RandomInput.passphrase()
        let passFile = try directory.write("pass", passphrase + "\n")
        let path = directory.file("d.ppk")
        let parameters = version == 3 ? "version=3,kdf=argon2id,memory=32,passes=1" : "version=2"
        try ExternalTool.runChecked(
            "puttygen", ["-t", "dsa", "-C", "dsa key", "-o", path, "--new-passphrase", passFile, "-q", "--ppk-param", parameters])
        let key = try PrivateKeyDocument(text: try directory.read("d.ppk")).decrypt(passphrase: Array(passphrase.utf8))
        #expect(key.type == .dsa)
        let expectedLine = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh"]).text
        #expect(key.publicKey.openSSHLine + "\n" == expectedLine)
        #expect(try puttygenExportedMaterial(path, passFile: passFile, in: directory) == key.material)
        // A new passphrase (keyfleet passwd): puttygen opens the file and finds the same key.
        let newPassphrase = RandomInput.passphrase()
        let newPassFile = try directory.write("new-pass", newPassphrase + "\n")
        let written = try directory.write(
            "w.ppk",
            try key.ppkText(
                version: version, passphrase: Array(newPassphrase.utf8), parameters: PPKBrokenInputTests.cheap,
                salt: RandomInput.bytes(16)))
        #expect(try ExternalTool.runChecked("puttygen", [written, "-O", "public-openssh"]).text == expectedLine)
        #expect(try puttygenExportedMaterial(written, passFile: newPassFile, in: directory) == key.material)
    }

    @Test("a comment ending in blanks survives (the MAC decides), and puttygen agrees")
    func trailingBlanksInComment() throws {
        let directory = try TemporaryDirectory()
        let key = try PrivateKey.generate(.ed25519, comment: "ends with blanks  ")
        for version in [2, 3] {
            let text = try key.ppkText(
                version: version, passphrase: Array("pw".utf8), parameters: PPKVariant.randomParameters(.argon2id), salt: RandomInput.bytes(16))
            #expect(text.contains("Comment: ends with blanks  \n"))
            let document = try PrivateKeyDocument(text: text)
            #expect(document.info.comment == "ends with blanks")
            #expect(try document.decrypt(passphrase: Array("pw".utf8)).comment == "ends with blanks  ")
            let path = try directory.write("k\(version).ppk", text)
            let passFile = try directory.write("pass", "pw\n")
            let line = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh", "--old-passphrase", passFile]).text
            #expect(line == key.publicKey.openSSHLine + "\n")
            _ = try puttygenExportedMaterial(path, passFile: passFile, in: directory)
        }
    }
}

// MARK: - Broken and unusual input

@Suite("PuTTY .ppk: broken and unusual input")
struct PPKBrokenInputTests {
    static let passphrase = Array("correct horse".utf8)
    /// Cheapest Argon2 costs, so every mutation can be tried.
    static let cheap = Argon2Parameters(variant: .argon2id, memoryKiB: 8, passes: 1, parallelism: 1)

    static func sample(encrypted: Bool, version: Int = 3, type: KeyType = .ed25519) throws -> (key: PrivateKey, text: String) {
        let key = try PrivateKey.generate(type, comment: "fuzz me")
        let text = try key.ppkText(
            version: version, passphrase: encrypted ? passphrase : nil, parameters: cheap, salt: RandomInput.bytes(16))
        return (key, text)
    }

    /// Reads and decrypts; the key or the error.
    static func load(_ bytes: [UInt8], passphrase: [UInt8]? = PPKBrokenInputTests.passphrase) -> Result<PrivateKey, KeyError> {
        Result { () throws(KeyError) in try PrivateKeyDocument(bytes: bytes).decrypt(passphrase: passphrase) }
    }

    /// Replaces the value of header `name`.
    static func replacing(_ name: String, with value: String, in text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(name + ": ") ? Substring(name + ": " + value) : $0 }
            .joined(separator: "\n")
    }

    @Test("truncation at every length: an error, never a key (except the final line break alone)", arguments: [false, true])
    func truncation(encrypted: Bool) throws {
        let (key, text) = try Self.sample(encrypted: encrypted)
        let bytes = Array(text.utf8)
        for length in 0..<bytes.count {
            switch Self.load(Array(bytes[0..<length])) {
            case .success(let loaded):
                #expect(length == bytes.count - 1, "a key came out of \(length) of \(bytes.count) bytes")
                #expect(loaded.material == key.material)
            case .failure:
                break
            }
        }
    }

    @Test("every bit flipped: the MAC or the parser refuses it (a flip of hex case changes nothing)", arguments: [false, true])
    func bitFlips(encrypted: Bool) throws {
        let (key, text) = try Self.sample(encrypted: encrypted)
        let bytes = Array(text.utf8)
        var accepted = 0
        for index in bytes.indices {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[index] ^= 1 << bit
                if case .success(let loaded) = Self.load(flipped) {
                    accepted += 1
                    // Only the case of a hex digit in the salt or MAC, or the final line break, may change.
                    #expect(loaded.material == key.material && loaded.comment == key.comment)
                    let original = bytes[index], now = flipped[index]
                    let hexCase = bit == 5 && (Character(Unicode.Scalar(original)).isHexDigit && Character(Unicode.Scalar(now)).isHexDigit)
                    #expect(
                        hexCase || index == bytes.count - 1, "flip of bit \(bit) at \(index) accepted: \(String(decoding: flipped, as: UTF8.self))")
                }
            }
        }
        #expect(accepted < 200)
    }

    @Test("the unencrypted and encrypted MAC mismatches are told apart")
    func badMAC() throws {
        for encrypted in [false, true] {
            let (_, text) = try Self.sample(encrypted: encrypted)
            let mac = try #require(text.split(separator: "\n").last?.split(separator: " ").last)
            let other = String(mac.map { $0 == "0" ? "1" : "0" })
            let broken = Self.replacing("Private-MAC", with: other, in: text)
            let result = Self.load(Array(broken.utf8))
            #expect(throws: encrypted ? KeyError.wrongPassphrase : KeyError.corrupt("")) { try result.get() }
            if case .failure(let error) = result, !encrypted { #expect(error.reason.contains("tampered")) }
        }
    }

    @Test("a wrong or missing passphrase")
    func wrongPassphrase() throws {
        for version in [2, 3] {
            let (_, text) = try Self.sample(encrypted: true, version: version)
            let document = try PrivateKeyDocument(text: text)
            #expect(throws: KeyError.wrongPassphrase) { try document.decrypt(passphrase: Array("wrong".utf8)) }
            #expect(throws: KeyError.wrongPassphrase) { try document.decrypt(passphrase: []) }
            #expect(throws: KeyError.passphraseRequired) { try document.decrypt(passphrase: nil) }
        }
        // An unencrypted file ignores a passphrase.
        let (key, plain) = try Self.sample(encrypted: false)
        #expect(try PrivateKeyDocument(text: plain).decrypt(passphrase: Array("any".utf8)).material == key.material)
    }

    @Test("wrong Public-Lines and Private-Lines counts", arguments: ["Public-Lines", "Private-Lines"])
    func wrongLineCounts(header: String) throws {
        let (_, text) = try Self.sample(encrypted: true, type: .rsa)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(header + ": ") })
        let count = try #require(Int(line.split(separator: " ")[1]))
        for wrong in [count - 1, count + 1, 0] {
            let broken = Self.replacing(header, with: String(wrong), in: text)
            #expect(throws: KeyError.self) { try PrivateKeyDocument(text: broken).decrypt(passphrase: Self.passphrase) }
        }
        #expect(throws: KeyError.invalidFormat("")) { try PrivateKeyDocument(text: Self.replacing(header, with: String(count + 1), in: text)) }
        #expect(throws: KeyError(.tooLarge, "")) { try PrivateKeyDocument(text: Self.replacing(header, with: "1025", in: text)) }
        #expect(throws: KeyError.invalidFormat("")) { try PrivateKeyDocument(text: Self.replacing(header, with: "-1", in: text)) }
        #expect(throws: KeyError.invalidFormat("")) { try PrivateKeyDocument(text: Self.replacing(header, with: "99999999999999999999", in: text)) }
    }

    @Test(
        "absurd Argon2 parameters are refused at once, before any memory is taken",
        arguments: [
            ("Argon2-Memory", "4294967295"), ("Argon2-Memory", "1099511627776"), ("Argon2-Memory", "1048577"), ("Argon2-Memory", "0"),
            ("Argon2-Memory", "7"), ("Argon2-Passes", "0"), ("Argon2-Passes", "4294967295"), ("Argon2-Passes", "2097153"),
            ("Argon2-Parallelism", "0"), ("Argon2-Parallelism", "256"), ("Argon2-Parallelism", "2"), ("Argon2-Memory", "-8"),
            ("Argon2-Memory", "8 KiB"), ("Argon2-Salt", ""), ("Argon2-Salt", "abc"), ("Argon2-Salt", "zz"),
        ])
    func absurdArgon2(header: String, value: String) throws {
        let (_, text) = try Self.sample(encrypted: true)
        let broken = Self.replacing(header, with: value, in: text)
        let clock = ContinuousClock()
        let start = clock.now
        let result = Self.load(Array(broken.utf8))
        #expect(clock.now - start < .seconds(1))
        guard case .failure(let error) = result else {
            Issue.record("\(header): \(value) was accepted")
            return
        }
        let expected: Set<KeyError.Code> = header == "Argon2-Salt" && value != "" ? [.invalidFormat] : [.invalidParameter]
        #expect(expected.contains(error.code), "\(error)")
    }

    @Test("the largest accepted Argon2 memory is 1 GiB and is not refused at parse time")
    func argon2Limits() throws {
        let (_, text) = try Self.sample(encrypted: true)
        let document = try PrivateKeyDocument(text: Self.replacing("Argon2-Memory", with: "1048576", in: text))
        #expect(document.info.kdfParameters["memory"] == "1048576")
        // Writing refuses what reading would refuse.
        let key = try PrivateKey.generate(.ed25519)
        #expect(throws: KeyError.invalidParameter("")) {
            try key.ppkText(version: 3, passphrase: [1], parameters: Argon2Parameters(memoryKiB: 2 << 20, passes: 1))
        }
        #expect(throws: KeyError.invalidParameter("")) {
            try key.ppkText(version: 3, passphrase: [1], parameters: Argon2Parameters(memoryKiB: 1 << 20, passes: 17))
        }
        #expect(throws: KeyError.invalidParameter("")) { try key.ppkText(version: 4, passphrase: nil, parameters: nil) }
        #expect(throws: KeyError.invalidParameter("")) { try key.ppkText(version: 1, passphrase: nil, parameters: nil) }
    }

    @Test("CR LF, CR alone, blanks at line ends and blank lines around are accepted", arguments: [false, true])
    func lineEndings(encrypted: Bool) throws {
        let (key, text) = try Self.sample(encrypted: encrypted, type: .rsa)
        let lines = text.split(separator: "\n").map(String.init)
        let variants = [
            lines.joined(separator: "\r\n") + "\r\n",
            lines.joined(separator: "\r") + "\r",
            lines.map { $0 + "  \t" }.joined(separator: "\r\n") + "\r\n",
            "\n\n" + lines.map { $0 + " " }.joined(separator: "\n") + "\n\n \n",
            lines.joined(separator: "\n"),
        ]
        for variant in variants {
            let loaded = try PrivateKeyDocument(text: variant).decrypt(passphrase: Self.passphrase)
            #expect(loaded.material == key.material)
            #expect(loaded.comment == key.comment)
        }
    }

    @Test("headers out of place, unknown values, old and new versions, trailing text")
    func malformedHeaders() throws {
        let (_, text) = try Self.sample(encrypted: true)
        let (_, plain) = try Self.sample(encrypted: false)
        let (_, v2) = try Self.sample(encrypted: true, version: 2)
        func code(_ text: String) -> KeyError.Code? {
            if case .failure(let error) = Self.load(Array(text.utf8)) { return error.code }
            return nil
        }
        #expect(code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3", with: "PuTTY-User-Key-File-1")) == .unsupportedOperation)
        #expect(code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3", with: "PuTTY-User-Key-File-4")) == .unsupportedOperation)
        #expect(code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3", with: "PuTTY-User-Key-File-x")) == .invalidFormat)
        #expect(code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3: ssh-ed25519", with: "PuTTY-User-Key-File-3: ssh-rsa")) == .typeMismatch)
        #expect(
            code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3: ssh-ed25519", with: "PuTTY-User-Key-File-3: ssh-ed448")) == .unsupportedKeyType
        )
        #expect(code(text.replacingOccurrences(of: "Encryption: aes256-cbc", with: "Encryption: aes128-cbc")) == .unsupportedCipher)
        #expect(code(text.replacingOccurrences(of: "Key-Derivation: Argon2id", with: "Key-Derivation: scrypt")) == .unsupportedKDF)
        #expect(code(text.replacingOccurrences(of: "Key-Derivation: Argon2id", with: "Key-Derivation: argon2id")) == .unsupportedKDF)
        #expect(code(v2.replacingOccurrences(of: "Private-MAC:", with: "Private-Hash:")) == .unsupportedOperation)
        #expect(code(text.replacingOccurrences(of: "Private-MAC:", with: "Private-Hash:")) == .unsupportedOperation)
        #expect(code(text + "extra\n") == .trailingData)
        // PuTTY takes any comment bytes but CR and LF (they are shown escaped); the MAC covers them, so a changed
        // comment is refused by it.
        #expect(code(text.replacingOccurrences(of: "Comment: fuzz me", with: "Comment: fuzz\u{1B}[31m")) == .wrongPassphrase)
        #expect(code(text.replacingOccurrences(of: "Comment: fuzz me", with: "Comment: fuzz\u{2028}me")) == .wrongPassphrase)
        // A version 2 file with version 3 headers, and the reverse.
        #expect(code(plain.replacingOccurrences(of: "Private-Lines", with: "Key-Derivation: Argon2id\nPrivate-Lines")) == .invalidFormat)
        #expect(code(text.replacingOccurrences(of: "PuTTY-User-Key-File-3", with: "PuTTY-User-Key-File-2")) == .invalidFormat)
        #expect(code(v2.replacingOccurrences(of: "PuTTY-User-Key-File-2", with: "PuTTY-User-Key-File-3")) == .invalidFormat)
        // A MAC of the other version's length.
        let v3mac = try #require(text.split(separator: "\n").last)
        let v2mac = try #require(v2.split(separator: "\n").last)
        #expect(code(text.replacingOccurrences(of: String(v3mac), with: String(v2mac))) == .invalidFormat)
        // Every header missing in turn.
        for (index, line) in text.split(separator: "\n").enumerated() where line.contains(": ") {
            var lines = text.split(separator: "\n")
            lines.remove(at: index)
            #expect(code(lines.joined(separator: "\n")) != nil, "without \(line)")
        }
    }

    @Test("a public blob that is altered is caught by the MAC; one that is not a key by the parser")
    func publicBlob() throws {
        let (_, text) = try Self.sample(encrypted: false, type: .ecdsa(.nistp256))
        let other = try PrivateKey.generate(.ecdsa(.nistp256))
        let otherLines = PrivateKey.base64Lines(other.publicKey.wireBytes)
        var lines = text.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("Public-Lines: ") }) + 1
        lines.replaceSubrange(start..<(start + otherLines.count), with: otherLines)
        #expect(throws: KeyError.corrupt("")) { try PrivateKeyDocument(text: lines.joined(separator: "\n")).decrypt(passphrase: nil) }
        lines[start] = "!!!!"
        #expect(throws: KeyError.invalidBase64("")) { try PrivateKeyDocument(text: lines.joined(separator: "\n")) }
    }

    @Test("writing: headers in PuTTY's order, LF, 64-character lines, padding from SHA-1, defaults")
    func writerLayout() throws {
        let key = try PrivateKey.generate(.rsa, bits: 2048, comment: "layout")
        let text = try key.ppkText(version: 3, passphrase: Self.passphrase, parameters: Self.cheap, salt: Array(0..<16))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!text.contains("\r"))
        #expect(lines.last == "")
        let names = lines.compactMap { line in line.firstIndex(of: ":").map { String(line[..<$0]) } }
        #expect(
            names == [
                "PuTTY-User-Key-File-3", "Encryption", "Comment", "Public-Lines", "Key-Derivation", "Argon2-Memory",
                "Argon2-Passes", "Argon2-Parallelism", "Argon2-Salt", "Private-Lines", "Private-MAC",
            ])
        #expect(lines.contains("Argon2-Salt: 000102030405060708090a0b0c0d0e0f"))
        for line in lines where !line.contains(":") && !line.isEmpty { #expect(line.count <= 64) }
        #expect(lines.filter { !$0.contains(":") && $0.count == 64 }.count > 10)

        // Unencrypted: no KDF headers, no padding, and version 2 has no KDF headers either.
        let plain = try key.ppkText(version: 3, passphrase: nil, parameters: Self.cheap, salt: Array(0..<16))
        #expect(!plain.contains("Key-Derivation") && plain.contains("Encryption: none\n"))
        let container = try #require(try PrivateKeyDocument(text: plain).container as? PPKContainer)
        #expect(container.privateBlob == key.material.ppkPrivateBlob())
        #expect(try key.ppkText(version: 3, passphrase: [], parameters: nil, salt: Array(0..<16)) == plain)
        let v2 = try key.ppkText(version: 2, passphrase: Self.passphrase, parameters: Self.cheap, salt: [])
        #expect(!v2.contains("Argon2") && v2.hasPrefix("PuTTY-User-Key-File-2: ssh-rsa\nEncryption: aes256-cbc\n"))

        // The padding PuTTY uses: the first bytes of SHA-1 of the unpadded blob, checked after decryption.
        let encrypted = try #require(try PrivateKeyDocument(text: text).container as? PPKContainer)
        var keys = try PPKKeys(version: 3, encryption: .aes256CBC, passphrase: Self.passphrase, argon2: Self.cheap, salt: Array(0..<16))
        defer { keys.wipe() }
        let decrypted = try KeyFileCipher.aes256CBC.decrypt(encrypted.privateBlob, key: keys.cipherKey, iv: keys.iv)
        let blob = try #require(key.material.ppkPrivateBlob())
        #expect(decrypted.count == (blob.count + 15) / 16 * 16)
        #expect(Array(decrypted[blob.count...]) == Array(try sha1(blob).prefix(decrypted.count - blob.count)))
    }

    @Test("default parameters: Argon2id, 8192 KiB, 8 passes, 1 lane, 16-byte salt; serialized(as:) round trip")
    func defaults() throws {
        let key = try PrivateKey.generate(.ed25519, comment: "defaults")
        let text = try key.serialized(as: PrivateKeyEncoding(format: .ppk(version: 3), passphrase: Self.passphrase))
        #expect(text.contains("Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 8\nArgon2-Parallelism: 1\nArgon2-Salt: "))
        let document = try PrivateKeyDocument(text: text)
        let container = try #require(document.container as? PPKContainer)
        #expect(container.salt.count == 16)
        #expect(try document.decrypt(passphrase: Self.passphrase).material == key.material)
        // Two files of the same key differ by their salt.
        let again = try key.serialized(as: PrivateKeyEncoding(format: .ppk(version: 3), passphrase: Self.passphrase))
        #expect(again != text)
    }

    @Test("writing refuses FIDO keys and comments with control characters")
    func writerRefusals() throws {
        let sk = try PrivateKey(
            material: .skEd25519(
                publicKey: Array(repeating: 1, count: 32), application: "ssh:", flags: 1, keyHandle: [1, 2], reserved: []))
        #expect(throws: KeyError.unsupportedOperation("")) { try sk.ppkText(version: 3, passphrase: nil, parameters: nil) }
        var key = try PrivateKey.generate(.ed25519)
        key.comment = "two\nlines"
        #expect(throws: KeyError.forbiddenCharacter(in: "")) { try key.ppkText(version: 3, passphrase: nil, parameters: nil) }
    }

    /// A DSA key made by ssh-keygen (we never generate DSA).
    static func dsaKey() throws -> (PrivateKey, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let path = directory.file("dsa")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "dsa", "-N", "", "-f", path])
        let key = try PrivateKeyDocument(text: try directory.read("dsa")).decrypt(passphrase: nil)
        return (key, directory)
    }
}

/// SHA-1 of `bytes` by the system's sha1sum, for checking PuTTY's padding independently of our code.
private func sha1(_ bytes: [UInt8]) throws -> [UInt8] {
    let hex = try ExternalTool.runChecked("sha1sum", ["-b"], input: bytes).text.prefix(40)
    return try #require(Hex.decode(String(hex)))
}
