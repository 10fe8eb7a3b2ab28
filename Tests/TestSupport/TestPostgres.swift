import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server for the suites, started on first use and stopped when the test process exits.
///
/// It is Debian's `postgresql` package run by hand, no system service: `initdb` in a temporary directory as
/// the `postgres` user (PostgreSQL refuses to run as root), password authentication (SCRAM) for a user
/// `keyfleet`, listening on 127.0.0.1 at a free port. `KEYFLEET_TEST_POSTGRES_URL`, when set, names an
/// administrator URL of a server to use instead. Each test takes its own database from ``newDatabase()``.
public final class TestPostgres: Sendable {
    /// The administrator's URL (`postgres://keyfleet:PASSWORD@127.0.0.1:PORT/postgres`).
    public let adminURL: String
    /// The data directory, when this process started the server.
    public let dataDirectory: String?
    public let host: String
    public let port: Int
    public let user: String
    public let password: String

    /// Which store the store and in-process API suites run on: `KEYFLEET_TEST_STORE=postgresql` for
    /// PostgreSQL, SQLite otherwise. The test command runs those suites once each way.
    public static var storeIsPostgreSQL: Bool { ProcessInfo.processInfo.environment["KEYFLEET_TEST_STORE"] == "postgresql" }

    /// The server, started on first use.
    public static func shared() throws -> TestPostgres {
        try lock.withLock {
            if let started { return started }
            let server: TestPostgres
            if let url = ProcessInfo.processInfo.environment["KEYFLEET_TEST_POSTGRES_URL"], !url.isEmpty {
                server = try TestPostgres(existing: url)
            } else {
                server = try TestPostgres(starting: ())
            }
            started = server
            return server
        }
    }

    /// A server of its own, for a test that stops and starts it; stopped when the test process exits.
    public static func startPrivate() throws -> TestPostgres {
        try TestPostgres(starting: ())
    }

    private nonisolated(unsafe) static var started: TestPostgres?
    private static let lock = NSLock()
    /// How to stop every server this process started, run when it exits.
    private nonisolated(unsafe) static var stopCommands: [[String]] = []
    private static let stopCommandsLock = NSLock()
    private let stopCommand: [String]?
    private let startCommand: [String]?

    private init(existing url: String) throws {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw ToolError(description: "KEYFLEET_TEST_POSTGRES_URL is not a postgres:// URL with a user and host")
        }
        adminURL = url
        dataDirectory = nil
        self.host = host
        port = components.port ?? 5432
        self.user = user
        password = components.password ?? ""
        stopCommand = nil
        startCommand = nil
    }

    private init(starting: Void) throws {
        let binaries = try Self.binaryDirectory()
        let base = FileManager.default.temporaryDirectory.path + "/keyfleet-postgres-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = base + "/data", passwordFile = base + "/password", log = base + "/log"
        password = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        try Data(password.utf8).write(to: URL(fileURLWithPath: passwordFile))
        let asPostgres = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        if getuid() == 0 {
            try Self.run(["/bin/chown", "-R", "postgres:postgres", base])
        }
        host = "127.0.0.1"
        user = "keyfleet"
        port = try Self.freePort()
        try Self.run(
            asPostgres + [
                binaries + "/initdb", "-D", data, "-U", user, "--pwfile", passwordFile, "--auth", "scram-sha-256", "--encoding", "UTF8",
                "--no-sync",
            ])
        // Fast and disposable: nothing here must survive a crash of the machine (fsync=off). A commit is still
        // written to the system before it is acknowledged (synchronous_commit stays on), so a test that stops
        // the server as a crash would (`stop()`) loses nothing that was committed, as a real server would not.
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(base) -c fsync=off -c max_connections=300"
        let stop = asPostgres + [binaries + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
        stopCommand = stop
        Self.stopCommandsLock.withLock {
            if Self.stopCommands.isEmpty {
                atexit {
                    for command in TestPostgres.stopCommands { _ = try? TestPostgres.run(command) }
                }
            }
            Self.stopCommands.append(stop)
        }
        let start = asPostgres + [binaries + "/pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"]
        startCommand = start
        try Self.run(start)
        dataDirectory = data
        adminURL = "postgres://\(user):\(password)@\(host):\(port)/postgres"
    }

    /// A new, empty database owned by the administrator; returns its URL.
    public func newDatabase() throws -> String {
        let name = "kf_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try sql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The URL of `database` for `user` (the administrator by default) with `password`.
    public func url(database: String, user: String? = nil, password: String? = nil) -> String {
        "postgres://\(user ?? self.user):\(password ?? self.password)@\(host):\(port)/\(database)?sslmode=disable"
    }

    /// Runs `statement` as the administrator with psql on `database`.
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") throws -> String {
        let result = try ExternalTool.run(
            "psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", statement, url(database: database)])
        guard result.status == 0 else { throw ToolError(description: "psql \(statement): \(result.stderr)") }
        return result.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server (immediately, as a crash would) or starts it again, for tests of a database that goes
    /// away; only for a server this process started.
    public func stop() throws {
        guard let command = stopCommand else { throw ToolError(description: "this server was not started by the tests") }
        try Self.run(command)
    }

    public func start() throws {
        guard let command = startCommand else { throw ToolError(description: "this server was not started by the tests") }
        try Self.run(command)
    }

    /// Runs `command` to its end (within two minutes). Started with `posix_spawn`, not `Process`: `pg_ctl`
    /// leaves the server running, and `Process` would wait for the descriptors the server inherited.
    private static func run(_ command: [String]) throws {
        guard let executable = command.first else { return }
        let process = try BackgroundProcess(executable, Array(command.dropFirst()))
        guard let status = process.waitForExit(seconds: 120) else {
            throw ToolError(description: "\(command.joined(separator: " ")) did not finish within 2 minutes")
        }
        guard status == 0 else {
            throw ToolError(description: "\(command.joined(separator: " ")) exited with wait status \(status): \(process.standardError)")
        }
    }

    /// Where Debian keeps the newest installed PostgreSQL's programs.
    private static func binaryDirectory() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/initdb") else {
            throw ToolError(description: "PostgreSQL is not installed; run scripts/install-test-deps.sh (the full suite needs it)")
        }
        return "\(root)/\(newest)/bin"
    }

    /// A TCP port nothing listens on now.
    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ToolError(description: "socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw ToolError(description: "bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw ToolError(description: "getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
