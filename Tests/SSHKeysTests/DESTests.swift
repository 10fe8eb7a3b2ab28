import Testing
import TestSupport

@testable import SSHKeys

/// Triple DES: known answers from NIST, round trips, refusals, and `openssl enc -des-ede3-cbc` at test time.
@Suite("DES")
struct DESTests {
    /// One block of single DES: triple DES with K1 = K2 = K3 is single DES, and CBC with a zero IV over one
    /// block is the bare block cipher.
    struct SingleDESVector: Sendable, CustomTestStringConvertible {
        let source: String
        let key: String
        let plaintext: String
        let ciphertext: String
        var testDescription: String { "\(source): \(key) \(plaintext)" }
    }

    static let singleDESVectors: [SingleDESVector] = [
        // The worked example of the standard's textbook presentation (Grabbe, "The DES Algorithm Illustrated").
        SingleDESVector(
            source: "worked example", key: "133457799BBCDFF1", plaintext: "0123456789ABCDEF",
            ciphertext: "85E813540F0AB405"),
        // NIST SP 800-17, Table A.1 (variable plaintext known answer test).
        SingleDESVector(
            source: "SP 800-17 A.1", key: "0101010101010101", plaintext: "8000000000000000",
            ciphertext: "95F8A5E5DD31D900"),
        SingleDESVector(
            source: "SP 800-17 A.1", key: "0101010101010101", plaintext: "4000000000000000",
            ciphertext: "DD7F121CA5015619"),
        SingleDESVector(
            source: "SP 800-17 A.1", key: "0101010101010101", plaintext: "0000000000000001",
            ciphertext: "166B40B44ABA4BD6"),
        // NIST SP 800-17, Table A.2 (variable key known answer test).
        SingleDESVector(
            source: "SP 800-17 A.2", key: "8001010101010101", plaintext: "0000000000000000",
            ciphertext: "95A8D72813DAA94D"),
    ]

    @Test(arguments: singleDESVectors)
    func singleDESKnownAnswers(_ vector: SingleDESVector) throws {
        let key = CipherTestTools.bytes(vector.key)
        let tripled = key + key + key
        let zeroIV = [UInt8](repeating: 0, count: 8)
        let plaintext = CipherTestTools.bytes(vector.plaintext)
        let ciphertext = CipherTestTools.bytes(vector.ciphertext)
        #expect(try TripleDES.cbcEncrypt(plaintext, key: tripled, iv: zeroIV) == ciphertext)
        #expect(try TripleDES.cbcDecrypt(ciphertext, key: tripled, iv: zeroIV) == plaintext)
    }

    /// NIST SP 800-67 Rev. 1 Appendix B: "The qufck brown fox jump" in ECB mode under three different keys.
    @Test func tripleDESExampleFromSP80067() throws {
        let key = CipherTestTools.bytes("0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123")
        let plaintext = Array("The qufck brown fox jump".utf8)
        let expected = CipherTestTools.bytes("A826FD8CE53B855F CCE21C8112256FE6 68D5C05DD9B6B900")
        let zeroIV = [UInt8](repeating: 0, count: 8)
        for block in 0..<3 {
            let range = block * 8..<block * 8 + 8
            #expect(try TripleDES.cbcEncrypt(Array(plaintext[range]), key: key, iv: zeroIV) == Array(expected[range]))
            #expect(try TripleDES.cbcDecrypt(Array(expected[range]), key: key, iv: zeroIV) == Array(plaintext[range]))
        }
    }

    @Test func substitutionBoxRowsArePermutations() {
        #expect(DES.substitutionBoxes.count == 8)
        for box in DES.substitutionBoxes {
            #expect(box.count == 64)
            for row in 0..<4 { #expect(Set(box[row * 16..<row * 16 + 16]) == Set(0...15)) }
        }
    }

    @Test func parityBitsAreIgnored() throws {
        let key = CipherTestTools.randomBytes(24)
        let flipped = key.map { $0 ^ 1 }
        let iv = CipherTestTools.randomBytes(8)
        let data = CipherTestTools.randomBytes(32)
        #expect(try TripleDES.cbcEncrypt(data, key: key, iv: iv) == TripleDES.cbcEncrypt(data, key: flipped, iv: iv))
    }

    @Test(arguments: [0, 1, 2, 5, 64])
    func roundTrip(blocks: Int) throws {
        let key = CipherTestTools.randomBytes(24)
        let iv = CipherTestTools.randomBytes(8)
        let data = CipherTestTools.randomBytes(blocks * 8)
        let encrypted = try TripleDES.cbcEncrypt(data, key: key, iv: iv)
        #expect(encrypted.count == data.count)
        #expect(try TripleDES.cbcDecrypt(encrypted, key: key, iv: iv) == data)
    }

    @Test func refusesBadLengths() {
        let key = CipherTestTools.randomBytes(24)
        let iv = CipherTestTools.randomBytes(8)
        for count in [1, 7, 9, 15, 17] {
            let data = CipherTestTools.randomBytes(count)
            #expect(throws: KeyError(.invalidFormat, "")) { try TripleDES.cbcEncrypt(data, key: key, iv: iv) }
            #expect(throws: KeyError(.invalidFormat, "")) { try TripleDES.cbcDecrypt(data, key: key, iv: iv) }
        }
        let data = CipherTestTools.randomBytes(16)
        for keyLength in [0, 8, 16, 23, 25, 32] {
            let shortKey = CipherTestTools.randomBytes(keyLength)
            #expect(throws: KeyError(.invalidParameter, "")) { try TripleDES.cbcEncrypt(data, key: shortKey, iv: iv) }
            #expect(throws: KeyError(.invalidParameter, "")) { try TripleDES.cbcDecrypt(data, key: shortKey, iv: iv) }
        }
        for ivLength in [0, 7, 9, 16] {
            let badIV = CipherTestTools.randomBytes(ivLength)
            #expect(throws: KeyError(.invalidParameter, "")) { try TripleDES.cbcEncrypt(data, key: key, iv: badIV) }
            #expect(throws: KeyError(.invalidParameter, "")) { try TripleDES.cbcDecrypt(data, key: key, iv: badIV) }
        }
    }

    /// Random key, IV and data through `openssl enc -des-ede3-cbc -nopad -K … -iv …`, both ways.
    @Test(arguments: [1, 3, 40, 200])
    func matchesOpenSSL(blocks: Int) throws {
        let key = CipherTestTools.randomBytes(24)
        let iv = CipherTestTools.randomBytes(8)
        let data = CipherTestTools.randomBytes(blocks * 8)
        let arguments = ["enc", "-des-ede3-cbc", "-nopad", "-K", CipherTestTools.hex(key), "-iv", CipherTestTools.hex(iv)]
        let theirs = try ExternalTool.runChecked("openssl", arguments, input: data).stdout
        #expect(try TripleDES.cbcEncrypt(data, key: key, iv: iv) == theirs)
        let ours = try TripleDES.cbcEncrypt(data, key: key, iv: iv)
        #expect(try ExternalTool.runChecked("openssl", arguments + ["-d"], input: ours).stdout == data)
    }

    /// PKCS#7-padded data, as legacy PEM and PKCS#8 write it, is what `openssl enc -des-ede3-cbc` (which pads
    /// by default) produces.
    @Test
    func paddedMatchesOpenSSL() throws {
        let key = CipherTestTools.randomBytes(24)
        let iv = CipherTestTools.randomBytes(8)
        for count in [0, 1, 7, 8, 9, 100] {
            let data = CipherTestTools.randomBytes(count)
            let theirs = try ExternalTool.runChecked(
                "openssl", ["enc", "-des-ede3-cbc", "-K", CipherTestTools.hex(key), "-iv", CipherTestTools.hex(iv)],
                input: data
            ).stdout
            let padded = BlockPadding.pkcs7Padded(data, blockSize: TripleDES.blockSize)
            #expect(try TripleDES.cbcEncrypt(padded, key: key, iv: iv) == theirs)
            let decrypted = try TripleDES.cbcDecrypt(theirs, key: key, iv: iv)
            #expect(BlockPadding.pkcs7Unpadded(decrypted, blockSize: TripleDES.blockSize) == data)
        }
    }
}
