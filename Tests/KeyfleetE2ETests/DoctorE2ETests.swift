import Foundation
import Testing
import TestSupport

/// `keyfleet doctor` on the files ssh itself checks: ~/.ssh/config as ssh's readconf.c demands, and
/// authorized_keys lines named by their number once.
@Suite("keyfleet doctor: ~/.ssh/config and line numbers")
struct DoctorE2ETests {
    /// A home with a 0700 ~/.ssh and nothing in it.
    private func makeHome() throws -> (home: TemporaryDirectory, ssh: String) {
        let home = try TemporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home.path)
        let ssh = home.file(".ssh")
        try FileManager.default.createDirectory(atPath: ssh, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return (home, ssh)
    }

    @Test("a bad authorized_keys line is reported with its line number once")
    func lineNumberOnce() throws {
        let (home, ssh) = try makeHome()
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", home.file("k")])
        let line = try home.read("k.pub")
        _ = try home.write(".ssh/authorized_keys", line + "garbage\n\nssh-ed25519 AAAA bad\n", mode: 0o600)
        let result = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(result.status == 1)
        let findings = result.text.split(separator: "\n").filter { $0.hasPrefix(ssh + "/authorized_keys:") }
        #expect(findings.count == 2, "\(result.text)")
        for (finding, number) in zip(findings, [2, 4]) {
            #expect(finding.hasPrefix("\(ssh)/authorized_keys: line \(number): "), "\(finding)")
            #expect(finding.components(separatedBy: "line ").count == 2, "the line number is said more than once: \(finding)")
        }
    }

    @Test("~/.ssh/config writable by group or others is found and --fix makes it 0644", arguments: [0o664, 0o646, 0o666])
    func configMode(_ bits: Int) throws {
        let (home, ssh) = try makeHome()
        let config = try home.write(".ssh/config", "Host *\n  ServerAliveInterval 30\n", mode: bits)
        let check = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(check.status == 1)
        #expect(check.text.contains("\(ssh)/config: has mode 0\(String(bits, radix: 8)); ssh refuses"), "\(check.text)")
        #expect(check.text.contains("Bad owner or permissions"))

        let fix = try KeyfleetBinary.run(["doctor", "--fix", "--home", home.path])
        #expect(fix.status == 0, "\(fix.text)")
        #expect(fix.text.contains("(fixed)"))
        #expect(try mode(of: config) == 0o644 & bits)
        let again = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(again.status == 0)
        #expect(again.text == "No problems found.\n")
    }

    @Test("a 0600 or 0644 ~/.ssh/config owned by the user passes", arguments: [0o600, 0o644, 0o400])
    func configFine(_ mode: Int) throws {
        let (home, _) = try makeHome()
        _ = try home.write(".ssh/config", "Host *\n", mode: mode)
        let check = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(check.status == 0, "\(check.text)")
        #expect(check.text == "No problems found.\n")
    }

    @Test(
        "~/.ssh/config owned by another user is found (ssh accepts only the user's or root's)",
        .enabled(if: getuid() == 0, "needs root to give files to other users"))
    func configOwner() throws {
        let (home, ssh) = try makeHome()
        let config = try home.write(".ssh/config", "Host *\n", mode: 0o644)
        // The home's owner is the user doctor judges for; the config belongs to someone else.
        try FileManager.default.setAttributes([.ownerAccountID: 4242], ofItemAtPath: config)
        try FileManager.default.setAttributes([.ownerAccountID: 4243], ofItemAtPath: home.path)
        try FileManager.default.setAttributes([.ownerAccountID: 4243], ofItemAtPath: ssh)
        let check = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(check.status == 1)
        #expect(check.text.contains("\(ssh)/config: is owned by uid 4242, not by uid 4243 or root; ssh refuses"), "\(check.text)")

        // Root's own file is accepted, as ssh accepts it.
        try FileManager.default.setAttributes([.ownerAccountID: 0], ofItemAtPath: config)
        let rootOwned = try KeyfleetBinary.run(["doctor", "--home", home.path])
        #expect(rootOwned.status == 0, "\(rootOwned.text)")
    }

    @Test("~/.ssh/config as a symbolic link is judged by the file it points to, and never fixed through the link")
    func configLink() throws {
        let (home, ssh) = try makeHome()
        let target = try home.write("shared-config", "Host *\n", mode: 0o666)
        try FileManager.default.createSymbolicLink(atPath: ssh + "/config", withDestinationPath: target)
        let fix = try KeyfleetBinary.run(["doctor", "--fix", "--home", home.path])
        #expect(fix.status == 1)
        #expect(fix.text.contains("\(ssh)/config: has mode 0666 (through the symbolic link); ssh refuses"), "\(fix.text)")
        #expect(!fix.text.contains("(fixed)"))
        #expect(try mode(of: target) == 0o666)
    }
}
