import Foundation
import Testing
import TestSupport

/// Legacy mode end to end: the real registry, the agent with `--mode legacy`, sshd with its default
/// `AuthorizedKeysFile .ssh/authorized_keys` and `StrictModes yes`, a real unprivileged user made with
/// useradd, and the real ssh client. Needs root (useradd, and the agent writing as another user).
@Suite("Host agent in legacy mode with a real sshd and a real user", .serialized)
struct HostAgentLegacyE2ETests {
    /// A user made with useradd whose `~/.ssh/authorized_keys` holds lines of their own, the registry with
    /// a host for that login, the agent enrolled and running in legacy mode, and sshd. Removes the user.
    final class LegacyHost: @unchecked Sendable {
        let work: TemporaryDirectory
        let name: String
        let uid: uid_t
        let gid: gid_t
        let file: String
        /// The user's own key, and the file as the user left it: a CRLF comment, no final newline.
        let own: String
        let unmanaged: [UInt8]
        let server: RegistryServerProcess
        let api: RegistryHTTP
        let project: String
        let host: String
        let sshd: LoopbackSSHD
        let state: String
        let agent: BackgroundProcess

        /// `wait`: the agent's long-poll in seconds (how often, at the latest, it tries refused logins again).
        init(wait: Int = 20) throws {
            work = try TemporaryDirectory()
            chmod(work.path, 0o755)  // the user reaches their home through it
            try FileManager.default.createDirectory(
                atPath: work.file("homes"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            name = "kf-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let home = work.file("homes/" + name)
            // "*" as the password: no password login, but not a locked account, which sshd refuses without PAM.
            try ExternalTool.runChecked("useradd", ["-m", "-d", home, "-s", "/bin/sh", "-p", "*", name])
            guard let entry = getpwnam(name) else { throw FleetError("useradd made no \(name)") }
            uid = entry.pointee.pw_uid
            gid = entry.pointee.pw_gid

            own = work.file("own")
            try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "own", "-f", own])
            let ownLine = try String(contentsOfFile: own + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
            unmanaged = Array("# the user's own, kept byte for byte\r\n\(ownLine)\n# BEGIN keyfleet managed keys\n# last line".utf8)
            let ssh = home + "/.ssh"
            file = ssh + "/authorized_keys"
            try FileManager.default.createDirectory(atPath: ssh, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try Data(unmanaged).write(to: URL(fileURLWithPath: file))
            chmod(file, 0o600)
            chown(ssh, uid, gid)
            chown(file, uid, gid)

            server = try RegistryServerProcess(dataDirectory: work.file("registry"))
            api = RegistryHTTP(url: server.url, token: server.token)
            project = try api.id(try api.call("POST", "/v1/projects", ["name": "legacy"]))
            let created = try api.call("POST", "/v1/hosts", ["name": "old-image", "project": project, "logins": [name]])
            host = try api.id(created["host"])
            guard let enrollment = created["enrollment"] as? [String: Any], let token = enrollment["token"] as? String else {
                throw FleetError("createHost gave no enrollment token: \(created)")
            }
            // sshd's defaults for keys; the first value of a keyword wins, so StrictModes yes overrides the base config.
            sshd = try LoopbackSSHD { _ in "AuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes" }
            state = work.file("state")
            let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", server.url, "--token", token, "--state-dir", state])
            guard enrolled.status == 0 else { throw FleetError("enroll failed: \(enrolled.stderr)") }
            let install = try KeyfleetBinary.run(["host-agent", "install", "--mode", "legacy", "--sshd-config", sshd.configPath, "--no-reload"])
            guard install.status == 0, install.text.contains("nothing to install") else {
                throw FleetError("install --mode legacy: \(install.stderr)")
            }
            agent = try HostAgentRun.start(["--state-dir", state, "--mode", "legacy", "--wait", String(wait), "--host-keys-dir", sshd.directory.path])
        }

        deinit {
            agent.stop()
            _ = try? ExternalTool.run("userdel", ["-r", name])
        }

        var diagnostics: String { "agent stderr:\n\(agent.standardError.suffix(3000))\nsshd log:\n\(sshd.log.suffix(2000))" }

        func logsIn(_ identity: String) throws -> Bool { try sshd.logsIn(identity, user: name) }

        func secondsUntil(_ identity: String, logsIn expected: Bool, limit: Double = 5) throws -> Double? {
            try sshd.secondsUntil(identity, user: name, logsIn: expected, limit: limit)
        }

        /// A new key granted to the host's login through the project; returns its private key and identifier.
        func grant(_ keyName: String) throws -> (identity: String, id: String) {
            let identity = work.file(keyName)
            try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", keyName, "-f", identity])
            let line = try String(contentsOfFile: identity + ".pub", encoding: .utf8)
            let id = try api.id(try api.call("POST", "/v1/ssh-keys", ["name": keyName, "public_key": line, "project": project])["key"])
            return (identity, id)
        }

        var bytes: [UInt8] { Array(FileManager.default.contents(atPath: file) ?? Data()) }
    }

    @Test(
        """
        a granted key logs in as the user through ~/.ssh/authorized_keys, written as the user; revoked, it is refused; \
        the user's own lines stay byte for byte
        """,
        .enabled(if: getuid() == 0, "needs root to add a user"))
    func grantAndRevoke() throws {
        let legacy = try LegacyHost()
        #expect(
            !FileManager.default.fileExists(atPath: legacy.sshd.directory.file("sshd_config.d/50-keyfleet.conf")),
            "install --mode legacy changes nothing")
        #expect(try legacy.logsIn(legacy.own), "the user's own key works before the agent writes anything\n\(legacy.diagnostics)")
        let granted = try legacy.grant("granted")
        #expect(try legacy.secondsUntil(granted.identity, logsIn: true) != nil, "\(legacy.diagnostics)")

        var info = stat()
        #expect(
            lstat(legacy.file, &info) == 0 && info.st_uid == legacy.uid && info.st_gid == legacy.gid && info.st_mode & 0o777 == 0o600,
            "written as the user")
        let withBlock = legacy.bytes
        // The file had no final newline: it gets one before the block, and nothing else of the user's changes.
        #expect(withBlock.starts(with: legacy.unmanaged + [0x0A]), "\(String(decoding: withBlock, as: UTF8.self))")
        let block = String(decoding: withBlock.dropFirst(legacy.unmanaged.count + 1), as: UTF8.self)
        #expect(block.hasPrefix("# BEGIN keyfleet managed keys: do not edit between these lines\nssh-ed25519 "))
        #expect(block.hasSuffix("\n# END keyfleet managed keys\n"))
        #expect(try legacy.logsIn(legacy.own))

        _ = try legacy.api.call("DELETE", "/v1/ssh-keys/\(granted.id)", nil)
        let revoked = try legacy.secondsUntil(granted.identity, logsIn: false)
        #expect(revoked != nil && revoked! < 1.0, "revoked after \(String(describing: revoked)) s\n\(legacy.diagnostics)")
        #expect(legacy.bytes == legacy.unmanaged + [0x0A], "the block is gone, the rest kept")
        #expect(lstat(legacy.file, &info) == 0 && info.st_uid == legacy.uid)
        #expect(try legacy.logsIn(legacy.own), "the user's own key keeps working\n\(legacy.diagnostics)")
        #expect(legacy.agent.isRunning, "\(legacy.diagnostics)")
    }

    @Test(
        "deleting the host in the registry removes the block from the user's file, keeps the user's lines, and the agent exits 0",
        .enabled(if: getuid() == 0, "needs root to add a user"))
    func hostDeleted() async throws {
        let legacy = try LegacyHost()
        let granted = try legacy.grant("granted")
        #expect(try legacy.secondsUntil(granted.identity, logsIn: true) != nil, "\(legacy.diagnostics)")
        _ = try legacy.api.call("DELETE", "/v1/hosts/\(legacy.host)", nil)
        #expect(try legacy.secondsUntil(granted.identity, logsIn: false) != nil, "\(legacy.diagnostics)")
        let ended = try await HostAgentRun.waitForExit(legacy.agent, limit: .seconds(10))
        #expect(ended.ended && ended.status == 0, "\(legacy.diagnostics)")
        #expect(legacy.bytes == legacy.unmanaged + [0x0A], "the block is gone, the rest kept")
        var info = stat()
        #expect(lstat(legacy.file, &info) == 0 && info.st_uid == legacy.uid)
        #expect(try legacy.logsIn(legacy.own), "the user's own key keeps working\n\(legacy.diagnostics)")
        #expect(!FileManager.default.fileExists(atPath: legacy.state + "/access.json"))
    }

    @Test(
        "a login refused for its ~/.ssh gets its keys once the user's ~/.ssh is fixed, without any change in the registry",
        .enabled(if: getuid() == 0, "needs root to add a user"))
    func refusedLoginRetried() async throws {
        let legacy = try LegacyHost(wait: 2)
        let ssh = (legacy.file as NSString).deletingLastPathComponent
        // Not the user's: the agent refuses to write there (sshd itself accepts a root-owned ~/.ssh).
        #expect(chown(ssh, 0, 0) == 0)
        let granted = try legacy.grant("granted")
        let refused = try await HostAgentRun.eventually(.seconds(20)) { legacy.agent.standardError.contains("refused to write the keys of a login") }
        #expect(refused, "\(legacy.diagnostics)")
        #expect(legacy.bytes == legacy.unmanaged, "nothing written")
        #expect(try legacy.logsIn(granted.identity) == false)

        #expect(chown(ssh, legacy.uid, legacy.gid) == 0)
        #expect(try legacy.secondsUntil(granted.identity, logsIn: true, limit: 20) != nil, "\(legacy.diagnostics)")
        #expect(
            legacy.agent.standardError.components(separatedBy: "refused to write the keys of a login").count == 2, "said once\n\(legacy.diagnostics)")
        #expect(legacy.agent.standardError.contains("wrote the keys of a login refused before"))
    }

    @Test(
        "a revoked key the user copied outside the block is reported in host describe and the audit log, and left alone",
        .enabled(if: getuid() == 0, "needs root to add a user"))
    func revokedKeyOutsideBlockReported() async throws {
        let legacy = try LegacyHost(wait: 2)
        let install = try KeyfleetBinary.run(["host-agent", "install", "--mode", "legacy", "--sshd-config", legacy.sshd.configPath, "--no-reload"])
        #expect(install.text.contains("cannot stop an account's own user from copying a managed line outside the keyfleet block"), "\(install.text)")
        let granted = try legacy.grant("copied")
        #expect(try legacy.secondsUntil(granted.identity, logsIn: true) != nil, "\(legacy.diagnostics)")
        // The user copies the managed line to the top of their own file, as the user could.
        let text = String(decoding: legacy.bytes, as: UTF8.self)
        let managed = try #require(text.split(separator: "\n").first { $0.hasPrefix("ssh-ed25519 ") && !$0.hasSuffix(" own") })
        try Data((String(managed) + "\n" + text).utf8).write(to: URL(fileURLWithPath: legacy.file))
        chown(legacy.file, legacy.uid, legacy.gid)
        let fingerprint = try ExternalTool.runChecked("ssh-keygen", ["-l", "-E", "sha256", "-f", granted.identity + ".pub"]).text
            .split(separator: " ")[1]
        // Still granted: nothing to report yet.
        try await Task.sleep(for: .seconds(3))
        func reported() throws -> [[String: Any]] {
            let host = try legacy.api.call("GET", "/v1/hosts/\(legacy.host)", nil)
            return (host["agent"] as? [String: Any])?["revoked_keys_outside_block"] as? [[String: Any]] ?? []
        }
        #expect(try reported().isEmpty)

        _ = try legacy.api.call("DELETE", "/v1/ssh-keys/\(granted.id)", nil)
        let found = try await HostAgentRun.eventually(.seconds(15)) { (try? reported().isEmpty == false) ?? false }
        #expect(found, "\(legacy.diagnostics)")
        let lines = try reported()
        #expect(lines.count == 1)
        #expect(lines.first?["login"] as? String == legacy.name && lines.first?["line"] as? Int == 1)
        #expect(lines.first?["fingerprint"] as? String == String(fingerprint))
        // Left alone: the copied line is still the first line, and (the limit of legacy mode) still logs in.
        #expect(String(decoding: legacy.bytes, as: UTF8.self).hasPrefix(String(managed) + "\n"))
        #expect(try legacy.logsIn(granted.identity))

        let described = try legacy.server.client(["host", "describe", legacy.host])
        #expect(
            described.text.contains("Revoked keys still in a user's authorized_keys") && described.text.contains(String(fingerprint)),
            "\(described.text)")
        let audit = try legacy.api.call("GET", "/v1/audit?object_id=\(legacy.host)", nil)
        let actions = (audit["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(actions.contains("host.agent.revoked-keys-outside-block"), "\(actions)")
        #expect(legacy.agent.standardError.contains("a revoked key is still in a user's authorized_keys"))
    }
}
