import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// Key types ssh-keygen 9.2 generates, as `-t TYPE -b BITS` arguments.
let sshKeygenTypes: [[String]] = [
    ["-t", "ed25519"], ["-t", "ecdsa", "-b", "256"], ["-t", "ecdsa", "-b", "384"], ["-t", "ecdsa", "-b", "521"],
    ["-t", "rsa", "-b", "1024"], ["-t", "rsa", "-b", "2048"], ["-t", "dsa"],
]

/// Makes a key with the real ssh-keygen and returns (private path, public line).
func sshKeygen(
    _ type: [String], in directory: TemporaryDirectory, name: String = "key", comment: String = RandomInput.comment(),
    passphrase: String = "", extra: [String] = []
) throws -> (path: String, publicLine: String) {
    let path = directory.file(name)
    try ExternalTool.runChecked("ssh-keygen", ["-q"] + type + ["-C", comment, "-N", passphrase, "-f", path] + extra)
    return (path, try directory.read(name + ".pub").trimmingCharacters(in: .newlines))
}

@Suite("Public keys against ssh-keygen")
struct PublicKeyTests {
    @Test("parse, render, fingerprint and randomart agree with ssh-keygen", arguments: sshKeygenTypes)
    func agreesWithSSHKeygen(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let (path, line) = try sshKeygen(type, in: directory, comment: "plain comment")
        let key = try PublicKey(openSSHLine: line)
        #expect(key.openSSHLine == line)
        for hash in FingerprintHash.allCases {
            let expected = try ExternalTool.runChecked("ssh-keygen", ["-l", "-v", "-E", hash.rawValue, "-f", path + ".pub"]).text
            let ours = "\(key.bits) \(key.fingerprint(hash)) \(key.comment) (\(key.displayTypeName))\n\(key.randomart(hash))\n"
            #expect(ours == expected)
        }
    }

    @Test(
        "certificates: fields decoded, signature checked, fingerprint as ssh-keygen",
        arguments: [
            (["-t", "ed25519"], ["-t", "ecdsa", "-b", "384"]), (["-t", "rsa", "-b", "2048"], ["-t", "ed25519"]),
            (["-t", "ecdsa", "-b", "256"], ["-t", "rsa", "-b", "3072"]),
        ])
    func certificates(caType: [String], keyType: [String]) throws {
        let directory = try TemporaryDirectory()
        let (caPath, caLine) = try sshKeygen(caType, in: directory, name: "ca")
        let (keyPath, _) = try sshKeygen(keyType, in: directory, name: "user")
        let serial = UInt64.random(in: 1...UInt64(Int64.max))
        let principals = (0..<Int.random(in: 1...4)).map { _ in "p\(Int.random(in: 0...9999))" }
        try ExternalTool.runChecked(
            "ssh-keygen",
            [
                "-q", "-s", caPath, "-I", "id \(serial)", "-z", String(serial), "-n", principals.joined(separator: ","),
                "-V", "20200101:20400101", "-O", "force-command=/bin/true", "-O", "no-pty", keyPath + ".pub",
            ])
        let certLine = try directory.read("user-cert.pub").trimmingCharacters(in: .newlines)
        let certificate = try PublicKey(openSSHLine: certLine)
        let fields = try #require(certificate.certificate)
        #expect(fields.serial == serial)
        #expect(fields.keyID == "id \(serial)")
        #expect(fields.principals == principals)
        #expect(fields.kind == .user)
        #expect(fields.criticalOptions.map(\.name) == ["force-command"])
        #expect(fields.criticalOptions.first?.text == "/bin/true")
        #expect(!fields.extensions.map(\.name).contains("permit-pty"))
        #expect(fields.signatureKey.isSameKey(as: try PublicKey(openSSHLine: caLine)))
        #expect(certificate.openSSHLine == certLine)
        let expected = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", directory.file("user-cert.pub")]).text
        #expect("\(certificate.bits) \(certificate.fingerprint()) \(certificate.comment) (\(certificate.displayTypeName))\n" == expected)

        // A certificate whose signed part was altered is refused.
        var blob = certificate.wireBytes
        let index = blob.count - 100
        blob[index] ^= 0x01
        #expect(throws: KeyError.self) { try PublicKey(wireBytes: blob) }
    }

    @Test("truncation at every length and random bit flips are errors, never crashes", arguments: sshKeygenTypes.prefix(5))
    func brokenBlobs(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let (_, line) = try sshKeygen(type, in: directory)
        let key = try PublicKey(openSSHLine: line)
        let blob = key.wireBytes
        for length in 0..<blob.count {
            #expect(throws: KeyError.self) { try PublicKey(wireBytes: blob[0..<length]) }
        }
        #expect(throws: KeyError.self) { try PublicKey(wireBytes: blob + [0]) }
        for _ in 0..<300 {
            var flipped = blob
            let index = Int.random(in: 0..<flipped.count)
            flipped[index] ^= UInt8(1) << UInt8.random(in: 0...7)
            // Either an error or a different valid key (e.g. a flipped RSA modulus bit); never a trap.
            if let parsed = try? PublicKey(wireBytes: flipped) { #expect(!parsed.isSameKey(as: key)) }
        }
    }

    @Test("hostile lines are refused")
    func hostileLines() throws {
        let directory = try TemporaryDirectory()
        let (_, line) = try sshKeygen(["-t", "ed25519"], in: directory, comment: "c")
        let parts = line.split(separator: " ").map(String.init)
        let type = parts[0], data = parts[1]
        let ecdsaLine = try sshKeygen(["-t", "ecdsa"], in: directory, name: "e", comment: "c").publicLine
        let hostile = [
            "\(type) \(data) a\nssh-ed25519 \(data) second",
            "\(type) \(data) a\rcommand=\"x\" ssh-ed25519 \(data)",
            "\(type) \(data) a\u{0}b",
            "\(type) \(data) a\u{2028}ssh-ed25519 \(data)",
            "\(type) \(data) a\u{85}ssh-ed25519 \(data)",
            "\(type) \(data) a\u{202E}txt.exe",
            "\(type) \(data.dropLast())",
            "\(type) \(data)=",
            "\(type) \(data.dropLast(2))A=",
            "\(type) !\(data)",
            "ssh-rsa \(data) wrong outer type",
            "ecdsa-sha2-nistp384 \(ecdsaLine.split(separator: " ")[1]) curve mismatch",
            "\(type)",
            "",
            "\(type) " + String(repeating: "A", count: 200_000),
        ]
        for text in hostile {
            #expect(throws: KeyError.self, "\(text.prefix(60))") { try PublicKey(openSSHLine: text) }
        }
    }

    @Test("an ECDSA point off the curve is refused")
    func pointOffCurve() throws {
        let directory = try TemporaryDirectory()
        let key = try PublicKey(openSSHLine: try sshKeygen(["-t", "ecdsa"], in: directory).publicLine)
        guard case .ecdsa(let curve, var point) = key.material else { Issue.record("not ecdsa"); return }
        point[point.count - 1] ^= 1
        #expect(throws: KeyError.self) { try PublicKey(material: .ecdsa(curve: curve, point: point)) }
    }

    @Test("base64 is strict and round-trips", arguments: 0..<64)
    func base64(length: Int) {
        let bytes = RandomInput.bytes(length)
        let encoded = Base64.encode(bytes)
        #expect(Base64.decode(encoded) == bytes)
        #expect(encoded == Data(bytes).base64EncodedString())
        if encoded.hasSuffix("==") {
            var chars = Array(encoded.utf8)
            chars[chars.count - 3] = UInt8(ascii: "B")  // non-zero stray bits
            #expect(Base64.decode(chars) == nil)
        }
    }
}
