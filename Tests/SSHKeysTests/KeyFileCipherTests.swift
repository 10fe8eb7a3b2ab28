import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// Tests of the key-file ciphers: OpenSSH's table, round trips, refusals, the 64-bit-nonce ChaCha20 against
/// `openssl enc -chacha20`, and every cipher against files written by the real `ssh-keygen`.
@Suite("KeyFileCipher")
struct KeyFileCipherTests {
    // MARK: The table

    /// The lengths in OpenSSH 9.2's `cipher.c` (`ciphers[]`, with `cipher_ivlen`'s default of the block size).
    struct Lengths: Sendable, CustomTestStringConvertible {
        let name: String
        let key: Int
        let iv: Int
        let block: Int
        let tag: Int
        var testDescription: String { name }
    }

    static let openSSHTable: [Lengths] = [
        Lengths(name: "3des-cbc", key: 24, iv: 8, block: 8, tag: 0),
        Lengths(name: "aes128-cbc", key: 16, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes192-cbc", key: 24, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes256-cbc", key: 32, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes128-ctr", key: 16, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes192-ctr", key: 24, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes256-ctr", key: 32, iv: 16, block: 16, tag: 0),
        Lengths(name: "aes128-gcm@openssh.com", key: 16, iv: 12, block: 16, tag: 16),
        Lengths(name: "aes256-gcm@openssh.com", key: 32, iv: 12, block: 16, tag: 16),
        Lengths(name: "chacha20-poly1305@openssh.com", key: 64, iv: 0, block: 8, tag: 16),
        Lengths(name: "none", key: 0, iv: 8, block: 8, tag: 0),
    ]

    @Test(arguments: openSSHTable)
    func lengthsMatchOpenSSH(_ expected: Lengths) throws {
        let cipher = try KeyFileCipher.named(expected.name)
        #expect(cipher.name == expected.name)
        #expect(cipher.keyLength == expected.key)
        #expect(cipher.ivLength == expected.iv)
        #expect(cipher.blockSize == expected.block)
        #expect(cipher.authTagLength == expected.tag)
        #expect(cipher.isAuthenticated == (expected.tag > 0))
    }

    @Test func allListsEveryCipherOnce() {
        #expect(KeyFileCipher.names == Self.openSSHTable.map(\.name))
        #expect(Set(KeyFileCipher.names).count == KeyFileCipher.all.count)
        #expect(KeyFileCipher.openSSHDefault.name == "aes256-ctr")
    }

    @Test(arguments: [
        "", "AES256-CTR", "aes256-ctr ", "aes256-gcm", "chacha20-poly1305", "des-cbc", "blowfish-cbc",
        "arcfour", "none\0", "aes256-ctr\n",
    ])
    func unknownNamesAreRefused(_ name: String) {
        #expect(throws: KeyError(.unsupportedCipher, "")) { try KeyFileCipher.named(name) }
    }

    // MARK: Round trips and refusals

    static let lengthsInBlocks = [0, 1, 2, 3, 17, 64]

    @Test(arguments: KeyFileCipher.all, lengthsInBlocks)
    func roundTrip(_ cipher: KeyFileCipher, blocks: Int) throws {
        let key = CipherTestTools.randomBytes(cipher.keyLength)
        let iv = CipherTestTools.randomBytes(cipher.ivLength)
        let plaintext = CipherTestTools.randomBytes(blocks * cipher.blockSize)
        let sealed = try cipher.encrypt(plaintext, key: key, iv: iv)
        #expect(sealed.count == plaintext.count + cipher.authTagLength)
        if cipher.algorithm != .none && plaintext.count >= 16 {
            #expect(Array(sealed.prefix(plaintext.count)) != plaintext)
        }
        #expect(try cipher.decrypt(sealed, key: key, iv: iv) == plaintext)
    }

    @Test(arguments: KeyFileCipher.all)
    func partialBlocksAreInvalidFormat(_ cipher: KeyFileCipher) {
        let key = CipherTestTools.randomBytes(cipher.keyLength)
        let iv = CipherTestTools.randomBytes(cipher.ivLength)
        for count in [1, cipher.blockSize - 1, cipher.blockSize + 1, 3 * cipher.blockSize - 1] {
            let data = CipherTestTools.randomBytes(count)
            #expect(throws: KeyError(.invalidFormat, "")) { try cipher.encrypt(data, key: key, iv: iv) }
            let withTag = data + CipherTestTools.randomBytes(cipher.authTagLength)
            #expect(throws: KeyError(.invalidFormat, "")) { try cipher.decrypt(withTag, key: key, iv: iv) }
        }
    }

    @Test(arguments: KeyFileCipher.all.filter { $0.algorithm != .none })
    func wrongKeyOrIVLengthIsInvalidParameter(_ cipher: KeyFileCipher) {
        let data = CipherTestTools.randomBytes(cipher.blockSize * 2)
        let sealed = data + CipherTestTools.randomBytes(cipher.authTagLength)
        let goodKey = CipherTestTools.randomBytes(cipher.keyLength)
        let goodIV = CipherTestTools.randomBytes(cipher.ivLength)
        for keyLength in [0, cipher.keyLength - 1, cipher.keyLength + 1, 32, 64] where keyLength != cipher.keyLength {
            let key = CipherTestTools.randomBytes(keyLength)
            #expect(throws: KeyError(.invalidParameter, "")) { try cipher.encrypt(data, key: key, iv: goodIV) }
            #expect(throws: KeyError(.invalidParameter, "")) { try cipher.decrypt(sealed, key: key, iv: goodIV) }
        }
        for ivLength in [0, 8, 12, 16, 17] where ivLength != cipher.ivLength {
            let iv = CipherTestTools.randomBytes(ivLength)
            #expect(throws: KeyError(.invalidParameter, "")) { try cipher.encrypt(data, key: goodKey, iv: iv) }
            #expect(throws: KeyError(.invalidParameter, "")) { try cipher.decrypt(sealed, key: goodKey, iv: iv) }
        }
    }

    @Test func noneIgnoresKeyAndIV() throws {
        let data = CipherTestTools.randomBytes(24)
        #expect(try KeyFileCipher.none.encrypt(data, key: [], iv: []) == data)
        #expect(try KeyFileCipher.none.decrypt(data, key: [1, 2, 3], iv: [UInt8](repeating: 0, count: 8)) == data)
    }

    static let authenticated = KeyFileCipher.all.filter(\.isAuthenticated)

    @Test(arguments: authenticated)
    func anyFlippedBitIsWrongPassphrase(_ cipher: KeyFileCipher) throws {
        let key = CipherTestTools.randomBytes(cipher.keyLength)
        let iv = CipherTestTools.randomBytes(cipher.ivLength)
        let sealed = try cipher.encrypt(CipherTestTools.randomBytes(4 * cipher.blockSize), key: key, iv: iv)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 1 << UInt8.random(in: 0..<8)
            #expect(throws: KeyError.wrongPassphrase) { try cipher.decrypt(tampered, key: key, iv: iv) }
        }
        var otherKey = key
        otherKey[0] ^= 0x80
        #expect(throws: KeyError.wrongPassphrase) { try cipher.decrypt(sealed, key: otherKey, iv: iv) }
        if cipher.algorithm == .chaCha20Poly1305 {
            // Only the first half of the key is used in a key file.
            var otherSecondHalf = key
            otherSecondHalf[40] ^= 0xff
            #expect(try cipher.decrypt(sealed, key: otherSecondHalf, iv: iv) == cipher.decrypt(sealed, key: key, iv: iv))
        }
    }

    @Test(arguments: authenticated)
    func inputShorterThanTheTagIsTruncated(_ cipher: KeyFileCipher) {
        let key = CipherTestTools.randomBytes(cipher.keyLength)
        let iv = CipherTestTools.randomBytes(cipher.ivLength)
        for count in 0..<cipher.authTagLength {
            #expect(throws: KeyError(.truncated, "")) {
                try cipher.decrypt(CipherTestTools.randomBytes(count), key: key, iv: iv)
            }
        }
    }

    // MARK: ChaCha20 with OpenSSH's 64-bit nonce

    /// RFC 8439 section 2.4.2: its 96-bit nonce 00:00:00:00:00:00:00:4a:00:00:00:00 and 32-bit counter 1 are,
    /// in the original layout, counter 1 and nonce 00:00:00:4a:00:00:00:00.
    @Test func chaCha20MatchesRFC8439Section242() throws {
        let key = Array(UInt8(0)...UInt8(31))
        let plaintext = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
                .utf8)
        let expected = CipherTestTools.bytes(
            """
            6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b357\
            1639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736\
            5af90bbf74a35be6b40b8eedf2785e42874d
            """)
        let output = try ChaCha20.xor(plaintext, key: key, nonce: [0, 0, 0, 0x4a, 0, 0, 0, 0], counter: 1)
        #expect(output == expected)
    }

    /// `openssl enc -chacha20` takes a 16-byte IV that is state words 12 to 15: the original ChaCha20's
    /// 64-bit little-endian counter followed by its 64-bit nonce, and carries from word 12 into word 13.
    /// Counters just below 2^32 check that carry.
    @Test(
        arguments: [UInt64(0), 1, 7, 0xffff_fffe, 0xffff_ffff, 0x1_0000_0000, 0x1234_5678_ffff_fffd, UInt64.random(in: 0...(1 << 62))]
    )
    func chaCha20MatchesOpenSSL(counter: UInt64) throws {
        let key = CipherTestTools.randomBytes(32)
        let nonce = CipherTestTools.randomBytes(8)
        let input = CipherTestTools.randomBytes(Int.random(in: 130...400))
        var iv: [UInt8] = []
        for shift in stride(from: 0, to: 64, by: 8) { iv.append(UInt8(truncatingIfNeeded: counter >> UInt64(shift))) }
        iv += nonce
        let expected = try ExternalTool.runChecked(
            "openssl", ["enc", "-chacha20", "-K", CipherTestTools.hex(key), "-iv", CipherTestTools.hex(iv)], input: input
        ).stdout
        #expect(try ChaCha20.xor(input, key: key, nonce: nonce, counter: counter) == expected)
    }

    // MARK: Padding

    @Test(arguments: [8, 16])
    func pkcs7RoundTrip(blockSize: Int) {
        for count in 0...(3 * blockSize) {
            let data = CipherTestTools.randomBytes(count)
            let padded = BlockPadding.pkcs7Padded(data, blockSize: blockSize)
            #expect(padded.count % blockSize == 0)
            #expect(padded.count > data.count && padded.count <= data.count + blockSize)
            #expect(BlockPadding.pkcs7Unpadded(padded, blockSize: blockSize) == data)
        }
    }

    @Test func pkcs7RefusesBadPadding() {
        let block = [UInt8](repeating: 0x41, count: 8)
        #expect(BlockPadding.pkcs7Unpadded([], blockSize: 8) == nil)
        #expect(BlockPadding.pkcs7Unpadded(block + [1, 2, 3], blockSize: 8) == nil)  // not whole blocks
        #expect(BlockPadding.pkcs7Unpadded(block + [1, 2, 3, 4, 5, 6, 7, 0], blockSize: 8) == nil)  // zero
        #expect(BlockPadding.pkcs7Unpadded(block + [9, 9, 9, 9, 9, 9, 9, 9], blockSize: 8) == nil)  // too big
        #expect(BlockPadding.pkcs7Unpadded(block + [0, 0, 0, 0, 0, 3, 2, 3], blockSize: 8) == nil)  // mismatch
        #expect(BlockPadding.pkcs7Unpadded([UInt8](repeating: 8, count: 8), blockSize: 8) == [])
        #expect(BlockPadding.pkcs7Unpadded(block + [0, 0, 0, 0, 0, 3, 3, 3], blockSize: 8) == block + [0, 0, 0, 0, 0])
        // A 16 in an 8-byte block size is bad even though 16 bytes are there.
        #expect(BlockPadding.pkcs7Unpadded([UInt8](repeating: 16, count: 16), blockSize: 8) == nil)
    }

    @Test func openSSHPadding() {
        #expect(BlockPadding.openSSHPadded([9, 9, 9], blockSize: 8) == [9, 9, 9, 1, 2, 3, 4, 5])
        #expect(BlockPadding.openSSHPadded([UInt8](repeating: 9, count: 16), blockSize: 16).count == 16)
        #expect(BlockPadding.isOpenSSHPadding([UInt8]()))
        #expect(BlockPadding.isOpenSSHPadding([1, 2, 3, 4]))
        #expect(!BlockPadding.isOpenSSHPadding([1, 2, 4]))
        #expect(!BlockPadding.isOpenSSHPadding([0]))
    }

    // MARK: Against ssh-keygen

    /// `ssh-keygen -t ed25519 -Z <cipher> -N <random passphrase> -a 2` writes a key; we derive key and IV
    /// with bcrypt_pbkdf, decrypt, and find equal check integers, the same public key inside as outside and
    /// OpenSSH's padding. Encrypting the plaintext again gives the file's bytes exactly, and a file we encrypt
    /// under a new passphrase is one `ssh-keygen -y` reads.
    @Test(arguments: KeyFileCipher.names)
    func decryptsWhatSSHKeygenWrites(_ name: String) throws {
        let cipher = try KeyFileCipher.named(name)
        let directory = try CipherTestTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("id").path
        let passphrase = CipherTestTools.randomPassphrase()
        try ExternalTool.runChecked(
            "ssh-keygen", ["-q", "-t", "ed25519", "-Z", name, "-N", passphrase, "-a", "2", "-C", "cipher test", "-f", path])
        let file = try CipherTestKeyFile(pem: String(contentsOfFile: path, encoding: .utf8))
        #expect(file.cipherName == name)
        #expect(file.kdfName == "bcrypt")
        #expect(file.rounds == 2)

        let derived = try BcryptPBKDF.deriveKey(
            passphrase: Array(passphrase.utf8), salt: file.salt, rounds: Int(file.rounds),
            keyLength: cipher.keyLength + cipher.ivLength)
        let key = Array(derived[..<cipher.keyLength])
        let iv = Array(derived[cipher.keyLength...])
        let plaintext = try cipher.decrypt(file.encrypted, key: key, iv: iv)
        try file.checkPrivateSection(plaintext, blockSize: cipher.blockSize)

        // Encrypting again with the same key and IV gives the same bytes (and tag).
        #expect(try cipher.encrypt(plaintext, key: key, iv: iv) == file.encrypted)

        // A wrong passphrase: the authenticated ciphers say so, the others give unequal check integers.
        let wrongDerived = try BcryptPBKDF.deriveKey(
            passphrase: Array((passphrase + "x").utf8), salt: file.salt, rounds: Int(file.rounds),
            keyLength: cipher.keyLength + cipher.ivLength)
        let wrongKey = Array(wrongDerived[..<cipher.keyLength])
        let wrongIV = Array(wrongDerived[cipher.keyLength...])
        if cipher.isAuthenticated {
            #expect(throws: KeyError.wrongPassphrase) { try cipher.decrypt(file.encrypted, key: wrongKey, iv: wrongIV) }
        } else if cipher.algorithm != .none {
            let garbage = try cipher.decrypt(file.encrypted, key: wrongKey, iv: wrongIV)
            #expect(garbage[0..<4] != garbage[4..<8])
        }

        // Encrypt under a new passphrase and salt; ssh-keygen must read it back.
        let newPassphrase = CipherTestTools.randomPassphrase()
        let newSalt = CipherTestTools.randomBytes(16)
        let newDerived = try BcryptPBKDF.deriveKey(
            passphrase: Array(newPassphrase.utf8), salt: newSalt, rounds: 3,
            keyLength: cipher.keyLength + cipher.ivLength)
        let reencrypted = try cipher.encrypt(
            plaintext, key: Array(newDerived[..<cipher.keyLength]), iv: Array(newDerived[cipher.keyLength...]))
        let rewritten = file.replacingEncryption(salt: newSalt, rounds: 3, encrypted: reencrypted)
        let rewrittenPath = directory.appendingPathComponent("rewritten").path
        try rewritten.pem.write(toFile: rewrittenPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: rewrittenPath)
        let publicLine = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", newPassphrase, "-f", rewrittenPath]).text
        let expectedLine = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        #expect(
            publicLine.split(separator: " ").prefix(2)
                == expectedLine.split(separator: " ").prefix(2))
    }

    /// `ssh-keygen -N ""` writes cipher and KDF `none`; the section is plaintext, a whole number of 8-byte blocks.
    @Test
    func readsAnUnencryptedSSHKeygenFile() throws {
        let directory = try CipherTestTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("id").path
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path])
        let file = try CipherTestKeyFile(pem: String(contentsOfFile: path, encoding: .utf8))
        #expect(file.cipherName == "none")
        #expect(file.kdfName == "none")
        let cipher = try KeyFileCipher.named(file.cipherName)
        let plaintext = try cipher.decrypt(file.encrypted, key: [], iv: [])
        try file.checkPrivateSection(plaintext, blockSize: cipher.blockSize)
    }
}

// MARK: - Just enough of openssh-key-v1 (PROTOCOL.key) for the tests

/// The outer structure of an openssh-key-v1 file with one key, parsed here independently of the library's
/// own reader so that the cipher tests do not depend on it.
struct CipherTestKeyFile {
    static let magic = Array("openssh-key-v1\0".utf8)
    static let begin = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let end = "-----END OPENSSH PRIVATE KEY-----"

    var cipherName: String
    var kdfName: String
    var salt: [UInt8] = []
    var rounds: UInt32 = 0
    var publicBlob: [UInt8]
    /// The encrypted section followed by the tag.
    var encrypted: [UInt8]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    init(pem: String) throws {
        let body = pem.split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("-----") }
            .joined()
        guard pem.contains(Self.begin), pem.contains(Self.end), let data = Data(base64Encoded: body) else {
            throw Malformed(description: "not an OpenSSH private key file")
        }
        var reader = Reader(bytes: Array(data))
        guard try reader.raw(Self.magic.count) == Self.magic else { throw Malformed(description: "bad magic") }
        cipherName = String(decoding: try reader.string(), as: UTF8.self)
        kdfName = String(decoding: try reader.string(), as: UTF8.self)
        var options = Reader(bytes: try reader.string())
        if kdfName == "bcrypt" {
            salt = try options.string()
            rounds = try options.uint32()
        }
        guard try reader.uint32() == 1 else { throw Malformed(description: "expected one key") }
        publicBlob = try reader.string()
        let length = Int(try reader.uint32())
        // The tag is not counted in the length; it is whatever follows.
        encrypted = try reader.raw(reader.remaining)
        guard encrypted.count >= length else { throw Malformed(description: "short encrypted section") }
        let tagLength = try KeyFileCipher.named(cipherName).authTagLength
        guard encrypted.count == length + tagLength else { throw Malformed(description: "bad tag length") }
    }

    /// Checks a decrypted private section: equal check integers, an Ed25519 key whose public half is the
    /// file's public key, a comment, and padding 1, 2, 3, … to a whole number of blocks.
    func checkPrivateSection(_ plaintext: [UInt8], blockSize: Int) throws {
        #expect(plaintext.count % blockSize == 0)
        var reader = Reader(bytes: plaintext)
        let check1 = try reader.uint32()
        let check2 = try reader.uint32()
        #expect(check1 == check2)
        let type = try reader.string()
        let publicKey = try reader.string()
        let privateKey = try reader.string()
        _ = try reader.string()  // comment
        #expect(type == Array("ssh-ed25519".utf8))
        var outer = Reader(bytes: publicBlob)
        #expect(try outer.string() == type)
        #expect(try outer.string() == publicKey)
        #expect(privateKey.count == 64 && Array(privateKey[32...]) == publicKey)
        #expect(BlockPadding.isOpenSSHPadding(try reader.raw(reader.remaining)))
    }

    /// The same key file with a new bcrypt salt and rounds and a new encrypted section.
    func replacingEncryption(salt newSalt: [UInt8], rounds newRounds: UInt32, encrypted newEncrypted: [UInt8]) -> (
        pem: String, bytes: [UInt8]
    ) {
        var options: [UInt8] = []
        Self.appendString(newSalt, to: &options)
        Self.appendUInt32(newRounds, to: &options)
        var bytes = Self.magic
        Self.appendString(Array(cipherName.utf8), to: &bytes)
        Self.appendString(Array("bcrypt".utf8), to: &bytes)
        Self.appendString(options, to: &bytes)
        Self.appendUInt32(1, to: &bytes)
        Self.appendString(publicBlob, to: &bytes)
        let tagLength = (try? KeyFileCipher.named(cipherName).authTagLength) ?? 0
        Self.appendUInt32(UInt32(newEncrypted.count - tagLength), to: &bytes)
        bytes += newEncrypted
        let base64 = Data(bytes).base64EncodedString()
        var lines: [String] = [Self.begin]
        var index = base64.startIndex
        while index < base64.endIndex {
            let next = base64.index(index, offsetBy: 70, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<next]))
            index = next
        }
        lines.append(Self.end)
        return (lines.joined(separator: "\n") + "\n", bytes)
    }

    static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> UInt32($0)) }
    }

    static func appendString(_ value: [UInt8], to bytes: inout [UInt8]) {
        appendUInt32(UInt32(value.count), to: &bytes)
        bytes += value
    }

    struct Reader {
        var bytes: [UInt8]
        var offset = 0
        var remaining: Int { bytes.count - offset }

        mutating func raw(_ count: Int) throws -> [UInt8] {
            guard count >= 0, count <= remaining else { throw Malformed(description: "truncated") }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func uint32() throws -> UInt32 {
            try raw(4).reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func string() throws -> [UInt8] {
            try raw(Int(try uint32()))
        }
    }
}

// MARK: - Helpers shared by the cipher tests

/// Random inputs, hex and temporary directories for the cipher tests; real tools (`openssl`, `ssh-keygen`) run
/// through TestSupport's ``ExternalTool``.
enum CipherTestTools {
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<max(count, 0)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func randomPassphrase() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,")
        return String((0..<20).map { _ in alphabet.randomElement() ?? "a" })
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Bytes from hex digits; whitespace and colons are ignored.
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.compactMap { UInt8(String($0), radix: 16) }
        return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keyfleet-cipher-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        return url
    }
}

extension KeyFileCipher: CustomTestStringConvertible {
    var testDescription: String { name }
}
