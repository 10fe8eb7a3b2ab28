import Foundation

/// A real sshd on a loopback port with its own configuration, host key and authorized_keys file, for
/// checking that sshd reads our lines as we do and for suites that drive sshd end to end. Stopped when released.
///
/// sshd runs as a ``BackgroundProcess`` under `timeout 600` (see there for why not Foundation's `Process`).
///
/// The server's directory holds `host_key`, `sshd_config`, `authorized_keys` (read for every user) and `sshd.log`.
public final class LoopbackSSHD: Sendable {
    /// The server's own directory, removed with the server.
    public let directory: TemporaryDirectory
    /// The port sshd listens on, on 127.0.0.1.
    public let port: Int
    /// The host key line (`ssh-ed25519 ...`).
    public let hostKeyLine: String
    /// The main configuration file.
    public var configPath: String { directory.file("sshd_config") }
    /// The pid file sshd writes (SIGHUP that pid to reload).
    public var pidFile: String { directory.file("sshd.pid") }
    private let process: BackgroundProcess

    /// sshd could not be started; the description ends with the tail of its log.
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `sshd -D` on 127.0.0.1 and a free port, reading `authorizedKeys` for every user.
    ///
    /// Fails with install advice when sshd, ssh-keygen or timeout is missing, and with ``StartFailure`` when
    /// sshd does not report listening within 5 s on any of 20 random ports.
    public convenience init(authorizedKeys: String) throws {
        try self.init { directory in
            let path = try directory.write("authorized_keys", authorizedKeys)
            return "AuthorizedKeysFile \(path)\n"
        }
    }

    /// Starts `sshd -D` with the lines `keysConfiguration` returns (given the server's directory) saying
    /// where keys come from (`AuthorizedKeysFile`, `AuthorizedKeysCommand`...).
    ///
    /// The main configuration (`sshd_config` in the directory) starts with
    /// `Include <directory>/sshd_config.d/*.conf`, as Debian's does, so drop-ins there take precedence, and
    /// sshd writes its pid to `sshd.pid` there, so a test can SIGHUP it to reload.
    public init(keysConfiguration: (TemporaryDirectory) throws -> String) throws {
        let directory = try TemporaryDirectory()
        let sshd = try ExternalTool.path(of: "sshd")
        // sshd started as root needs its privilege separation directory (Debian's unit creates it at boot).
        if getuid() == 0, !FileManager.default.fileExists(atPath: "/run/sshd") {
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        let hostKey = directory.file("host_key")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", hostKey])
        hostKeyLine = try directory.read("host_key.pub").trimmingCharacters(in: .newlines)
        try FileManager.default.createDirectory(atPath: directory.file("sshd_config.d"), withIntermediateDirectories: true)
        let keys = try keysConfiguration(directory)
        let config = try directory.write(
            "sshd_config",
            """
            Include \(directory.file("sshd_config.d"))/*.conf
            HostKey \(hostKey)
            \(keys)
            ListenAddress 127.0.0.1
            StrictModes no
            UsePAM no
            UseDNS no
            PidFile \(directory.file("sshd.pid"))
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitUserEnvironment yes
            PermitRootLogin prohibit-password
            LogLevel DEBUG1

            """)
        let log = directory.file("sshd.log")
        for _ in 0..<20 {
            let port = Int.random(in: 20_000...60_999)
            try? FileManager.default.removeItem(atPath: log)
            let process = try BackgroundProcess(sshd, ["-D", "-f", config, "-p", String(port), "-E", log], timeLimit: 600)
            // Up to 5 s for "Server listening on 127.0.0.1 port N".
            for _ in 0..<100 {
                if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("Server listening on 127.0.0.1 port \(port)") {
                    self.directory = directory
                    self.port = port
                    self.process = process
                    return
                }
                if !process.isRunning { break }  // exited: port taken, try another
                usleep(50_000)
            }
            process.stop(grace: .seconds(2))
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw StartFailure(description: "sshd did not start: \(text.suffix(2000))")
    }

    deinit { process.stop(grace: .seconds(2)) }

    /// The user sshd logs in: whoever runs the tests.
    public static var userName: String { ProcessInfo.processInfo.userName }

    /// `ssh` to this server with `identity` (a private key file) as `user` (default ``userName``), running
    /// `command`; the host key is checked against `knownHosts` (a known_hosts file) when given, and not at all
    /// otherwise. ssh exits with 255 when it could not connect or log in.
    public func ssh(identity: String, command: String, knownHosts: String? = nil, user: String? = nil) throws -> ToolResult {
        var options = [
            "-F", "/dev/null", "-p", String(port), "-i", identity, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR",
        ]
        if let knownHosts {
            options += ["-o", "UserKnownHostsFile=\(knownHosts)", "-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null"]
        } else {
            options += ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]
        }
        return try ExternalTool.run("ssh", options + ["\(user ?? Self.userName)@127.0.0.1", command])
    }

    /// Whether `ssh` with `identity` logs in as `user` (the current user by default).
    public func logsIn(_ identity: String, user: String? = nil) throws -> Bool {
        try ssh(identity: identity, command: "true", user: user).status == 0
    }

    /// Seconds from now until the start of the first `ssh` attempt that answers `expected`, trying every 50 ms;
    /// nil after `limit` seconds.
    ///
    /// The attempt's start, not its end: sshd decided on the key during that attempt, after it started, while
    /// its own length is the client's handshake and process start, which a loaded machine stretches to half a
    /// second and more. The attempt before it answered otherwise, so the change took effect between the two.
    public func secondsUntil(_ identity: String, user: String? = nil, logsIn expected: Bool, limit: Double = 5) throws -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < limit {
            let attempt = Date().timeIntervalSince(start)
            if try logsIn(identity, user: user) == expected { return attempt }
            usleep(50_000)
        }
        return nil
    }

    /// sshd's log so far, for failure messages.
    public var log: String { (try? directory.read("sshd.log")) ?? "" }
}
