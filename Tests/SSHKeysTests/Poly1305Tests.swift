import Crypto
import CryptoExtras
import Testing
import TestSupport

@testable import SSHKeys

/// Poly1305: the RFC 8439 vectors, swift-crypto's ChaCha20-Poly1305 tags recomputed from random inputs, and
/// `openssl mac POLY1305` at test time.
@Suite("Poly1305")
struct Poly1305Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let message: [UInt8]
        let tag: [UInt8]
        var testDescription: String { name }

        init(_ name: String, key: String, message: [UInt8], tag: String) {
            self.name = name
            self.key = CipherTestTools.bytes(key)
            self.message = message
            self.tag = CipherTestTools.bytes(tag)
        }

        init(_ name: String, key: String, message: String, tag: String) {
            self.init(name, key: key, message: CipherTestTools.bytes(message), tag: tag)
        }
    }

    static let ietfText = Array(
        ("Any submission to the IETF intended by the Contributor for publication as all or part of an IETF "
            + "Internet-Draft or RFC and any statement made within the context of an IETF activity is considered an "
            + "\"IETF Contribution\". Such statements include oral statements in IETF sessions, as well as written and "
            + "electronic communications made at any time or place, which are addressed to").utf8)

    static let jabberwocky = Array(
        "'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe."
            .utf8)

    static let zero16 = String(repeating: "00", count: 16)
    static let rTwo = "02" + String(repeating: "00", count: 15)
    static let rOne = "01" + String(repeating: "00", count: 15)
    static let ones16 = String(repeating: "ff", count: 16)
    static let rTen = "01000000000000000400000000000000"
    static let messageTen = "E33594D7505E43B90000000000000000 3394D7505E4379CD0100000000000000 00000000000000000000000000000000"

    /// RFC 8439 section 2.5.2 and appendix A.3 (test vectors 1 to 11).
    static let vectors: [Vector] = [
        Vector(
            "§2.5.2", key: "85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b",
            message: Array("Cryptographic Forum Research Group".utf8), tag: "a8061dc1305136c6c22b8baf0c0127a9"),
        Vector("A.3 #1", key: zero16 + zero16, message: [UInt8](repeating: 0, count: 64), tag: zero16),
        Vector(
            "A.3 #2", key: zero16 + "36e5f6b5c5e06070f0efca96227a863e", message: ietfText,
            tag: "36e5f6b5c5e06070f0efca96227a863e"),
        Vector(
            "A.3 #3", key: "36e5f6b5c5e06070f0efca96227a863e" + zero16, message: ietfText,
            tag: "f3477e7cd95417af89a6b8794c310cf0"),
        Vector(
            "A.3 #4", key: "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0",
            message: jabberwocky, tag: "4541669a7eaaee61e708dc7cbcc5eb62"),
        Vector("A.3 #5", key: rTwo + zero16, message: ones16, tag: "03000000000000000000000000000000"),
        Vector("A.3 #6", key: rTwo + ones16, message: rTwo, tag: "03000000000000000000000000000000"),
        Vector(
            "A.3 #7", key: rOne + zero16,
            message: ones16 + "F0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" + "11000000000000000000000000000000",
            tag: "05000000000000000000000000000000"),
        Vector(
            "A.3 #8", key: rOne + zero16,
            message: ones16 + "FBFEFEFEFEFEFEFEFEFEFEFEFEFEFEFE" + "01010101010101010101010101010101",
            tag: zero16),
        Vector(
            "A.3 #9", key: rTwo + zero16, message: "FDFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            tag: "FAFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
        Vector(
            "A.3 #10", key: rTen + zero16, message: messageTen + " 01000000000000000000000000000000",
            tag: "14000000000000005500000000000000"),
        Vector("A.3 #11", key: rTen + zero16, message: messageTen, tag: "13000000000000000000000000000000"),
    ]

    @Test(arguments: vectors)
    func rfc8439(_ vector: Vector) throws {
        #expect(vector.key.count == 32)
        #expect(try Poly1305.authenticate(vector.message, key: vector.key) == vector.tag)
    }

    @Test func ietfTextIsTheRFCs() {
        #expect(Self.ietfText.count == 375)
        #expect(Self.jabberwocky.count == 127)
    }

    /// swift-crypto's ChaChaPoly (RFC 8439 AEAD, BoringSSL) tags `pad16(aad) || pad16(ciphertext) ||
    /// le64(aad length) || le64(ciphertext length)` under the first 32 bytes of ChaCha20 block 0; recomputing
    /// its tags from random inputs checks our Poly1305 against an independent implementation.
    @Test(arguments: [0, 1, 15, 16, 17, 31, 32, 33, 64, 100, 1000])
    func matchesSwiftCryptoChaChaPoly(length: Int) throws {
        let keyBytes = CipherTestTools.randomBytes(32)
        let key = SymmetricKey(data: keyBytes)
        let nonceBytes = CipherTestTools.randomBytes(12)
        let aad = CipherTestTools.randomBytes(Int.random(in: 0...40))
        let plaintext = CipherTestTools.randomBytes(length)
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: ChaChaPoly.Nonce(data: nonceBytes), authenticating: aad)

        let oneTimeKey = Array(
            try Insecure.ChaCha20CTR.encrypt(
                [UInt8](repeating: 0, count: 32), using: key, counter: Insecure.ChaCha20CTR.Counter(offset: 0),
                nonce: Insecure.ChaCha20CTR.Nonce(data: nonceBytes)))
        func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (16 - bytes.count % 16) % 16) }
        func littleEndian64(_ value: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
        let ciphertext = Array(box.ciphertext)
        let macData = padded(aad) + padded(ciphertext) + littleEndian64(aad.count) + littleEndian64(ciphertext.count)
        #expect(try Poly1305.authenticate(macData, key: oneTimeKey) == Array(box.tag))
    }

    /// Random keys and messages through `openssl mac -macopt hexkey:… POLY1305`.
    @Test(arguments: [0, 1, 16, 17, 255, 4096])
    func matchesOpenSSL(length: Int) throws {
        let key = CipherTestTools.randomBytes(32)
        let message = CipherTestTools.randomBytes(length)
        let output = try ExternalTool.runChecked(
            "openssl", ["mac", "-macopt", "hexkey:" + CipherTestTools.hex(key), "POLY1305"], input: message)
        let expected = CipherTestTools.bytes(output.text)
        #expect(try Poly1305.authenticate(message, key: key) == expected)
    }

    /// Keys whose `r` limbs are all at their maximum after clamping and whose `s` is all ones, over messages
    /// of 0xff bytes (full and partial blocks): the largest intermediate values and the final carry, checked
    /// against `openssl mac POLY1305`.
    @Test(arguments: [16, 16 * 50 + 7, 1024])
    func extremeValuesMatchOpenSSL(length: Int) throws {
        let key = [UInt8](repeating: 0xff, count: 32)
        let message = [UInt8](repeating: 0xff, count: length)
        let output = try ExternalTool.runChecked(
            "openssl", ["mac", "-macopt", "hexkey:" + CipherTestTools.hex(key), "POLY1305"], input: message)
        #expect(try Poly1305.authenticate(message, key: key) == CipherTestTools.bytes(output.text))
    }

    @Test func refusesKeysOfOtherLengths() {
        for length in [0, 16, 31, 33, 64] {
            #expect(throws: KeyError(.invalidParameter, "")) {
                try Poly1305.authenticate([1, 2, 3], key: CipherTestTools.randomBytes(length))
            }
        }
    }

    @Test func constantTimeEqual() {
        #expect(Poly1305.constantTimeEqual([UInt8](), [UInt8]()))
        #expect(Poly1305.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Poly1305.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Poly1305.constantTimeEqual([1, 2, 3], [1, 2]))
        #expect(!Poly1305.constantTimeEqual([0x80, 2, 3], [0, 2, 3]))
        #expect(Poly1305.constantTimeEqual([9, 1, 2, 3][1...], [1, 2, 3]))
    }
}
