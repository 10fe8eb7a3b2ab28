import Foundation
import SwiftASN1
import Testing
import TestSupport

@testable import SSHKeys

/// PEM private keys as OpenSSL (so ssh-keygen) reads them: text around the armour, PKCS#8 bodies under a
/// traditional label; and malformed ones refused with the real reason.
@Suite("PEM private keys read as OpenSSL reads them")
struct PEMCompatibilityTests {
    static func rsaKey() throws -> PrivateKey { try PrivateKey.generate(.rsa, bits: 2048) }

    @Test(
        "text before and after the armour is not part of the key",
        arguments: [
            ("Private-Key: (2048 bit, 2 primes)\nmodulus:\n    00:c1:02\n", ""),
            ("", "Private-Key: (2048 bit, 2 primes)\nmodulus:\n    00:c1:02\n"),
            ("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\nnotes\r\n", "\n\ntrailing -----BEGIN X-----\n"),
            ("a line\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "-----BEGIN RSA PRIVATE KEY-----\nxx\n"),
        ])
    func textAround(before: String, after: String) throws {
        let key = try PrivateKey.generate(.ecdsa(.nistp256))
        for format in [PrivateKeyFormat.pem, .pkcs8] {
            let text = before + (try key.serialized(as: PrivateKeyEncoding(format: format))) + after
            let document = try PrivateKeyDocument(text: text)
            #expect(document.info.format == format)
            #expect(try document.decrypt(passphrase: nil).material == key.material)
            #expect(PrivateKeyDocument.hasPEMPrivateKeyAfterText(text) == !before.isEmpty)
        }
        let passphrase = Array("secret words".utf8)
        let encrypted = before + (try key.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: passphrase))) + after
        #expect(try PrivateKeyDocument(text: encrypted).decrypt(passphrase: passphrase).material == key.material)
    }

    @Test("a file that is only text, or only a public key, is still no private key")
    func noPrivateKey() {
        #expect(!PrivateKeyDocument.hasPEMPrivateKeyAfterText("Private-Key: (2048 bit)\nmodulus:\n"))
        #expect(!PrivateKeyDocument.hasPEMPrivateKeyAfterText("x\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
        #expect(!PrivateKeyDocument.hasPEMPrivateKeyAfterText("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
        #expect(throws: KeyError.self) { try PrivateKeyDocument(text: "Private-Key: (2048 bit)\nmodulus:\n") }
    }

    @Test("a PKCS#8 body under a traditional label of its own type is read; of another type, refused by name")
    func pkcs8UnderTraditionalLabel() throws {
        let rsa = try Self.rsaKey()
        let ec = try PrivateKey.generate(.ecdsa(.nistp384))
        let rsaPKCS8 = try PrivateKeyDER.pkcs8(rsa), ecPKCS8 = try PrivateKeyDER.pkcs8(ec)
        let rsaText = PEMArmor.encode(rsaPKCS8, label: "RSA PRIVATE KEY")
        #expect(try PrivateKeyDocument(text: rsaText).decrypt(passphrase: nil).material == rsa.material)
        #expect(try PrivateKeyDocument(text: PEMArmor.encode(ecPKCS8, label: "EC PRIVATE KEY")).decrypt(passphrase: nil).material == ec.material)
        do {
            _ = try PrivateKeyDocument(text: PEMArmor.encode(ecPKCS8, label: "RSA PRIVATE KEY"))
            Issue.record("an EC key under an RSA label was read")
        } catch {
            #expect(error.code == .typeMismatch)
            #expect(error.description == "the RSA PRIVATE KEY block holds a PKCS#8 ecdsa-sha2-nistp384 key")
        }
        // Under legacy PEM encryption too: decrypted, the body is PKCS#8.
        let passphrase = Array("pass phrase".utf8)
        let iv = RandomInput.bytes(16)
        let encrypted = try LegacyPEMCipher.aes128CBC.encrypt(rsaPKCS8, passphrase: passphrase, iv: iv)
        let text = PEMArmor.encode(
            encrypted, label: "RSA PRIVATE KEY", headers: [("Proc-Type", "4,ENCRYPTED"), ("DEK-Info", "AES-128-CBC,\(Hex.encodeUpper(iv))")])
        #expect(try PrivateKeyDocument(text: text).decrypt(passphrase: passphrase).material == rsa.material)
        // A traditional body under the PKCS#8 label is not (OpenSSL refuses it too).
        let (_, pkcs1) = try PrivateKeyDER.traditional(rsa)
        #expect(throws: KeyError.self) { try PrivateKeyDocument(text: PEMArmor.encode(pkcs1, label: "PRIVATE KEY")) }
    }

    /// `der` with its first INTEGER (the version, one byte) set to `version`.
    static func withVersion(_ der: [UInt8], _ version: UInt8) throws -> [UInt8] {
        var bytes = der
        let index = try #require(bytes.indices.dropLast(2).first { bytes[$0] == 0x02 && bytes[$0 + 1] == 0x01 })
        bytes[index + 2] = version
        return bytes
    }

    @Test("a wrong version is named as what it is: PKCS#1, SEC1, DSA, PKCS#8")
    func versions() throws {
        let (_, pkcs1) = try PrivateKeyDER.traditional(try Self.rsaKey())
        func failure(_ der: [UInt8], _ label: String) -> KeyError? {
            do {
                _ = try PrivateKeyDocument(text: PEMArmor.encode(der, label: label))
                return nil
            } catch {
                return error
            }
        }
        let multiPrime = failure(try Self.withVersion(pkcs1, 1), "RSA PRIVATE KEY")
        #expect(multiPrime?.code == .unsupportedKeyType)
        #expect(multiPrime?.description.contains("multi-prime") == true)
        for version: UInt8 in [2, 7] {
            let wrong = failure(try Self.withVersion(pkcs1, version), "RSA PRIVATE KEY")
            #expect(wrong?.code == .invalidFormat)
            #expect(wrong?.description.contains("PKCS#1 RSA private key has version \(version)") == true, "\(String(describing: wrong))")
            #expect(wrong?.description.contains("multi-prime RSA keys") == false)
        }
        let ec = try PrivateKey.generate(.ecdsa(.nistp256))
        let (_, sec1) = try PrivateKeyDER.traditional(ec)
        #expect(failure(try Self.withVersion(sec1, 0), "EC PRIVATE KEY")?.description.contains("has version 0 (1 expected)") == true)
        let pkcs8 = try PrivateKeyDER.pkcs8(ec)
        #expect(failure(try Self.withVersion(pkcs8, 3), "PRIVATE KEY")?.description.contains("version 3") == true)
    }

    @Test("curves that disagree are named")
    func inconsistentCurves() throws {
        let ec = try PrivateKey.generate(.ecdsa(.nistp256))
        guard case .ecdsa(_, let scalar, let point) = ec.material else { return }
        let inner = try PrivateKeyDER.sec1(curve: .nistp384, scalar: scalar, point: point, includeCurve: true)
        let der = try DERWriter.build("test") { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(0)
                try coder.serializeAlgorithm(KeyOID.ecPublicKey) { try $0.serialize(KeyOID.curve(.nistp256)) }
                try coder.serializeOctetString(inner)
            }
        }
        do {
            _ = try PrivateKeyDocument(text: PEMArmor.encode(der, label: "PRIVATE KEY"))
            Issue.record("disagreeing curves were read")
        } catch {
            #expect(error.code == .typeMismatch)
            #expect(error.description == "the PKCS#8 algorithm names curve nistp256 but the EC key inside names nistp384")
        }
    }
}
