import Foundation
import Testing
import TestSupport

/// The host agent against the real registry server, the real sshd and the real ssh client: a grant or a
/// revocation in the registry decides, within a second, whether `ssh` logs in.
@Suite("Host agent with a real sshd", .serialized)
struct HostAgentE2ETests {
    /// The registry, one host with its agent, and sshd reading the agent's files.
    ///
    /// In command mode the layout is a host's: `lib/` (as /var/lib, 0755) holds the agent's private state
    /// directory `lib/keyfleet` (0700) and, beside it, the cache `lib/keyfleet-authorized` the agent makes;
    /// sshd reads it through the drop-in `keyfleet host-agent install --mode command` writes, with its
    /// default lookup user `nobody`. Every agent runs under umask 077 (``HostAgentRun/start(_:)``).
    final class Fleet: @unchecked Sendable {
        let work: TemporaryDirectory
        var server: RegistryServerProcess
        let api: RegistryHTTP
        let project: String
        let host: String
        let sshd: LoopbackSSHD
        let mode: String
        let keysDirectory: String
        let stateDirectory: String
        var agent: BackgroundProcess?
        let login = LoopbackSSHD.userName
        let lookup: SafeExecutable?

        init(mode: String = "files") throws {
            self.mode = mode
            work = try TemporaryDirectory()
            if mode == "command" {
                // nobody walks from / to the cache.
                chmod(work.path, 0o755)
                try FileManager.default.createDirectory(
                    atPath: work.file("lib"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
            server = try RegistryServerProcess(dataDirectory: work.file("registry"))
            api = RegistryHTTP(url: server.url, token: server.token)
            project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
            keysDirectory = work.file(mode == "files" ? "keys" : "lib/keyfleet-authorized")
            stateDirectory = work.file(mode == "files" ? "state" : "lib/keyfleet")
            let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project, "logins": [LoopbackSSHD.userName]])
            host = try api.id(created["host"])
            let keysDirectory = self.keysDirectory
            // sshd runs an AuthorizedKeysCommand only from a path whose every directory is root's and not
            // writable by others, which a checkout under /tmp is not: the test runs a copy under /run.
            let lookup = mode == "files" ? nil : try SafeExecutable(copying: KeyfleetBinary.lookupPath)
            self.lookup = lookup
            // In command mode only the drop-in gives keys: the Include at the top of sshd_config comes first,
            // and sshd takes the first value of each keyword.
            sshd = try LoopbackSSHD { _ in lookup == nil ? "AuthorizedKeysFile \(keysDirectory)/%u" : "AuthorizedKeysFile none" }
            if let lookup {
                let installed = try KeyfleetBinary.run([
                    "host-agent", "install", "--mode", "command", "--sshd-config", sshd.configPath, "--sshd-pid-file", sshd.pidFile,
                    "--keys-dir", keysDirectory, "--lookup-command", lookup.path,
                ])
                guard installed.status == 0 else { throw FleetError("install --mode command failed: \(installed.stderr)") }
            }
            // Enroll as cloud-init would: the enrollment file from the user data, read with --config.
            guard let userData = created["user_data"] as? String else { throw FleetError("createHost gave no user data: \(created)") }
            let userDataPath = try work.write("user-data", userData)
            let enrollFile = work.file("enroll.json")
            try ExternalTool.runChecked(
                "python3",
                [
                    "-c", "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); open(sys.argv[2], 'w').write(d['write_files'][0]['content'])",
                    userDataPath, enrollFile,
                ])
            let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--config", enrollFile, "--state-dir", stateDirectory])
            guard enrolled.status == 0 else { throw FleetError("enroll failed: \(enrolled.stderr)") }
            try startAgent()
        }

        func startAgent() throws {
            agent = try HostAgentRun.start(
                ["--state-dir", stateDirectory, "--keys-dir", keysDirectory, "--mode", mode, "--wait", "20", "--host-keys-dir", sshd.directory.path])
        }

        /// The host's agent status as the registry shows it (`Host.agent`).
        func agentStatus() throws -> [String: Any] {
            (try api.call("GET", "/v1/hosts/\(host)", nil)["agent"] as? [String: Any]) ?? [:]
        }

        /// A new key pair on disk; returns the private key's path and the public line.
        func keyPair(_ name: String, type: String = "ed25519") throws -> (path: String, line: String) {
            let path = work.file(name)
            try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "\(name)@test", "-f", path])
            return (path, try String(contentsOfFile: path + ".pub", encoding: .utf8))
        }

        /// Imports `line` as a project key; returns its identifier.
        func importProjectKey(_ name: String, _ line: String, expiresAt: String? = nil) throws -> String {
            var body: [String: Any] = ["name": name, "public_key": line, "project": project]
            if let expiresAt { body["expires_at"] = expiresAt }
            return try api.id(try api.call("POST", "/v1/ssh-keys", body)["key"])
        }

        func logsIn(_ identity: String) throws -> Bool { try sshd.logsIn(identity) }

        func secondsUntil(_ identity: String, logsIn expected: Bool) throws -> Double? { try sshd.secondsUntil(identity, logsIn: expected) }

        var diagnostics: String {
            "agent stderr:\n\(agent?.standardError.suffix(3000) ?? "")\nserver stderr:\n\(server.standardError.suffix(2000))"
                + "\nsshd log:\n\(sshd.log.suffix(1500))"
        }
    }

    @Test("a granted key logs in; a key added later logs in without restarting anything; a deleted key is refused within a second")
    func grantAndRevoke() throws {
        let fleet = try Fleet()
        let first = try fleet.keyPair("first")
        _ = try fleet.importProjectKey("first", first.line)
        #expect(try fleet.secondsUntil(first.path, logsIn: true) != nil, "\(fleet.diagnostics)")

        let later = try fleet.keyPair("later", type: "ecdsa")
        #expect(try fleet.logsIn(later.path) == false)
        let laterID = try fleet.importProjectKey("later", later.line)
        let granted = try fleet.secondsUntil(later.path, logsIn: true)
        #expect(granted != nil && granted! < 1.0, "granted after \(String(describing: granted)) s\n\(fleet.diagnostics)")

        _ = try fleet.api.call("DELETE", "/v1/ssh-keys/\(laterID)", nil)
        let revoked = try fleet.secondsUntil(later.path, logsIn: false)
        #expect(revoked != nil && revoked! < 1.0, "revoked after \(String(describing: revoked)) s\n\(fleet.diagnostics)")
        #expect(try fleet.logsIn(first.path), "an unrelated key must keep working")
    }

    @Test("removing a member from the project, and a key from the host's cluster, refuse their keys within a second")
    func memberAndClusterRevocation() throws {
        let fleet = try Fleet()
        // A person with a personal key, member of the project: their key reaches the project's hosts.
        let user = try fleet.api.call("POST", "/v1/users", ["name": "alice"])
        let userID = try fleet.api.id(user)
        let alice = try fleet.keyPair("alice")
        let token = try fleet.api.call("POST", "/v1/tokens", ["user": userID])
        guard let secret = token["secret"] as? String else { throw FleetError("no token secret: \(token)") }
        let aliceAPI = RegistryHTTP(url: fleet.server.url, token: secret)
        _ = try aliceAPI.call("POST", "/v1/ssh-keys", ["name": "laptop", "public_key": alice.line])
        _ = try fleet.api.call("PUT", "/v1/projects/\(fleet.project)/members/\(userID)", ["role": "member"])
        #expect(try fleet.secondsUntil(alice.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        _ = try fleet.api.call("DELETE", "/v1/projects/\(fleet.project)/members/\(userID)", nil)
        let removed = try fleet.secondsUntil(alice.path, logsIn: false)
        #expect(removed != nil && removed! < 1.0, "member removal took \(String(describing: removed)) s\n\(fleet.diagnostics)")

        // A cluster's key reaches its hosts; removing it from the cluster refuses it.
        let clusterKey = try fleet.keyPair("cluster")
        let keyID = try fleet.importProjectKey("cluster", clusterKey.line)
        let cluster = try fleet.api.id(try fleet.api.call("POST", "/v1/clusters", ["name": "pool", "project": fleet.project]))
        _ = try fleet.api.call("POST", "/v1/clusters/\(cluster)/keys", ["ssh_key": keyID])
        _ = try fleet.api.call("POST", "/v1/clusters/\(cluster)/hosts", ["host": fleet.host])
        #expect(try fleet.secondsUntil(clusterKey.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        _ = try fleet.api.call("DELETE", "/v1/clusters/\(cluster)/keys/\(keyID)", nil)
        let dropped = try fleet.secondsUntil(clusterKey.path, logsIn: false)
        #expect(dropped != nil && dropped! < 1.0, "cluster key removal took \(String(describing: dropped)) s\n\(fleet.diagnostics)")
    }

    @Test("with the agent stopped, sshd refuses an expired key; with the server stopped, access keeps working and a restarted agent serves its cache")
    func failStatic() async throws {
        let fleet = try Fleet()
        let lasting = try fleet.keyPair("lasting")
        _ = try fleet.importProjectKey("lasting", lasting.line)
        let brief = try fleet.keyPair("brief")
        // Whole minutes: expiry-time has minute precision. The first minute boundary at least 15 s ahead,
        // then the test waits it out with the agent stopped, so only sshd's own check can refuse it.
        let expiry = Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + 15) / 60).rounded(.up) * 60)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        _ = try fleet.importProjectKey("brief", brief.line, expiresAt: formatter.string(from: expiry))
        #expect(try fleet.secondsUntil(brief.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        #expect(try fleet.logsIn(lasting.path))

        fleet.agent?.stop()
        _ = fleet.server.stop()
        // The server is gone: what was granted still works, through a restart of the agent.
        try fleet.startAgent()
        try await Task.sleep(for: .milliseconds(500))
        #expect(fleet.agent?.isRunning == true, "\(fleet.diagnostics)")
        #expect(try fleet.logsIn(lasting.path), "\(fleet.diagnostics)")
        let files = try String(contentsOfFile: fleet.keysDirectory + "/" + fleet.login, encoding: .utf8)
        #expect(files.contains("expiry-time=\""))
        fleet.agent?.stop()

        // Waited without holding a thread: other suites run meanwhile.
        let wait = expiry.timeIntervalSinceNow + 1
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        #expect(try fleet.logsIn(brief.path) == false, "sshd must refuse the expired key by itself")
        #expect(try fleet.logsIn(lasting.path))
    }

    @Test(
        "command mode as installed: keyfleet-authorized-keys, run by sshd as nobody, answers from the cache the agent keeps beside its private state")
    func commandMode() throws {
        let fleet = try Fleet(mode: "command")
        let dropIn = try String(contentsOfFile: fleet.sshd.directory.file("sshd_config.d/50-keyfleet.conf"), encoding: .utf8)
        #expect(dropIn.contains("AuthorizedKeysCommandUser nobody\n"), "\(dropIn)")
        let key = try fleet.keyPair("command")
        let keyID = try fleet.importProjectKey("command", key.line)
        #expect(try fleet.secondsUntil(key.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        // Made by the agent under umask 077, yet root's, 0755 and 0644: nobody reads it, nobody else writes it.
        var info = stat()
        #expect(stat(fleet.keysDirectory, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o7777 == 0o755)
        #expect(stat(fleet.keysDirectory + "/" + fleet.login, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o7777 == 0o644)
        #expect(stat(fleet.stateDirectory, &info) == 0 && info.st_mode & 0o7777 == 0o700, "the state directory stays private")
        _ = try fleet.api.call("DELETE", "/v1/ssh-keys/\(keyID)", nil)
        let revoked = try fleet.secondsUntil(key.path, logsIn: false)
        #expect(revoked != nil && revoked! < 1.0, "revoked after \(String(describing: revoked)) s\n\(fleet.diagnostics)")
    }

    @Test("sshd's lookup user (nobody) gets keys only from a cache root owns, never from one it owns itself")
    func lookupTrustsOnlyRoot() throws {
        let work = try TemporaryDirectory()
        chmod(work.path, 0o755)
        let cache = work.file("cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let identity = work.file("id")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "planted", "-f", identity])
        let line = try String(contentsOfFile: identity + ".pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        let fingerprint = try RealKeys.fingerprint(identity + ".pub")
        let file = try work.write(
            "cache/" + LoopbackSSHD.userName, "# keyfleet authorized-keys cache 2 sorted\n\(fingerprint) \(line)\n", mode: 0o644)
        let lookup = try SafeExecutable(copying: KeyfleetBinary.lookupPath)
        let sshd = try LoopbackSSHD { _ in
            "AuthorizedKeysFile none\nAuthorizedKeysCommand \(lookup.path) --cache-dir \(cache) %u %f\nAuthorizedKeysCommandUser nobody"
        }
        #expect(try sshd.logsIn(identity), "root's cache is read\n\(sshd.log.suffix(2000))")
        // What anything running as nobody could do: own the cache directory, or the file, and plant a key.
        #expect(chown(cache, 65534, 65534) == 0)
        #expect(try sshd.logsIn(identity) == false, "a cache directory owned by nobody")
        #expect(chown(cache, 0, 0) == 0)
        #expect(chown(file, 65534, 65534) == 0)
        #expect(try sshd.logsIn(identity) == false, "a cache file owned by nobody")
        #expect(chown(file, 0, 0) == 0)
        #expect(try sshd.logsIn(identity))
    }

    @Test("SIGKILL at any moment of a write leaves the old file or the new one, never a partial one, and no temporary files")
    func killDuringWrites() async throws {
        let fleet = try Fleet()
        let file = fleet.keysDirectory + "/" + fleet.login
        var granted = 0
        for round in 0..<15 {
            let pair = try fleet.keyPair("k\(round)")
            _ = try fleet.importProjectKey("k\(round)", pair.line)
            granted += 1
            // Kill somewhere between the API call and well after the write.
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...120)))
            fleet.agent?.stop(signal: SIGKILL)
            if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                #expect(text.hasPrefix("# Managed by keyfleet"), "round \(round): \(text.prefix(80))")
                #expect(text.hasSuffix("\n"), "round \(round): the file ends mid-line")
                let listed = try ExternalTool.run("ssh-keygen", ["-l", "-f", file])
                #expect(listed.status == 0, "round \(round): ssh-keygen cannot read the file: \(listed.stderr)")
                // The agent may have been killed before it applied the last grants: fewer keys, never more,
                // and every one of them a whole line.
                let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
                #expect(lines.count <= granted, "round \(round): \(lines.count) keys for \(granted) granted")
                #expect(listed.text.split(separator: "\n").count == lines.count, "round \(round)")
            }
            try fleet.startAgent()
        }
        // The restarted agent converges and leaves no temporary file behind.
        let last = try fleet.keyPair("last")
        _ = try fleet.importProjectKey("last", last.line)
        #expect(try fleet.secondsUntil(last.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        let names = try FileManager.default.contentsOfDirectory(atPath: fleet.keysDirectory)
        #expect(names == [fleet.login], "\(names)")
    }

    @Test("keys that cannot be written at start are retried until they land, only what is on disk is reported as applied, and so after a sync")
    func writeFailureRetried() async throws {
        let fleet = try Fleet()
        let key = try fleet.keyPair("first")
        _ = try fleet.importProjectKey("first", key.line)
        #expect(try fleet.secondsUntil(key.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        let file = fleet.keysDirectory + "/" + fleet.login
        let reported = try await HostAgentRun.eventually(.seconds(15)) { try fleet.agentStatus()["applied_version"] as? Int != nil }
        try #require(reported, "\(fleet.diagnostics)")
        let applied = try fleet.agentStatus()["applied_version"] as? Int
        #expect(try fleet.agentStatus()["delivery"] as? String == fleet.mode, "the agent reports how it delivers keys")

        // Restarted while the keys directory cannot be written (writable by others, which the agent refuses),
        // and without the file: the registry does not change, so every sync answers 304.
        fleet.agent?.stop()
        try FileManager.default.removeItem(atPath: file)
        #expect(chmod(fleet.keysDirectory, 0o777) == 0)
        let lastReport = try fleet.agentStatus()["last_report_at"] as? String
        try fleet.startAgent()
        let failed = try await HostAgentRun.eventually(.seconds(20)) { fleet.agent?.standardError.contains("cannot write the host's keys") == true }
        #expect(failed, "\(fleet.diagnostics)")
        let newReport = try await HostAgentRun.eventually(.seconds(15)) { try fleet.agentStatus()["last_report_at"] as? String != lastReport }
        #expect(newReport, "\(fleet.diagnostics)")
        #expect(try fleet.agentStatus()["applied_version"] as? Int == nil, "nothing is on disk, so nothing is applied")
        #expect(try fleet.logsIn(key.path) == false)
        #expect(fleet.agent?.standardError.contains("in step with the server") == false, "\(fleet.diagnostics)")

        #expect(chmod(fleet.keysDirectory, 0o755) == 0)
        let landed = try fleet.sshd.secondsUntil(key.path, logsIn: true, limit: 40)
        #expect(landed != nil, "the write is retried without any change in the registry\n\(fleet.diagnostics)")
        let reportedAgain = try await HostAgentRun.eventually(.seconds(15)) { try fleet.agentStatus()["applied_version"] as? Int == applied }
        #expect(reportedAgain, "\(fleet.diagnostics)")

        // A write that fails after a sync is retried the same way.
        #expect(chmod(fleet.keysDirectory, 0o777) == 0)
        let later = try fleet.keyPair("later")
        _ = try fleet.importProjectKey("later", later.line)
        let failedAgain = try await HostAgentRun.eventually(.seconds(20)) {
            (fleet.agent?.standardError.components(separatedBy: "cannot write the host's keys").count ?? 0) >= 3
        }
        #expect(failedAgain, "\(fleet.diagnostics)")
        #expect(try fleet.logsIn(later.path) == false)
        #expect(chmod(fleet.keysDirectory, 0o755) == 0)
        #expect(try fleet.sshd.secondsUntil(later.path, logsIn: true, limit: 40) != nil, "\(fleet.diagnostics)")
        #expect(try fleet.logsIn(key.path))
    }

    @Test(
        "deleting the host in the registry: its keys stop logging in, other files in the keys directory stay, the agent exits 0",
        arguments: ["files", "command"])
    func hostDeleted(_ mode: String) async throws {
        let fleet = try Fleet(mode: mode)
        let key = try fleet.keyPair("deleted")
        _ = try fleet.importProjectKey("deleted", key.line)
        #expect(try fleet.secondsUntil(key.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        // An administrator's file, named like a login: not the agent's.
        let unmanagedText = "# the administrator's own\n"
        let unmanaged = fleet.keysDirectory + "/breakglass"
        try Data(unmanagedText.utf8).write(to: URL(fileURLWithPath: unmanaged))

        _ = try fleet.api.call("DELETE", "/v1/hosts/\(fleet.host)", nil)
        let refused = try fleet.secondsUntil(key.path, logsIn: false)
        #expect(refused != nil, "\(fleet.diagnostics)")
        let agent = try #require(fleet.agent)
        let ended = try await HostAgentRun.waitForExit(agent, limit: .seconds(10))
        #expect(ended.ended && ended.status == 0, "\(fleet.diagnostics)")
        #expect(!FileManager.default.fileExists(atPath: fleet.keysDirectory + "/" + fleet.login))
        #expect(try String(contentsOfFile: unmanaged, encoding: .utf8) == unmanagedText)
        #expect(!FileManager.default.fileExists(atPath: fleet.stateDirectory + "/access.json"), "a restart must not serve the keys again")
        #expect(agent.standardError.components(separatedBy: "the registry deleted this host").count == 2, "said once\n\(fleet.diagnostics)")
        #expect(try fleet.logsIn(key.path) == false)
    }

    @Test(
        "SIGTERM and SIGINT stop the agent within 2 s while it waits out the backoff of a revoked credential, keeping the keys",
        arguments: [SIGTERM, SIGINT])
    func stopDuringRevokedBackoff(_ signal: Int32) async throws {
        let fleet = try Fleet()
        let key = try fleet.keyPair("kept")
        _ = try fleet.importProjectKey("kept", key.line)
        #expect(try fleet.secondsUntil(key.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        _ = try fleet.api.call("POST", "/v1/hosts/\(fleet.host)/enroll-token", ["revoke_credential": true])
        let agent = try #require(fleet.agent)
        // Until the agent waits at least 3 s between attempts (it says how long, at debug level).
        let waiting = try await HostAgentRun.eventually(.seconds(90)) {
            agent.standardError.components(separatedBy: "retry.seconds=").dropFirst().last.flatMap {
                Double($0.prefix(while: { $0.isNumber || $0 == "." }))
            } ?? 0 >= 3
        }
        #expect(waiting, "\(fleet.diagnostics)")
        #expect(agent.standardError.contains("revoked"))
        let stopped = HostAgentRun.terminate(agent, signal: signal)
        #expect(stopped.seconds != nil, "signal \(signal) did not stop the agent within 2 s\n\(fleet.diagnostics)")
        #expect(stopped.status == 0)
        #expect(try fleet.logsIn(key.path), "fail static: the keys stay")
    }

    @Test("over HTTPS the agent pins the server's certificate; a wrong pin is refused; a revoked credential keeps the keys and the break-glass key")
    func pinnedServerAndRevokedCredential() async throws {
        let work = try TemporaryDirectory()
        let certificate = work.file("cert.pem"), key = work.file("key.pem")
        try ExternalTool.runChecked(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=keyfleet-test", "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        let der = try ExternalTool.runChecked("openssl", ["x509", "-in", certificate, "-outform", "DER"]).stdout
        let expectedPin = "sha256:" + (try ExternalTool.run("sha256sum", [], input: der)).text.prefix(64)
        let server = try RegistryServerProcess(
            dataDirectory: work.file("registry"), arguments: ["--tls-cert", certificate, "--tls-key", key],
            adminToken: "kft_" + String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! }))
        defer { server.stop() }
        let url = server.url
        let token = server.token
        #expect(url.hasPrefix("https://"))
        let api = RegistryHTTP(url: url, token: token, caFile: certificate)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "tls"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "tls-1", "project": project, "logins": [LoopbackSSHD.userName]])
        let hostID = try api.id(created["host"])
        let enrollment = try #require(created["enrollment"] as? [String: Any])
        #expect(enrollment["ca_cert_hash"] as? String == expectedPin, "the server pins the certificate openssl hashes")
        let enrollToken = try #require(enrollment["token"] as? String)

        let state = work.file("state")
        let wrongPin = "sha256:" + String(repeating: "0", count: 64)
        let refused = try KeyfleetBinary.run([
            "host-agent", "enroll", "--server", url, "--token", enrollToken, "--ca-cert-hash", wrongPin, "--state-dir", state,
        ])
        #expect(refused.status == 1 && refused.stderr.contains("pinned"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/credential"))
        let enrolled = try KeyfleetBinary.run([
            "host-agent", "enroll", "--server", url, "--token", enrollToken, "--ca-cert-hash", expectedPin, "--state-dir", state,
        ])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")

        let keys = work.file("keys")
        let breakGlass = try work.write("break-glass", "")
        let sshd = try LoopbackSSHD { _ in "AuthorizedKeysFile \(keys)/%u \(breakGlass)" }
        let agent = try BackgroundProcess(
            // A short long-poll: a revoked credential is noticed at the next poll.
            KeyfleetBinary.path, ["host-agent", "run", "--state-dir", state, "--keys-dir", keys, "--wait", "2", "--log-level", "debug"])
        defer { agent.stop() }
        let granted = work.file("granted")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", granted])
        _ = try api.call(
            "POST", "/v1/ssh-keys",
            ["name": "granted", "public_key": try String(contentsOfFile: granted + ".pub", encoding: .utf8), "project": project])
        #expect(try sshd.secondsUntil(granted, logsIn: true) != nil, "\(agent.standardError.suffix(2000))")

        // The credential is revoked: the agent says so and changes nothing; the break-glass key works.
        let glass = work.file("glass")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", glass])
        try String(contentsOfFile: glass + ".pub", encoding: .utf8).write(toFile: breakGlass, atomically: true, encoding: .utf8)
        _ = try api.call("POST", "/v1/hosts/\(hostID)/enroll-token", ["revoke_credential": true])
        var said = false
        for _ in 0..<150 where !said {
            said = agent.standardError.contains("revoked")
            if !said { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(said, "\(agent.standardError.suffix(2000))")
        #expect(try sshd.ssh(identity: granted, command: "true").status == 0, "fail static: the keys stay")
        #expect(try sshd.ssh(identity: glass, command: "true").status == 0, "the break-glass key works")
    }

    @Test("install and uninstall round-trip the sshd configuration, checked by sshd -t, with sshd reloaded and serving throughout")
    func installRoundTrip() throws {
        let work = try TemporaryDirectory()
        let keys = work.file("keys")
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let pair = work.file("id")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", pair])
        let line = try String(contentsOfFile: pair + ".pub", encoding: .utf8)
        try line.write(toFile: keys + "/" + LoopbackSSHD.userName, atomically: true, encoding: .utf8)
        let sshd = try LoopbackSSHD(authorizedKeys: "")
        #expect(try sshd.ssh(identity: pair, command: "true").status != 0)

        let install = try KeyfleetBinary.run([
            "host-agent", "install", "--mode", "files", "--keys-dir", keys, "--sshd-config", sshd.configPath, "--sshd-pid-file", sshd.pidFile,
        ])
        #expect(install.status == 0, "\(install.stderr)")
        let dropIn = sshd.directory.file("sshd_config.d/50-keyfleet.conf")
        #expect(FileManager.default.fileExists(atPath: dropIn))
        #expect(try ExternalTool.run("sshd", ["-t", "-f", sshd.configPath]).status == 0)
        #expect(try sshd.secondsUntil(pair, logsIn: true) != nil, "after install, sshd reads the keys directory")

        let uninstall = try KeyfleetBinary.run(["host-agent", "uninstall", "--sshd-config", sshd.configPath, "--sshd-pid-file", sshd.pidFile])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dropIn))
        #expect(try sshd.secondsUntil(pair, logsIn: false) != nil, "after uninstall, the keys directory is no longer read")
        #expect(try ExternalTool.run("sshd", ["-t", "-f", sshd.configPath]).status == 0)

        // A keys directory sshd could not use is refused before anything changes.
        let bad = try KeyfleetBinary.run([
            "host-agent", "install", "--keys-dir", "relative/dir", "--sshd-config", sshd.configPath, "--no-reload",
        ])
        #expect(bad.status == 1)
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dropIn))
    }
}

/// The registry's HTTP API through curl, as a script would drive it.
struct RegistryHTTP: Sendable {
    let url: String
    let token: String
    /// The certificate to trust for an https server.
    var caFile: String? = nil

    /// Sends `method path` with a JSON body; returns the decoded object, failing on a non-2xx status.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]?) throws -> [String: Any] {
        var arguments = ["-sS", "-X", method, "-H", "Authorization: Bearer \(token)", "-w", "\n%{http_code}"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: data, as: UTF8.self)]
        }
        let result = try ExternalTool.run("curl", arguments + [url + path])
        let text = result.text
        guard let split = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: split)...]) else {
            throw FleetError("curl \(method) \(path) failed: \(result.stderr)")
        }
        let payload = String(text[..<split])
        guard (200..<300).contains(status) else { throw FleetError("\(method) \(path) answered \(status): \(payload)") }
        if payload.isEmpty { return [:] }
        return (try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]) ?? [:]
    }

    /// The `id` of an object in an answer.
    func id(_ object: Any?) throws -> String {
        guard let object = object as? [String: Any], let id = object["id"] as? String else {
            throw FleetError("no id in \(String(describing: object))")
        }
        return id
    }
}

extension KeyfleetBinary {
    /// The built `keyfleet-authorized-keys`, beside `keyfleet`.
    static var lookupPath: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("keyfleet-authorized-keys").path
    }
}

/// A step of a fleet test that could not be done.
struct FleetError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A copy of an executable in a directory sshd accepts for AuthorizedKeysCommand (every directory on the
/// path root's and not writable by others): `/run/keyfleet-tests/<random>/`. Removed when released.
final class SafeExecutable: Sendable {
    let path: String
    private let directory: String

    init(copying source: String) throws {
        directory = "/run/keyfleet-tests/\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        chmod("/run/keyfleet-tests", 0o755)
        path = directory + "/" + URL(fileURLWithPath: source).lastPathComponent
        try FileManager.default.copyItem(atPath: source, toPath: path)
        guard chmod(path, 0o755) == 0 else { throw FleetError("cannot make \(path) executable") }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
