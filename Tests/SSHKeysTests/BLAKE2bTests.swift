import Testing
import TestSupport

@testable import SSHKeys

/// A BLAKE2b known answer: `message` hashed with `key` to the full 64-byte `digest`.
struct BLAKE2bVector: Sendable, CustomTestStringConvertible {
    let name: String
    let message: [UInt8]
    let key: [UInt8]
    let digest: String

    var testDescription: String { name }
}

/// The keyed entries of blake2b-kat.txt (BLAKE2 reference package, testvectors/, also blake2-kat.json): key
/// 00 01 .. 3f, message 00 01 .. (n-1). The lengths chosen cover empty, short, one block, and block edges.
private let keyedKnownAnswers: [(Int, String)] = [
    (0, "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568"),
    (1, "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd"),
    (2, "da2cfbe2d8409a0f38026113884f84b50156371ae304c4430173d08a99d9fb1b983164a3770706d537f49e0c916d9f32b95cc37a95b99d857436f0232c88a965"),
    (3, "33d0825dddf7ada99b0e7e307104ad07ca9cfd9692214f1561356315e784f3e5a17e364ae9dbb14cb2036df932b77f4b292761365fb328de7afdc6d8998f5fc1"),
    (64, "65676d800617972fbd87e4b9514e1c67402b7a331096d3bfac22f1abb95374abc942f16e9ab0ead33b87c91968a6e509e119ff07787b3ef483e1dcdccf6e3022"),
    (74, "dfb320c44f9d41d1efdcc015f08dd5539e526e39c87d509ae6812a969e5431bf4fa7d91ffd03b981e0d544cf72d7b1c0374f8801482e6dea2ef903877eba675e"),
    (127, "76d2d819c92bce55fa8e092ab1bf9b9eab237a25267986cacf2b8ee14d214d730dc9a5aa2d7b596e86a1fd8fa0804c77402d2fcd45083688b218b1cdfa0dcbcb"),
    (128, "72065ee4dd91c2d8509fa1fc28a37c7fc9fa7d5b3f8ad3d0d7a25626b57b1b44788d4caf806290425f9890a3a2a35a905ab4b37acfd0da6e4517b2525c9651e4"),
    (129, "64475dfe7600d7171bea0b394e27c9b00d8e74dd1e416a79473682ad3dfdbb706631558055cfc8a40e07bd015a4540dcdea15883cbbf31412df1de1cd4152b91"),
    (255, "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e92484be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461"),
]

private let blake2bVectors: [BLAKE2bVector] =
    [
        // RFC 7693 appendix A: BLAKE2b-512("abc").
        BLAKE2bVector(
            name: "RFC 7693 appendix A \"abc\"", message: Array("abc".utf8), key: [],
            digest: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        ),
        // blake2b-kat.txt's unkeyed first entry (the empty message).
        BLAKE2bVector(
            name: "unkeyed empty", message: [], key: [],
            digest: "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        ),
    ]
    + keyedKnownAnswers.map { length, digest in
        BLAKE2bVector(
            name: "keyed KAT, \(length)-byte message",
            message: (0..<length).map { UInt8($0) }, key: (0..<64).map { UInt8($0) }, digest: digest)
    }

@Suite("BLAKE2b")
struct BLAKE2bTests {
    @Test("known answers, whole and byte by byte", arguments: blake2bVectors)
    func knownAnswer(_ vector: BLAKE2bVector) throws {
        var hasher = try BLAKE2b(outputLength: 64, key: vector.key)
        hasher.update(vector.message)
        #expect(blake2bHex(hasher.finalize()) == vector.digest)

        var bytewise = try BLAKE2b(key: vector.key)
        for byte in vector.message { bytewise.update([byte]) }
        #expect(blake2bHex(bytewise.finalize()) == vector.digest)

        if vector.key.isEmpty {
            #expect(blake2bHex(BLAKE2b.hash(vector.message)) == vector.digest)
        }
    }

    @Test("any split of the input gives the same digest")
    func incremental() throws {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let key = Array("a key".utf8)
        var whole = try BLAKE2b(outputLength: 40, key: key)
        whole.update(message)
        let expected = whole.finalize()
        for split in 0...message.count {
            var hasher = try BLAKE2b(outputLength: 40, key: key)
            hasher.update(message[..<split])
            hasher.update(message[split...])
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test("finalize leaves the hasher usable")
    func finalizeIsNonDestructive() throws {
        var hasher = try BLAKE2b()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        #expect(hasher.finalize() == BLAKE2b.hash(Array("abc".utf8)))
    }

    @Test(
        "out-of-range lengths throw",
        arguments: [(0, 0), (65, 0), (-1, 0), (Int.max, 0), (64, 65), (1, 1000)])
    func invalidLengths(outputLength: Int, keyLength: Int) {
        #expect(throws: KeyError(.invalidParameter, "")) {
            _ = try BLAKE2b(outputLength: outputLength, key: [UInt8](repeating: 1, count: keyLength))
        }
    }

    /// Cross-check against coreutils' `b2sum -l BITS` (the BLAKE2 reference code) on random inputs of random
    /// lengths, for every output length that b2sum offers (multiples of 8 bits).
    @Test("agrees with b2sum on random inputs")
    func agreesWithB2sum() throws {
        var generator = SystemRandomNumberGenerator()
        for outputLength in [1, 16, 20, 32, 48, 63, 64] {
            let length = Int.random(in: 0...700, using: &generator)
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let output = try ExternalTool.runChecked("b2sum", ["-l", String(outputLength * 8)], input: message).text
            let expected = String(output.prefix { $0 != " " })
            #expect(
                blake2bHex(BLAKE2b.hash(message, outputLength: outputLength)) == expected,
                "b2sum -l \(outputLength * 8) of \(blake2bHex(message))")
        }
    }
}

private func blake2bHex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}
