import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

/// Keys made at test time, by SSHKeys or by the real ssh-keygen and puttygen.
enum TestKeys {
    /// A fresh Ed25519 public key.
    static func ed25519(comment: String = "") throws -> PublicKey {
        try PrivateKey.generate(.ed25519, comment: comment).publicKey
    }

    /// `ssh-keygen -t type [-b bits] -N passphrase -C comment [-m format] -f dir/name`; returns the private key
    /// path (the public key is at `path + ".pub"`).
    static func sshKeygen(
        _ type: String, bits: Int? = nil, comment: String = "test", passphrase: String = "", format: String? = nil, name: String = "key",
        in directory: TemporaryDirectory
    ) throws -> String {
        let path = directory.file(name)
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", comment, "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        if let format { arguments += ["-m", format] }
        try ExternalTool.runChecked("ssh-keygen", arguments)
        return path
    }

    /// The text of a file.
    static func read(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }
}

/// Identifiers from readable names in tests.
func id<Subject>(_ text: String) throws -> Identifier<Subject> { try Identifier<Subject>(text) }
func login(_ text: String) throws -> LoginName { try LoginName(text) }

/// Checks what every rendered authorized_keys line must be: one line, no control characters, read back by
/// SSHKeys as exactly one key (the entry's) with exactly `options` and the `keyfleet:` comment.
func expectSafe(_ entry: AccessEntry, options: [AuthorizedKeyOption], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let line = entry.line
    #expect(CommentPolicy.isAcceptable(line.utf8), "control character in \(line)", sourceLocation: sourceLocation)
    #expect(
        !line.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" },
        sourceLocation: sourceLocation)
    #expect(AuthorizedKeysFile.parse(line + "\n").count == 1, sourceLocation: sourceLocation)
    let parsed = try AuthorizedKey(line: line)
    #expect(parsed.key.isSameKey(as: entry.publicKey), sourceLocation: sourceLocation)
    #expect(parsed.options == options, sourceLocation: sourceLocation)
    #expect(parsed.comment == EffectiveAccess.comment(forKeyNamed: entry.name), sourceLocation: sourceLocation)
    #expect(parsed.comment.hasPrefix("keyfleet:"), sourceLocation: sourceLocation)
    #expect(parsed.line == line, sourceLocation: sourceLocation)
}

/// Foundation has a `Host` class too; in this module `Host` is ours.
typealias Host = KeyfleetCore.Host
