import Foundation
import Testing
import TestSupport

/// Legacy mode end to end: the real registry, the agent with `--mode legacy`, sshd with its default
/// `AuthorizedKeysFile .ssh/authorized_keys` and `StrictModes yes`, a real unprivileged user made with
/// useradd, and the real ssh client. Needs root (useradd, and the agent writing as another user).
@Suite("Host agent in legacy mode with a real sshd and a real user", .serialized)
struct HostAgentLegacyE2ETests {
    @Test(
        "a granted key logs in as the user through ~/.ssh/authorized_keys, written as the user; revoked, it is refused; the user's own lines stay byte for byte",
        .enabled(if: getuid() == 0, "needs root to add a user"))
    func grantAndRevoke() throws {
        let work = try TemporaryDirectory()
        chmod(work.path, 0o755)  // the user reaches their home through it
        try FileManager.default.createDirectory(atPath: work.file("homes"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let name = "kf-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let home = work.file("homes/" + name)
        // "*" as the password: no password login, but not a locked account, which sshd refuses without PAM.
        try ExternalTool.runChecked("useradd", ["-m", "-d", home, "-s", "/bin/sh", "-p", "*", name])
        defer { _ = try? ExternalTool.run("userdel", ["-r", name]) }
        guard let entry = getpwnam(name) else { throw FleetError("useradd made no \(name)") }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid

        // The user's own key and lines, which the agent must keep: a CRLF comment, no final newline.
        let own = work.file("own")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "own", "-f", own])
        let ownLine = try String(contentsOfFile: own + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        let unmanaged = Array("# the user's own, kept byte for byte\r\n\(ownLine)\n# BEGIN keyfleet managed keys\n# last line".utf8)
        let ssh = home + "/.ssh"
        let file = ssh + "/authorized_keys"
        try FileManager.default.createDirectory(atPath: ssh, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Data(unmanaged).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        chown(ssh, uid, gid)
        chown(file, uid, gid)

        let server = try RegistryServerProcess(dataDirectory: work.file("registry"))
        let api = RegistryHTTP(url: server.url, token: server.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "legacy"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "old-image", "project": project, "logins": [name]])
        guard let enrollment = created["enrollment"] as? [String: Any], let token = enrollment["token"] as? String else {
            throw FleetError("createHost gave no enrollment token: \(created)")
        }
        // sshd's defaults for keys; the first value of a keyword wins, so StrictModes yes overrides the base config.
        let sshd = try LoopbackSSHD { _ in "AuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes" }
        let state = work.file("state")
        let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", server.url, "--token", token, "--state-dir", state])
        try #require(enrolled.status == 0, "\(enrolled.stderr)")
        let install = try KeyfleetBinary.run(["host-agent", "install", "--mode", "legacy", "--sshd-config", sshd.configPath, "--no-reload"])
        #expect(install.status == 0 && install.text.contains("nothing to install"), "\(install.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sshd.directory.file("sshd_config.d/50-keyfleet.conf")))
        let agent = try BackgroundProcess(
            KeyfleetBinary.path,
            ["host-agent", "run", "--state-dir", state, "--mode", "legacy", "--wait", "20", "--host-keys-dir", sshd.directory.path, "--log-level", "debug"])
        defer { agent.stop() }
        let diagnostics = { "agent stderr:\n\(agent.standardError.suffix(3000))\nsshd log:\n\(sshd.log.suffix(2000))" }

        func logsIn(_ identity: String) throws -> Bool { try sshd.logsIn(identity, user: name) }
        func secondsUntil(_ identity: String, logsIn expected: Bool) throws -> Double? {
            try sshd.secondsUntil(identity, user: name, logsIn: expected)
        }

        #expect(try logsIn(own), "the user's own key works before the agent writes anything\n\(diagnostics())")
        let granted = work.file("granted")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "granted", "-f", granted])
        let grantedLine = try String(contentsOfFile: granted + ".pub", encoding: .utf8)
        let keyID = try api.id(try api.call("POST", "/v1/ssh-keys", ["name": "granted", "public_key": grantedLine, "project": project])["key"])
        #expect(try secondsUntil(granted, logsIn: true) != nil, "\(diagnostics())")

        var info = stat()
        #expect(lstat(file, &info) == 0 && info.st_uid == uid && info.st_gid == gid && info.st_mode & 0o777 == 0o600, "written as the user")
        let withBlock = Array(FileManager.default.contents(atPath: file) ?? Data())
        // The file had no final newline: it gets one before the block, and nothing else of the user's changes.
        #expect(withBlock.starts(with: unmanaged + [0x0A]), "\(String(decoding: withBlock, as: UTF8.self))")
        let block = String(decoding: withBlock.dropFirst(unmanaged.count + 1), as: UTF8.self)
        #expect(block.hasPrefix("# BEGIN keyfleet managed keys: do not edit between these lines\nssh-ed25519 "))
        #expect(block.hasSuffix("\n# END keyfleet managed keys\n"))
        #expect(try logsIn(own))

        _ = try api.call("DELETE", "/v1/ssh-keys/\(keyID)", nil)
        let revoked = try secondsUntil(granted, logsIn: false)
        #expect(revoked != nil && revoked! < 1.0, "revoked after \(String(describing: revoked)) s\n\(diagnostics())")
        #expect(Array(FileManager.default.contents(atPath: file) ?? Data()) == unmanaged + [0x0A], "the block is gone, the rest kept")
        #expect(lstat(file, &info) == 0 && info.st_uid == uid)
        #expect(try logsIn(own), "the user's own key keeps working\n\(diagnostics())")
        #expect(agent.isRunning, "\(diagnostics())")
    }
}
