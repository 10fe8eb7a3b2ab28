import Foundation
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `keyfleet server` on 127.0.0.1 and a free port, with its own data directory, started with
/// `posix_spawn` under `timeout 900` (see LoopbackSSHD for why not Foundation's `Process`). Its stdout and
/// stderr go to files; the URL and the administrator token are read from what it prints.
final class RegistryServerProcess: @unchecked Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let dataDirectory: String
    let url: String
    /// The administrator token it printed on first start (or the one passed in on a restart).
    let token: String
    private let pid: pid_t
    private let logDirectory: TemporaryDirectory
    private var stopped = false

    /// Starts the server on `dataDirectory`; `token` is required when the directory already holds a
    /// registry (the server prints the token only on first start).
    init(dataDirectory: String, token: String? = nil) throws {
        let logs = try TemporaryDirectory()
        let out = logs.file("stdout"), err = logs.file("stderr")
        let keyfleet = KeyfleetBinary.path
        let pid = try Self.spawn(
            try ExternalTool.path(of: "timeout"),
            ["900", keyfleet, "server", "--data-dir", dataDirectory, "--listen", "127.0.0.1:0", "--log-level", "warning"],
            stdout: out, stderr: err)
        var foundURL: String?
        var foundToken = token
        for _ in 0..<400 {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if let range = line.range(of: "Administrator API token (shown once; keep it safe): ") {
                    foundToken = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
                if line.hasPrefix("keyfleet server "), let range = line.range(of: " listening on ") {
                    foundURL = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
            if foundURL != nil { break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let error = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
                throw StartFailure(description: "keyfleet server exited at start (status \(status)): \(error.suffix(2000))")
            }
            usleep(50_000)
        }
        guard let foundURL, let foundToken else {
            Self.kill(pid, signal: SIGKILL)
            let error = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            throw StartFailure(description: "keyfleet server did not say it listens (or gave no token) within 20 s: \(error.suffix(2000))")
        }
        self.dataDirectory = dataDirectory
        self.url = foundURL
        self.token = foundToken
        self.pid = pid
        self.logDirectory = logs
    }

    deinit { if !stopped { Self.kill(pid, signal: SIGKILL) } }

    /// What the server wrote on stderr so far (its logs).
    var standardError: String { (try? String(contentsOfFile: logDirectory.file("stderr"), encoding: .utf8)) ?? "" }

    /// SIGTERM (timeout(1) passes it on) and wait for a graceful exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        stopped = true
        var status: Int32 = 0
        Foundation.kill(pid, SIGTERM)
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) == pid { return status }
            usleep(50_000)
        }
        Self.kill(pid, signal: SIGKILL)
        return -1
    }

    /// `kill -9` of the server (and timeout(1), which leads its process group).
    func killHard() {
        stopped = true
        Self.kill(pid, signal: SIGKILL)
    }

    private static func kill(_ pid: pid_t, signal: Int32) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return }
        Foundation.kill(-pid, signal)
        Foundation.kill(pid, signal)
        waitpid(pid, &status, 0)
    }

    private static func spawn(_ path: String, _ arguments: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var environment = ProcessInfo.processInfo.environment
        environment["KEYFLEET_ADMIN_TOKEN"] = nil
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw StartFailure(description: "posix_spawn \(path) failed: \(result)") }
        return pid
    }

    // MARK: - Talking to it

    /// Runs the client: `keyfleet arguments...` with KEYFLEET_SERVER/KEYFLEET_TOKEN set to this server and a
    /// private XDG_CONFIG_HOME (so no saved login of the person running the tests is read or written).
    func client(_ arguments: [String], input: [UInt8]? = nil, token: String? = nil, config: String? = nil) throws -> ToolResult {
        let home = config ?? NSTemporaryDirectory() + "keyfleet-test-noconfig"
        return try KeyfleetBinary.run(
            arguments, input: input,
            environment: ["KEYFLEET_SERVER": url, "KEYFLEET_TOKEN": token ?? self.token, "XDG_CONFIG_HOME": home])
    }

    /// Runs the client and parses its JSON output (`-o json` must be among the arguments).
    func clientJSON(_ arguments: [String]) throws -> Any {
        let result = try client(arguments)
        guard result.status == 0 else {
            throw StartFailure(description: "keyfleet \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return try JSONSerialization.jsonObject(with: Data(result.stdout))
    }

    /// A raw API request, independent of the client under test: status and parsed JSON body.
    func api(_ method: String, _ path: String, json: Any? = nil, token: String? = nil) async throws -> (status: Int, body: Any?) {
        guard let target = URL(string: url + path) else { throw StartFailure(description: "bad path \(path)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.timeoutInterval = 60
        request.setValue("Bearer \(token ?? self.token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = data.isEmpty ? nil : try? JSONSerialization.jsonObject(with: data)
        return (status, body)
    }

    /// Every key the administrator sees, read page by page straight from the API.
    func storedKeys() async throws -> [[String: Any]] {
        var keys: [[String: Any]] = []
        var cursor: String?
        repeat {
            let path = "/v1/ssh-keys?limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")
            let (status, body) = try await api("GET", path)
            guard status == 200, let page = body as? [String: Any], let items = page["items"] as? [[String: Any]] else {
                throw StartFailure(description: "GET \(path) answered \(status): \(String(describing: body))")
            }
            keys += items
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        return keys
    }
}

/// Keys made by the real ssh-keygen and puttygen at test time.
enum RealKeys {
    /// `ssh-keygen -t type [-b bits]` into `directory/name` without passphrase; returns the private key path.
    static func make(_ type: String, bits: Int? = nil, in directory: TemporaryDirectory, name: String, comment: String = "e2e") throws -> String {
        let path = directory.file(name)
        var arguments = ["-q", "-t", type, "-N", "", "-C", comment, "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        try ExternalTool.runChecked("ssh-keygen", arguments)
        return path
    }

    /// `type base64` of an OpenSSH public key line (the comment dropped).
    static func material(_ line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline }).prefix(2).joined(separator: " ")
    }

    /// The SHA256 fingerprint as `ssh-keygen -l` prints it.
    static func fingerprint(_ publicKeyFile: String) throws -> String {
        let text = try ExternalTool.runChecked("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile]).text
        return text.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }
}
