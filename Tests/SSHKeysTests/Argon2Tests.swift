import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// An Argon2 known answer.
struct Argon2Vector: Sendable, CustomTestStringConvertible {
    let name: String
    let password: [UInt8]
    let salt: [UInt8]
    let secret: [UInt8]
    let associatedData: [UInt8]
    let parameters: Argon2Parameters
    let tagLength: Int
    let tag: String

    var testDescription: String { name }
}

/// RFC 9106 section 5 (5.1 Argon2d, 5.2 Argon2i, 5.3 Argon2id): version 0x13, 32 KiB, 3 passes, 4 lanes,
/// 32-byte tag, password 32 x 01, salt 16 x 02, secret 8 x 03, associated data 12 x 04.
private let rfc9106Vectors: [Argon2Vector] = [
    (Argon2Parameters.Variant.argon2d, "512b391b6f1162975371d30919734294f868e3be3984f3c1a13a4db9fabe4acb"),
    (.argon2i, "c814d9d1dc7f37aa13f0d77f2494bda1c8de6b016dd388d29952a4c4672b6ce8"),
    (.argon2id, "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"),
].map { variant, tag in
    Argon2Vector(
        name: "RFC 9106 section 5, \(variant.rawValue)",
        password: [UInt8](repeating: 1, count: 32), salt: [UInt8](repeating: 2, count: 16),
        secret: [UInt8](repeating: 3, count: 8), associatedData: [UInt8](repeating: 4, count: 12),
        parameters: Argon2Parameters(variant: variant, memoryKiB: 32, passes: 3, parallelism: 4),
        tagLength: 32, tag: tag)
}

/// PuTTY's shape (Argon2id, 8 MiB, one lane, 80-byte tag), made with the C reference CLI:
/// `echo -n pass | argon2 somesalt -id -t 1 -k 8192 -p 1 -l 80 -r` (Debian package argon2 0~20171227).
private let puttyShapedVector = Argon2Vector(
    name: "argon2 CLI, PuTTY-shaped argon2id",
    password: Array("pass".utf8), salt: Array("somesalt".utf8), secret: [], associatedData: [],
    parameters: Argon2Parameters(variant: .argon2id, memoryKiB: 8192, passes: 1, parallelism: 1),
    tagLength: 80,
    tag: "6bde8b009003edd27c005c274941bd6a9ed720eb5137dcc4aea75bdff5d90d2fdfc0b1e373f970312f5811c4d1072b32"
        + "804b1d51c8b0f8d7cdd126d9aef70809aff0a01720b6cdd938e4f29d0ab04da2")

/// Memory that is not a multiple of 4 lanes (37 KiB, 3 lanes: 36 blocks are used, but H0 hashes 37) and a tag
/// just over 64 bytes, made with the C reference CLI:
/// `echo -n password | argon2 saltsaltsalt -d -t 2 -k 37 -p 3 -l 65 -r` (and `-i` for the second).
private let unevenMemoryVectors: [Argon2Vector] = [
    (
        Argon2Parameters.Variant.argon2d,
        "df204d0078a04f4a6bfb2c03424c998625de4c10da684228cf4d2b1d7874c267147ff8eef51f818156d525a195671b3efa05f766870247e37052f6e347284c947c"
    ),
    (
        .argon2i,
        "cbadae5270b577fef8e801e3556fc9db6ac1bb403720a5008360b14063df588fddbaf849da7737134469bdee7c60ba211b2068df0638aafecbc64df46b76f1020f"
    ),
].map { variant, tag in
    Argon2Vector(
        name: "argon2 CLI, 37 KiB over 3 lanes, \(variant.rawValue)",
        password: Array("password".utf8), salt: Array("saltsaltsalt".utf8), secret: [], associatedData: [],
        parameters: Argon2Parameters(variant: variant, memoryKiB: 37, passes: 2, parallelism: 3),
        tagLength: 65, tag: tag)
}

/// Parameters that must be refused before any memory is allocated, with a word the message must contain.
private let absurdParameters: [(String, Argon2Parameters, Int, Int, String)] = [
    ("memory 2^40 KiB", .init(memoryKiB: 1 << 40, passes: 1), 32, 16, "4194304 KiB"),
    ("memory just over 4 GiB", .init(memoryKiB: 4_194_305, passes: 1), 32, 16, "4194304 KiB"),
    ("negative memory", .init(memoryKiB: -8, passes: 1), 32, 16, "8 KiB per lane"),
    ("memory under 8 KiB per lane", .init(memoryKiB: 31, passes: 1, parallelism: 4), 32, 16, "8 KiB per lane"),
    ("zero passes", .init(memoryKiB: 8192, passes: 0), 32, 16, "passes"),
    ("negative passes", .init(memoryKiB: 8192, passes: -1), 32, 16, "passes"),
    ("a million and one passes", .init(memoryKiB: 8192, passes: 1_000_001), 32, 16, "1000000"),
    ("zero lanes", .init(memoryKiB: 8192, passes: 1, parallelism: 0), 32, 16, "parallelism"),
    ("256 lanes", .init(memoryKiB: 1 << 20, passes: 1, parallelism: 256), 32, 16, "255"),
    ("tag of 3 bytes", .init(memoryKiB: 8192, passes: 1), 3, 16, "tag length"),
    ("tag of 1025 bytes", .init(memoryKiB: 8192, passes: 1), 1025, 16, "tag length"),
    ("salt over 1 MiB", .init(memoryKiB: 8192, passes: 1), 32, (1 << 20) + 1, "salt"),
    ("everything absurd", .init(memoryKiB: 1 << 40, passes: 0, parallelism: 0), 0, 16, "parallelism"),
]

@Suite("Argon2")
struct Argon2Tests {
    @Test("known answers", arguments: rfc9106Vectors + unevenMemoryVectors + [puttyShapedVector])
    func knownAnswer(_ vector: Argon2Vector) throws {
        let tag = try Argon2.hash(
            password: vector.password, salt: vector.salt, secret: vector.secret,
            associatedData: vector.associatedData, parameters: vector.parameters, tagLength: vector.tagLength)
        #expect(argon2Hex(tag) == vector.tag)
    }

    @Test("absurd parameters throw before allocating", arguments: absurdParameters)
    func absurd(name: String, parameters: Argon2Parameters, tagLength: Int, saltLength: Int, mentions: String) {
        let error = #expect(throws: KeyError(.invalidParameter, "")) {
            _ = try Argon2.hash(
                password: Array("pw".utf8), salt: [UInt8](repeating: 7, count: saltLength), parameters: parameters,
                tagLength: tagLength)
        }
        #expect(error?.reason.contains(mentions) == true, "\(name): \(error?.reason ?? "no error")")
    }

    @Test("every variant, different results")
    func variantsDiffer() throws {
        let tags = try Argon2Parameters.Variant.allCases.map { variant in
            try Argon2.hash(
                password: Array("pw".utf8), salt: Array("saltsalt".utf8),
                parameters: Argon2Parameters(variant: variant, memoryKiB: 64, passes: 1), tagLength: 16)
        }
        #expect(Set(tags).count == 3)
    }

    /// Cross-check against the C reference implementation (Debian's `argon2` CLI) on random passwords, salts,
    /// memory sizes (not always a multiple of 4 lanes), passes, lanes and tag lengths (both sides of 64 bytes,
    /// where H' changes shape). The CLI takes no secret or associated data; the RFC vectors cover those.
    ///
    /// Fails when the CLI is missing: scripts/install-test-deps.sh installs it.
    @Test(
        "agrees with the argon2 CLI on random inputs",
        arguments: Argon2Parameters.Variant.allCases)
    func agreesWithReferenceCLI(_ variant: Argon2Parameters.Variant) throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        // Both sides of 64 bytes, where H' changes shape, and both ends of the range.
        let tagLengths = [4, 16, 32, 63, 64, 65, 80, 96, 129, 1024]
        for round in 0..<8 {
            // The CLI reads at most 127 password bytes and takes the salt as an argument (so: text, 8 or more).
            let password = (0..<Int.random(in: 1...127, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let salt = (0..<Int.random(in: 8...32, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator) ?? 0x61
            }
            let lanes = Int.random(in: 1...4, using: &generator)
            let parameters = Argon2Parameters(
                variant: variant,
                memoryKiB: round == 0 ? 8192 : Int.random(in: 8 * lanes...600, using: &generator),
                passes: round == 0 ? 1 : Int.random(in: 1...4, using: &generator),
                parallelism: round == 0 ? 1 : lanes)
            let tagLength =
                switch round {
                case 0: 80
                case 1: 4
                case 2: 1024
                default: tagLengths.randomElement(using: &generator) ?? 32
                }

            let flag =
                switch variant {
                case .argon2d: "-d"
                case .argon2i: "-i"
                case .argon2id: "-id"
                }
            let arguments = [
                String(decoding: salt, as: UTF8.self), flag, "-t", String(parameters.passes),
                "-k", String(parameters.memoryKiB), "-p", String(parameters.parallelism), "-l", String(tagLength), "-r",
            ]
            let output = try ExternalTool.runChecked("argon2", arguments, input: password).text
            let expected = output.trimmingCharacters(in: .whitespacesAndNewlines)
            let tag = try Argon2.hash(password: password, salt: salt, parameters: parameters, tagLength: tagLength)
            #expect(
                argon2Hex(tag) == expected,
                "argon2 \(arguments.joined(separator: " ")) with password \(argon2Hex(password))")
        }
    }
}

private func argon2Hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}
