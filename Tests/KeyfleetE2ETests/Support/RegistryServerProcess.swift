import Foundation
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `keyfleet server` on 127.0.0.1 and a free port, with its own data directory, run as a
/// ``BackgroundProcess`` under `timeout 900`. The URL and the administrator token are read from what it prints.
final class RegistryServerProcess: @unchecked Sendable {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let dataDirectory: String
    let url: String
    /// The administrator token it printed on first start (or the one passed in on a restart).
    let token: String
    private let process: BackgroundProcess

    /// Starts the server on `dataDirectory` with `arguments` added (`--tls-cert ...`). `token` is required
    /// when the directory already holds a registry (the server prints the token only on first start);
    /// `adminToken` is given to the server as KEYFLEET_ADMIN_TOKEN (and is then the token). With
    /// `databaseURL` the registry is that PostgreSQL database, given as KEYFLEET_DATABASE_URL (as a unit
    /// would, keeping the password out of `ps`), and `dataDirectory` is not used.
    init(dataDirectory: String, token: String? = nil, arguments: [String] = [], adminToken: String? = nil, databaseURL: String? = nil) throws {
        let store = databaseURL == nil ? ["--data-dir", dataDirectory] : []
        let process = try BackgroundProcess(
            KeyfleetBinary.path,
            ["server"] + store + ["--listen", "127.0.0.1:0", "--log-level", "warning"] + arguments,
            environment: ["KEYFLEET_ADMIN_TOKEN": adminToken, "KEYFLEET_DATABASE_URL": databaseURL], timeLimit: 900)
        var foundURL: String?
        var foundToken = token ?? adminToken
        for _ in 0..<400 {
            for line in process.standardOutput.split(separator: "\n") {
                if let range = line.range(of: "Administrator API token (shown once; keep it safe): ") {
                    foundToken = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
                if line.hasPrefix("keyfleet server "), let range = line.range(of: " listening on ") {
                    foundURL = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
            if foundURL != nil { break }
            if !process.isRunning {
                throw StartFailure(description: "keyfleet server exited at start: \(process.standardError.suffix(2000))")
            }
            usleep(50_000)
        }
        guard let foundURL, let foundToken else {
            process.killHard()
            throw StartFailure(
                description: "keyfleet server did not say it listens (or gave no token) within 20 s: \(process.standardError.suffix(2000))")
        }
        self.dataDirectory = dataDirectory
        self.url = foundURL
        self.token = foundToken
        self.process = process
    }

    /// What the server wrote on stderr so far (its logs).
    var standardError: String { process.standardError }

    /// SIGTERM (timeout(1) passes it on) and wait for a graceful exit; returns the wait status.
    @discardableResult
    func stop() -> Int32 { process.stop() }

    /// `kill -9` of the server (and timeout(1), which leads its process group).
    func killHard() { process.killHard() }

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
