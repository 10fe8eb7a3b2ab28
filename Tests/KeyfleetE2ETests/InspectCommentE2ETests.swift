import Foundation
import Testing
import TestSupport

/// `keyfleet inspect` and the comment of an encrypted key: shown when the format keeps it in the clear
/// (PuTTY .ppk v2 and v3, RFC 4716), said to be encrypted when it is not (openssh-key-v1).
@Suite("keyfleet inspect: the comment of encrypted keys")
struct InspectCommentE2ETests {
    private func inspectJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try KeyfleetBinary.run(["inspect", "--json"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
    }

    @Test("PuTTY keeps the comment in the clear: inspect shows it without the passphrase", arguments: ["version=2", "version=3"])
    func ppkComment(_ version: String) throws {
        let directory = try TemporaryDirectory()
        let comment = RandomInput.comment()
        let passphrase = try directory.write("pass", "secret\n")
        try ExternalTool.runChecked(
            "puttygen",
            [
                "-q", "-t", "ed25519", "-C", comment, "--new-passphrase", passphrase,
                "--ppk-param", version + (version == "version=3" ? ",memory=1024,passes=1" : ""),
                "-o", directory.file("k.ppk"),
            ])
        let object = try inspectJSON([directory.file("k.ppk")])
        #expect(object["encrypted"] as? Bool == true)
        #expect(object["comment"] as? String == comment)
        #expect(object["comment encrypted"] as? Bool == false)
        let table = try KeyfleetBinary.run(["inspect", directory.file("k.ppk")])
        #expect(table.text.contains("comment:"))
        #expect(!table.text.contains("encrypted with the key"))
    }

    @Test("an RFC 4716 public key shows its Comment header")
    func rfc4716Comment() throws {
        let directory = try TemporaryDirectory()
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", directory.file("k")])
        let exported = try ExternalTool.runChecked("ssh-keygen", ["-e", "-f", directory.file("k.pub")]).text
        let path = try directory.write("k.rfc", exported)
        let object = try inspectJSON([path])
        #expect((object["comment"] as? String)?.contains("converted by") == true, "\(object)")
    }

    @Test("openssh-key-v1 encrypts the comment: inspect says so, and shows it given the passphrase")
    func openSSHComment() throws {
        let directory = try TemporaryDirectory()
        let comment = RandomInput.comment()
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "pw", "-C", comment, "-f", directory.file("k")])
        let hidden = try inspectJSON([directory.file("k")])
        #expect(hidden["comment"] is NSNull)
        #expect(hidden["comment encrypted"] as? Bool == true)
        let table = try KeyfleetBinary.run(["inspect", directory.file("k")])
        let line = table.text.split(separator: "\n").first { $0.hasPrefix("comment:") } ?? ""
        #expect(line.contains("encrypted with the key: give its passphrase with -P"), "\(table.text)")
        #expect(!line.contains("(none)"))

        let shown = try inspectJSON(["-P", "pw", directory.file("k")])
        #expect(shown["comment"] as? String == comment)
        #expect(shown["comment encrypted"] as? Bool == false)

        // A key with no passphrase has its comment in the open.
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", directory.file("plain")])
        #expect(try inspectJSON([directory.file("plain")])["comment"] as? String == comment)
    }
}
