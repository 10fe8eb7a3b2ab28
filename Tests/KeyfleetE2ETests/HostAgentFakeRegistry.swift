import Foundation
import Testing
import TestSupport

/// A stand-in for the registry's two agent routes, for answers the real server never gives (an endless
/// body, a `Content-Length` of a terabyte) or gives only in one state: a small python3 http.server that
/// answers the first sync (`version=0`) with one login and one key, and every later sync as `behavior`
/// says. Reports are answered 204. Stopped when released.
///
/// Behaviors: `endless-chunked` (200, a chunked body that never ends), `endless-length` (200 with
/// `Content-Length: 2^40`, then endless bytes), `host-deleted` (410 with the problem document),
/// `gone-plain` (410 as text/plain), `unauthorized` (401 problem document), `unchanged` (304 after a
/// second), and `silent`: no HTTP at all, a socket that accepts connections and never says a word.
///
/// The server writes `<bytes sent in the current answer> <bytes sent in all>` to `progress` as it streams,
/// and the body of the last report to `report.json`.
final class HostAgentFakeRegistry: @unchecked Sendable {
    let work: TemporaryDirectory
    let url: String
    /// The state directory of an agent enrolled with it (server.json and credential, as enroll writes them).
    let stateDirectory: String
    let login = LoopbackSSHD.userName
    /// The private key whose public line the first answer grants.
    let identity: String
    private let process: BackgroundProcess

    static let script = #"""
        import http.server, itertools, json, socket, sys, os, time
        from urllib.parse import urlparse, parse_qs

        behavior, key_path, login, port_path, progress_path = sys.argv[1:6]
        report_path = os.path.join(os.path.dirname(progress_path), "report.json")
        key_line = open(key_path).read().strip()
        total = 0
        deleted = False

        def progress(current):
            tmp = progress_path + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d %d\n" % (current, total))
            os.replace(tmp, progress_path)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def answer(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with open(report_path + ".tmp", "wb") as f:
                    f.write(body)
                os.replace(report_path + ".tmp", report_path)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                global total, deleted
                query = parse_qs(urlparse(self.path).query)
                if query.get("version", ["0"])[0] == "0" and not deleted:
                    body = json.dumps({"version": 1, "host": "h-fake", "logins": {login: [key_line]}}).encode()
                    return self.answer(200, "application/json", body)
                if behavior in ("host-deleted", "unauthorized"):
                    deleted = behavior == "host-deleted"
                    status = 410 if behavior == "host-deleted" else 401
                    problem = {"type": "urn:keyfleet:problem:" + behavior, "title": behavior, "status": status, "code": behavior}
                    return self.answer(status, "application/problem+json", json.dumps(problem).encode())
                if behavior == "gone-plain":
                    return self.answer(410, "text/plain", b"gone\n")
                if behavior == "unchanged":
                    time.sleep(1)
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                chunked = behavior == "endless-chunked"
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(1 << 40))
                self.end_headers()
                head = ('{"version": 2, "host": "h-fake", "logins": {"%s": ["' % login).encode()
                block = b"A" * (1 << 20)
                current = 0
                try:
                    for data in itertools.chain([head], itertools.repeat(block)):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                        current += len(data)
                        total += len(data)
                        if current % (16 << 20) < len(data):
                            progress(current)
                except OSError:
                    progress(0)

        def announce(port):
            with open(port_path + ".tmp", "w") as f:
                f.write(str(port))
            os.replace(port_path + ".tmp", port_path)

        if behavior == "silent":
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            announce(listener.getsockname()[1])
            held = []
            while True:
                held.append(listener.accept()[0])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        announce(server.server_address[1])
        server.serve_forever()
        """#

    init(behavior: String) throws {
        work = try TemporaryDirectory()
        chmod(work.path, 0o755)  // sshd's lookup user walks through it in command mode
        identity = work.file("granted")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "granted", "-f", identity])
        // The line as the server renders it: type, key, a keyfleet comment.
        let material = try String(contentsOfFile: identity + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let keyLine = try work.write("key-line", material + " keyfleet:granted\n")
        let script = try work.write("fake-registry.py", Self.script)
        let portFile = work.file("port")
        process = try BackgroundProcess(
            try ExternalTool.path(of: "python3"), [script, behavior, keyLine, login, portFile, work.file("progress")], timeLimit: 900)
        var port: String?
        for _ in 0..<200 where port == nil {
            port = try? String(contentsOfFile: portFile, encoding: .utf8)
            if port == nil { usleep(50_000) }
        }
        guard let port else { throw FleetError("the fake registry did not start: \(process.standardError.suffix(2000))") }
        url = "http://127.0.0.1:\(port)"

        // Enrolled as `keyfleet host-agent enroll` leaves a host: server.json and the credential, root's, 0600.
        stateDirectory = work.file("lib/keyfleet")
        try FileManager.default.createDirectory(atPath: work.file("lib"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let server = try JSONSerialization.data(withJSONObject: ["url": url, "host": "h-fake"])
        _ = try work.write("lib/keyfleet/server.json", String(decoding: server, as: UTF8.self))
        _ = try work.write("lib/keyfleet/credential", "kfh_" + String(repeating: "c", count: 43) + "\n")
    }

    deinit { process.stop(grace: .seconds(2)) }

    /// Bytes sent in the answer now streaming (0 between answers), and in all answers.
    var progress: (current: Int, total: Int) {
        let text = (try? String(contentsOfFile: work.file("progress"), encoding: .utf8)) ?? ""
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : (0, 0)
    }

    /// The host keys of the last report.
    var reportedHostKeys: [String] {
        guard let data = FileManager.default.contents(atPath: work.file("report.json")),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [] }
        return object["host_keys"] as? [String] ?? []
    }

    /// `keyfleet host-agent run` against this server, under umask 077, logging at debug level.
    func startAgent(mode: String, keysDirectory: String, hostKeysDirectory: String? = nil) throws -> BackgroundProcess {
        try HostAgentRun.start([
            "--state-dir", stateDirectory, "--keys-dir", keysDirectory, "--mode", mode, "--wait", "1", "--host-keys-dir",
            hostKeysDirectory ?? work.path,
        ])
    }

    /// An agent in files mode that has written the first answer: the agent, the login's file and what it holds.
    func startAgentWithKeys() async throws -> (agent: BackgroundProcess, file: String, written: Data?) {
        let keys = work.file("keys")
        let agent = try startAgent(mode: "files", keysDirectory: keys)
        let file = keys + "/" + login
        let appeared = try await HostAgentRun.eventually(.seconds(20)) { FileManager.default.fileExists(atPath: file) }
        if !appeared { agent.stop() }
        try #require(appeared, "agent stderr:\n\(agent.standardError.suffix(3000))")
        return (agent, file, FileManager.default.contents(atPath: file))
    }
}

/// Starting `keyfleet host-agent run` the one way the agent suites do, and reading what it left.
enum HostAgentRun {
    /// `keyfleet host-agent run arguments... --log-level debug` under umask 077, which must not change the
    /// modes of what the agent makes (a lookup cache made 0700 would refuse every login to sshd's lookup user).
    static func start(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(
            "/bin/sh", ["-c", "umask 077; exec \"$0\" \"$@\"", KeyfleetBinary.path, "host-agent", "run"] + arguments + ["--log-level", "debug"])
    }

    /// SIGTERM, and how long the process took to end (nil when it did not within `limit`, then killed), with
    /// its exit status (nil when a signal ended it).
    static func terminate(_ process: BackgroundProcess, signal: Int32 = SIGTERM, limit: Duration = .seconds(2)) -> (seconds: Double?, status: Int32?)
    {
        let start = ContinuousClock.now
        let wait = process.stop(signal: signal, grace: limit + .milliseconds(50))
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (elapsed <= limit ? seconds : nil, exitStatus(wait))
    }

    /// The exit status in a wait status, nil when a signal ended the process.
    static func exitStatus(_ wait: Int32) -> Int32? {
        wait & 0x7F == 0 ? (wait >> 8) & 0xFF : nil
    }

    /// Waits up to `limit` for the process to end by itself; its exit status, nil while it runs or when a
    /// signal ended it.
    static func waitForExit(_ process: BackgroundProcess, limit: Duration) async throws -> (ended: Bool, status: Int32?) {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if !process.isRunning { return (true, exitStatus(process.stop())) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (false, nil)
    }

    /// The peak resident memory of `pid` in MiB (VmHWM), nil once it ended.
    static func peakResidentMiB(_ pid: pid_t) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        return nil
    }

    /// Waits up to `limit` for `condition`, checking every 50 ms.
    static func eventually(_ limit: Duration, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }
}

@Suite("Host agent against answers the real registry never gives", .serialized)
struct HostAgentFakeRegistryTests {
    @Test(
        "an endless sync answer is cut at the limit while it streams: the files stay, memory stays bounded, SIGTERM stops the agent within 2 s",
        arguments: ["endless-chunked", "endless-length"])
    func endlessAnswer(_ behavior: String) async throws {
        let fake = try HostAgentFakeRegistry(behavior: behavior)
        let (agent, file, first) = try await fake.startAgentWithKeys()
        defer { agent.stop() }
        let diagnostics = { "agent stderr:\n\(agent.standardError.suffix(3000))" }
        let written = try #require(first)

        // Let the server push 1.5 GiB (several answers, each cut at the limit), or the length refused at once.
        var peak = 0.0
        let streamed = try await HostAgentRun.eventually(.seconds(90)) {
            peak = max(peak, HostAgentRun.peakResidentMiB(agent.pid) ?? peak)
            return behavior == "endless-length" ? agent.standardError.contains("larger than") : fake.progress.total > 1536 << 20
        }
        #expect(streamed, "\(fake.progress.total) bytes sent\n\(diagnostics())")
        #expect(agent.isRunning, "\(diagnostics())")
        #expect(FileManager.default.contents(atPath: file) == written, "fail static: the keys stay as they were")
        #expect(peak < 1024, "peak resident memory \(peak) MiB")
        #expect(agent.standardError.contains("larger than"), "\(diagnostics())")

        // SIGTERM while an answer streams (the chunked server is mid-answer most of the time).
        if behavior == "endless-chunked" {
            _ = try await HostAgentRun.eventually(.seconds(30)) { fake.progress.current > 32 << 20 }
        }
        let stopped = HostAgentRun.terminate(agent)
        #expect(stopped.seconds != nil, "SIGTERM did not stop the agent within 2 s\n\(diagnostics())")
        #expect(stopped.status == 0)
        #expect(FileManager.default.contents(atPath: file) == written)
    }

    @Test(
        "a 410 host-deleted problem removes every key the agent manages, keeps other files, forgets the last answer and exits 0",
        arguments: ["files", "command"])
    func hostDeleted(_ mode: String) async throws {
        let fake = try HostAgentFakeRegistry(behavior: "host-deleted")
        let keys = fake.work.file(mode == "files" ? "keys" : "lib/keyfleet-authorized")
        // An administrator's file in the keys directory, named like a login: not the agent's to remove.
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let unmanaged = try fake.work.write(
            (mode == "files" ? "keys" : "lib/keyfleet-authorized") + "/breakglass", "# the administrator's\n", mode: 0o644)
        let agent = try fake.startAgent(mode: mode, keysDirectory: keys)
        defer { agent.stop() }
        let diagnostics = { "agent stderr:\n\(agent.standardError.suffix(3000))" }
        let ended = try await HostAgentRun.waitForExit(agent, limit: .seconds(30))
        #expect(ended.ended && ended.status == 0, "\(diagnostics())")
        // It wrote the first answer, then removed it.
        #expect(agent.standardError.contains("applied the host's keys"), "\(diagnostics())")
        #expect(!FileManager.default.fileExists(atPath: keys + "/" + fake.login))
        #expect(try String(contentsOfFile: unmanaged, encoding: .utf8) == "# the administrator's\n")
        #expect(!FileManager.default.fileExists(atPath: fake.stateDirectory + "/access.json"), "a restart must not serve the keys again")
        #expect(FileManager.default.fileExists(atPath: fake.stateDirectory + "/credential"))
        #expect(agent.standardError.components(separatedBy: "the registry deleted this host").count == 2, "said once\n\(diagnostics())")
        #expect(agent.standardError.contains("removed every key the agent manages"))

        // Started again (systemd would not, after status 0): nothing to serve, told again, exits 0 again.
        let again = try fake.startAgent(mode: mode, keysDirectory: keys)
        defer { again.stop() }
        let second = try await HostAgentRun.waitForExit(again, limit: .seconds(30))
        #expect(second.ended && second.status == 0, "\(again.standardError.suffix(3000))")
        #expect(!again.standardError.contains("serving the last keys received"))
        #expect(!FileManager.default.fileExists(atPath: keys + "/" + fake.login))
        #expect(FileManager.default.fileExists(atPath: unmanaged))
    }

    @Test(
        "a 401, or a 410 that is not the host-deleted problem document, keeps the keys and the agent running",
        arguments: ["unauthorized", "gone-plain"])
    func otherRefusalsFailStatic(_ behavior: String) async throws {
        let fake = try HostAgentFakeRegistry(behavior: behavior)
        let (agent, file, written) = try await fake.startAgentWithKeys()
        defer { agent.stop() }
        let diagnostics = { "agent stderr:\n\(agent.standardError.suffix(3000))" }
        let refused = behavior == "unauthorized" ? "revoked" : "keeping the current keys; will retry"
        let said = try await HostAgentRun.eventually(.seconds(20)) { agent.standardError.contains(refused) }
        #expect(said, "\(diagnostics())")
        try await Task.sleep(for: .seconds(1))
        #expect(agent.isRunning, "\(diagnostics())")
        #expect(FileManager.default.contents(atPath: file) == written)
        #expect(FileManager.default.fileExists(atPath: fake.stateDirectory + "/access.json"))
        let stopped = HostAgentRun.terminate(agent)
        #expect(stopped.seconds != nil && stopped.status == 0, "\(diagnostics())")
    }

    @Test("a FIFO among the host keys never blocks the agent: the real host key is reported and SIGTERM stops it within 2 s")
    func fifoHostKey() async throws {
        let fake = try HostAgentFakeRegistry(behavior: "unchanged")
        let hostKeys = fake.work.file("etc-ssh")
        try FileManager.default.createDirectory(atPath: hostKeys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", hostKeys + "/ssh_host_ed25519_key"])
        let hostKey = try String(contentsOfFile: hostKeys + "/ssh_host_ed25519_key.pub", encoding: .utf8).trimmingCharacters(in: .newlines)
        // Sorted before the real key: a reader that opens it blocks until a writer comes, which never does.
        #expect(mkfifo(hostKeys + "/ssh_host_aaa_key.pub", 0o644) == 0)
        let agent = try fake.startAgent(mode: "files", keysDirectory: fake.work.file("keys"), hostKeysDirectory: hostKeys)
        defer { agent.stop() }
        let diagnostics = { "agent stderr:\n\(agent.standardError.suffix(3000))" }
        let reported = try await HostAgentRun.eventually(.seconds(20)) {
            fake.reportedHostKeys.map(RealKeys.material) == [RealKeys.material(hostKey)]
        }
        #expect(reported, "reported \(fake.reportedHostKeys)\n\(diagnostics())")
        let stopped = HostAgentRun.terminate(agent)
        #expect(stopped.seconds != nil && stopped.status == 0, "\(diagnostics())")
    }

    @Test("enrollment against a server that accepts the connection and never answers TLS fails in one line instead of hanging")
    func silentServerAtEnrollment() throws {
        let fake = try HostAgentFakeRegistry(behavior: "silent")
        let url = fake.url.replacingOccurrences(of: "http://", with: "https://")
        let state = fake.work.file("enrolled")
        let result = try ExternalTool.run(
            "timeout",
            [
                "60", KeyfleetBinary.path, "host-agent", "enroll", "--server", url, "--token", String(repeating: "t", count: 43),
                "--ca-cert-hash", "sha256:" + String(repeating: "0", count: 64), "--state-dir", state,
            ])
        #expect(result.status == 1, "status \(result.status) (124: still waiting after 60 s): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state + "/credential"))
    }
}
