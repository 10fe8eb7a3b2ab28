import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// Key comments that are not text: OpenSSH and PuTTY keep any bytes there; we keep them too, write them back
/// where the format can hold them, and show them escaped as `ssh-keygen -l` does (`\ooo`).
@Suite("comments of any bytes")
struct CommentBytesTests {
    @Test(
        "displayText: acceptable text as it is, everything else as octal bytes",
        arguments: [
            ([0x61, 0x62], "ab"),
            (Array("é中 x".utf8), "é中 x"),
            ([0x61, 0xFF, 0xFE, 0x62], "a\\377\\376b"),
            ([0x09, 0x0A, 0x0D, 0x00, 0x7F], "\\011\\012\\015\\000\\177"),
            ([0xE2, 0x80, 0xA8], "\\342\\200\\250"),  // U+2028
            ([0xC3], "\\303"),  // truncated
            ([0xC0, 0x80], "\\300\\200"),  // overlong
            ([0xED, 0xA0, 0x80], "\\355\\240\\200"),  // a surrogate
            ([0xC3, 0xA9, 0xC3], "é\\303"),
        ])
    func displayText(bytes: [UInt8], expected: String) {
        let shown = CommentPolicy.displayText(bytes)
        #expect(shown == expected)
        #expect(CommentPolicy.isAcceptable(shown.utf8))
    }

    @Test("random bytes are always shown as acceptable text, and text as itself", arguments: 0..<50)
    func randomBytes(round: Int) {
        let bytes = RandomInput.bytes(Int.random(in: 0...40))
        let shown = CommentPolicy.displayText(bytes)
        #expect(CommentPolicy.isAcceptable(shown.utf8))
        if CommentPolicy.isAcceptable(bytes) { #expect(Array(shown.utf8) == bytes) }
    }

    @Test("openssh-key-v1: any comment bytes are read, kept, written back, and shown escaped", arguments: [false, true])
    func openSSH(encrypted: Bool) throws {
        var key = try PrivateKey.generate(.ed25519, comment: "x")
        let raw = RandomInput.bytes(Int.random(in: 1...30)) + [0xFF, 0x0A, 0x01]
        key.commentBytes = raw
        key.comment = CommentPolicy.displayText(raw)
        let passphrase: [UInt8]? = encrypted ? Array("secret words".utf8) : nil
        let text = try key.openSSHText(passphrase: passphrase, cipher: "aes256-ctr", rounds: 2, checkInteger: 7, salt: RandomInput.bytes(16))
        let read = try PrivateKeyDocument(text: text).decrypt(passphrase: passphrase)
        #expect(read.commentBytes == raw)
        #expect(read.comment == CommentPolicy.displayText(raw))
        #expect(read.publicKey.openSSHLine.hasSuffix(" " + read.comment))
        #expect(CommentPolicy.isAcceptable(read.publicKey.openSSHLine.utf8))
        // Written again (a change of passphrase), the bytes stay.
        let again = try read.openSSHText(passphrase: nil, cipher: "none", rounds: 0, checkInteger: 9, salt: [])
        #expect(try PrivateKeyDocument(text: again).decrypt(passphrase: nil).commentBytes == raw)
        // A new comment replaces both.
        let renamed = try read.withComment("plain")
        #expect(renamed.commentBytes == Array("plain".utf8))
    }

    /// An unencrypted version-3 .ppk with a comment of any bytes (but CR and LF), its MAC made as PuTTY makes it.
    static func ppk(comment: [UInt8]) throws -> (key: PrivateKey, bytes: [UInt8]) {
        let key = try PrivateKey.generate(.ecdsa(.nistp256), comment: "placeholder")
        let text = try key.ppkText(version: 3, passphrase: nil, parameters: nil, salt: RandomInput.bytes(16))
        let publicBlob = key.publicKey.wireBytes
        let privateBlob = try #require(key.material.ppkPrivateBlob())
        let mac = PPKContainer.mac(
            version: 3, key: [], algorithm: key.type.name, encryption: .none, comment: comment, publicBlob: publicBlob,
            privatePlaintext: privateBlob)
        var lines = text.split(separator: "\n").map { Array($0.utf8) }
        lines[2] = Array("Comment: ".utf8) + comment
        lines[lines.count - 1] = Array("Private-MAC: \(Hex.encodeLower(mac))".utf8)
        return (key, Array(lines.joined(separator: [0x0A])) + [0x0A])
    }

    @Test("PuTTY: a comment of any bytes but CR and LF is read, checked by the MAC, and shown escaped", arguments: 0..<10)
    func ppkComment(round: Int) throws {
        let raw = (RandomInput.bytes(Int.random(in: 1...30)) + [0xFF]).filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x20 && $0 != 0x09 }
        let (key, bytes) = try Self.ppk(comment: raw)
        let document = try PrivateKeyDocument(bytes: bytes)
        #expect(document.info.commentBytes == raw)
        #expect(document.info.comment == CommentPolicy.displayText(raw))
        let read = try document.decrypt(passphrase: nil)
        #expect(read.material == key.material)
        #expect(read.commentBytes == raw)
        #expect(read.comment == CommentPolicy.displayText(raw))
        // One byte of the comment changed: the MAC refuses the file.
        var altered = bytes
        let index = try #require(bytes.firstRange(of: Array("Comment: ".utf8))).upperBound
        altered[index] ^= 0x01
        if altered[index] != 0x0A, altered[index] != 0x0D {
            #expect(throws: KeyError(.corrupt, "")) { try PrivateKeyDocument(bytes: altered).decrypt(passphrase: nil) }
        }
    }

    @Test("PuTTY public-only files: the public key and comment, never a private key", arguments: [false, true])
    func ppkPublicOnly(encrypted: Bool) throws {
        let key = try PrivateKey.generate(.ed25519, comment: RandomInput.comment())
        let text = try key.ppkText(
            version: 3, passphrase: encrypted ? Array("pw".utf8) : nil,
            parameters: Argon2Parameters(variant: .argon2id, memoryKiB: 64, passes: 1, parallelism: 1), salt: RandomInput.bytes(16))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let publicLines = try #require(lines.firstIndex { $0.hasPrefix("Key-Derivation:") || $0.hasPrefix("Private-Lines:") })
        let publicOnly = Array((lines[..<publicLines].joined(separator: "\n") + "\n\n").utf8)
        #expect(PublicKey.isPPKPublicOnly(publicOnly))
        #expect(!PublicKey.isPPKPublicOnly(Array(text.utf8)))
        let read = try PublicKey(ppkPublicOnly: publicOnly)
        #expect(read.wireBytes == key.publicKey.wireBytes)
        #expect(read.comment == key.comment)
        #expect(throws: KeyError(.invalidFormat, "")) { try PublicKey(ppkPublicOnly: Array(text.utf8)) }
        #expect(throws: KeyError(.invalidFormat, "")) { try PrivateKeyDocument(bytes: publicOnly) }
        // Cut inside the public blob: neither.
        let cut = Array(lines[..<(publicLines - 1)].joined(separator: "\n").utf8)
        #expect(!PublicKey.isPPKPublicOnly(cut))
        #expect(throws: KeyError.self) { try PublicKey(ppkPublicOnly: cut) }
    }

    @Test("Ed448 .ppk files are refused with a reason that names Ed448")
    func ed448() throws {
        let key = try PrivateKey.generate(.ed25519, comment: "c")
        let text = try key.ppkText(version: 3, passphrase: nil, parameters: nil, salt: RandomInput.bytes(16))
            .replacingOccurrences(of: "PuTTY-User-Key-File-3: ssh-ed25519", with: "PuTTY-User-Key-File-3: ssh-ed448")
        do {
            _ = try PrivateKeyDocument(text: text)
            Issue.record("an Ed448 file was read")
        } catch {
            #expect(error.code == .unsupportedKeyType)
            #expect(error.description.contains("Ed448 keys (ssh-ed448) are not supported"))
            #expect(!error.description.contains("\n"))
        }
    }
}
