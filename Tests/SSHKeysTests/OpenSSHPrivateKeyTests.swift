import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// The ciphers `ssh-keygen -Z` offers (OpenSSH 9.2).
let openSSHCiphers = [
    "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc",
    "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "3des-cbc",
]

@Suite("openssh-key-v1 private keys against ssh-keygen")
struct OpenSSHPrivateKeyTests {
    /// Reads the salt and check integer out of a file so we can write it again byte for byte.
    private func saltAndCheck(_ text: String, passphrase: [UInt8]?) throws -> (salt: [UInt8], check: UInt32) {
        let container = try OpenSSHPrivateKeyContainer(text: text)
        var plain = container.sealed
        if container.cipher != .none, let passphrase {
            let derived = try BcryptPBKDF.deriveKey(
                passphrase: passphrase, salt: container.salt, rounds: container.rounds,
                keyLength: container.cipher.keyLength + container.cipher.ivLength)
            plain = try container.cipher.decrypt(
                container.sealed, key: Array(derived[0..<container.cipher.keyLength]),
                iv: Array(derived[container.cipher.keyLength...]))
        }
        var reader = WireReader(plain, context: "test")
        return (container.salt, try reader.readUInt32("check"))
    }

    @Test("ssh-keygen's keys read, and written again byte for byte", arguments: sshKeygenTypes)
    func readsAndRewritesExactly(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let cipher = openSSHCiphers.randomElement() ?? "aes256-ctr"
        let passphrase = Bool.random() ? RandomInput.passphrase() : ""
        let rounds = Int.random(in: 1...8)
        let comment = RandomInput.comment()
        let (path, publicLine) = try sshKeygen(
            type, in: directory, comment: comment, passphrase: passphrase,
            extra: ["-Z", cipher, "-a", String(rounds)])
        let text = try directory.read("key")
        let document = try PrivateKeyDocument(text: text)
        #expect(document.info.format == .openSSH)
        #expect(document.info.isEncrypted == !passphrase.isEmpty)
        #expect(document.info.publicKey?.openSSHLine == (try PublicKey(openSSHLine: publicLine).plainKey.openSSHLine))
        let key = try document.decrypt(passphrase: passphrase.isEmpty ? nil : Array(passphrase.utf8))
        #expect(key.comment == comment)
        #expect(key.publicKey.openSSHLine == publicLine)

        let pass = passphrase.isEmpty ? nil : Array(passphrase.utf8)
        let (salt, check) = try saltAndCheck(text, passphrase: pass)
        let again = try key.openSSHText(
            passphrase: pass, cipher: passphrase.isEmpty ? "none" : cipher, rounds: rounds, checkInteger: check, salt: salt)
        #expect(again == text, "cipher \(cipher), \(rounds) rounds")
        _ = path
    }

    @Test("our keys load in ssh-keygen", arguments: [KeyType.ed25519, .ecdsa(.nistp256), .ecdsa(.nistp384), .ecdsa(.nistp521), .rsa])
    func sshKeygenReadsOurs(type: KeyType) throws {
        let directory = try TemporaryDirectory()
        let key = try PrivateKey.generate(type, bits: type == .rsa ? 2048 : nil, comment: RandomInput.comment())
        for cipher in [openSSHCiphers.randomElement() ?? "aes256-ctr", "none"] {
            let passphrase = cipher == "none" ? "" : RandomInput.passphrase()
            let text = try key.serialized(
                as: PrivateKeyEncoding(
                    format: .openSSH, passphrase: Array(passphrase.utf8), cipher: cipher, rounds: Int.random(in: 1...4)))
            let path = try directory.write("ours", text)
            let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text
            #expect(derived.trimmingCharacters(in: .newlines) == key.publicKey.openSSHLine)
            // A wrong passphrase is refused by ssh-keygen too.
            if !passphrase.isEmpty {
                #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", passphrase + "x", "-f", path]).status != 0)
            }
        }
    }

    @Test("wrong passphrase is told apart from a corrupt file", arguments: ["aes256-ctr", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"])
    func wrongPassphrase(cipher: String) throws {
        let key = try PrivateKey.generate(.ed25519, comment: "c")
        let text = try key.serialized(as: PrivateKeyEncoding(format: .openSSH, passphrase: Array("right".utf8), cipher: cipher, rounds: 2))
        let document = try PrivateKeyDocument(text: text)
        #expect(throws: KeyError(.wrongPassphrase, "")) { try document.decrypt(passphrase: Array("wrong".utf8)) }
        #expect(throws: KeyError(.passphraseRequired, "")) { try document.decrypt(passphrase: nil) }
        #expect(try document.decrypt(passphrase: Array("right".utf8)).publicKey == key.publicKey)
    }

    @Test("truncation at every length and bit flips: an error, never a crash")
    func brokenFiles() throws {
        let key = try PrivateKey.generate(.ed25519, comment: "short")
        let text = try key.serialized(as: PrivateKeyEncoding(format: .openSSH))
        let container = try OpenSSHPrivateKeyContainer(text: text)
        let blob = try PEMArmor.decode(text, label: "OPENSSH PRIVATE KEY")
        for length in 0..<blob.count {
            #expect(throws: KeyError.self) { try OpenSSHPrivateKeyContainer(blob: Array(blob[0..<length])).decrypt(passphrase: nil) }
        }
        #expect(throws: KeyError.self) { try OpenSSHPrivateKeyContainer(blob: blob + [0]) }
        for _ in 0..<500 {
            var flipped = blob
            flipped[Int.random(in: 0..<flipped.count)] ^= UInt8(1) << UInt8.random(in: 0...7)
            if let parsed = try? OpenSSHPrivateKeyContainer(blob: flipped), let decrypted = try? parsed.decrypt(passphrase: nil) {
                // Only the comment or padding-free bytes can change without detection; the key itself cannot.
                #expect(decrypted.publicKey.isSameKey(as: key.publicKey))
            }
        }
        for length in stride(from: 0, to: text.utf8.count, by: 7) {
            #expect(throws: KeyError.self) { try PrivateKeyDocument(text: String(text.prefix(length))).decrypt(passphrase: nil) }
        }
        _ = container
    }

    @Test("secret and public halves that do not match are refused")
    func mismatchedHalves() throws {
        let one = try PrivateKey.generate(.ed25519)
        let other = try PrivateKey.generate(.ed25519)
        guard case .ed25519(let seed, _) = one.material, case .ed25519(_, let publicKey) = other.material else {
            Issue.record("generate(.ed25519) made another type")
            return
        }
        #expect(throws: KeyError.self) { try PrivateKey(material: .ed25519(seed: seed, publicKey: publicKey)) }
    }

    @Test("RSA numbers larger than the modulus are refused before any arithmetic")
    func hugeRSANumbers() throws {
        let key = try PrivateKey.generate(.rsa, bits: 2048)
        guard case .rsa(let numbers) = key.material else {
            Issue.record("generate(.rsa) made another type")
            return
        }
        // A 1024-bit modulus with a 200 KB d and p: computing d mod (p-1) would take minutes.
        let huge = [UInt8](repeating: 0xA5, count: 200_000)
        var modulus = Array(numbers.n.prefix(128))
        modulus[modulus.count - 1] |= 1  // odd, so the public half is valid and the private check is reached
        let hostile = PrivateKey.RSANumbers(n: modulus, e: numbers.e, d: huge, iqmp: numbers.iqmp, p: huge, q: numbers.q)
        #expect(throws: KeyError(.corrupt, "")) { try PrivateKey(material: .rsa(hostile)) }
    }

    @Test("comments that could break a line are refused by every initialiser")
    func hostileComments() throws {
        let key = try PrivateKey.generate(.ed25519)
        for comment in ["a\nssh-ed25519 AAAA b", "a\rb", "a\u{0}b", "a\u{2028}b", "a\u{85}b"] {
            #expect(throws: KeyError(.forbiddenCharacter, "")) { try PrivateKey(material: key.material, comment: comment) }
            #expect(throws: KeyError(.forbiddenCharacter, "")) { try PublicKey(wireBytes: key.publicKey.wireBytes, comment: comment) }
            #expect(throws: KeyError(.forbiddenCharacter, "")) { try PublicKey(material: key.publicKey.material, comment: comment) }
            #expect(throws: KeyError(.forbiddenCharacter, "")) { try key.withComment(comment) }
        }
    }
}
