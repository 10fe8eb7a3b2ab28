public import Foundation

/// A long-running program for a test (a server, an agent, sshd), started with `posix_spawn`, its stdout and
/// stderr in files, stopped with SIGTERM (then SIGKILL) when asked or when released. The one way the suites
/// start such programs.
///
/// Not Foundation's `Process`: on Linux, `Process` learns that a child ended when a socket the child
/// inherited closes, and sshd closes every inherited descriptor at start-up, so `Process` would block its
/// reaper thread in `waitpid` on the still-running sshd and every later `waitUntilExit` would hang.
///
/// With a `timeLimit` the program runs under timeout(1), so it cannot outlive a test run that is killed
/// before it stops it; timeout passes SIGTERM on, and leads its own process group, which SIGKILL reaches.
public final class BackgroundProcess: @unchecked Sendable {
    /// The process id (of timeout(1) when there is a time limit).
    public let pid: pid_t
    private let logs: TemporaryDirectory
    private let lock = NSLock()
    private var exitStatus: Int32?

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc's `posix_spawn_file_actions_addclosefrom_np`, which its Swift module does not import.
    private static let closeFrom: CloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// Starts `path` with `arguments`, in the test's environment changed by `environment` (a nil value
    /// removes the variable), under timeout(1) when `timeLimit` (seconds) is given.
    public init(_ path: String, _ arguments: [String], environment: [String: String?] = [:], timeLimit: Int? = nil) throws {
        logs = try TemporaryDirectory()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logs.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, logs.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else the test process has open reaches a program that may outlive the test: a file another
        // test is writing at this moment (a stub script, say) would stay open for writing in sshd or an agent,
        // and executing it would then fail with ETXTBSY (the shell then takes the next one on PATH).
        guard let closeFrom = Self.closeFrom, closeFrom(&actions, 3) == 0 else {
            throw ToolError(description: "posix_spawn_file_actions_addclosefrom_np is not available (glibc 2.34 or later is needed)")
        }
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
        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var command = [path] + arguments
        if let timeLimit { command = [try ExternalTool.path(of: "timeout"), String(timeLimit)] + command }
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw ToolError(description: "posix_spawn \(command[0]) failed: \(result)") }
        self.pid = pid
    }

    deinit { killHard() }

    /// What the process wrote to stdout so far.
    public var standardOutput: String { (try? String(contentsOfFile: logs.file("stdout"), encoding: .utf8)) ?? "" }
    /// What the process wrote to stderr so far.
    public var standardError: String { (try? String(contentsOfFile: logs.file("stderr"), encoding: .utf8)) ?? "" }

    /// Whether it still runs.
    public var isRunning: Bool {
        lock.withLock {
            if exitStatus != nil { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exitStatus = status
                return false
            }
            return true
        }
    }

    /// Waits up to `seconds` for the process to end by itself; its wait status, or nil when it still runs.
    public func waitForExit(seconds: Double) -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        repeat {
            let finished = lock.withLock { () -> Int32? in
                if let exitStatus { return exitStatus }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status }
                return exitStatus
            }
            if let finished { return finished }
            usleep(10_000)
        } while ContinuousClock.now < deadline
        return nil
    }

    /// Sends `signal` (SIGTERM by default), waits up to `grace`, then SIGKILL; returns the wait status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, grace: Duration = .seconds(10)) -> Int32 {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            kill(pid, signal)
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status
                    return status
                }
                usleep(20_000)
            }
            return Self.killGroup(pid, &exitStatus)
        }
    }

    /// `kill -9` of the process and, under timeout(1), of its process group; returns the wait status.
    @discardableResult
    public func killHard() -> Int32 {
        lock.withLock {
            if let exitStatus { return exitStatus }
            return Self.killGroup(pid, &exitStatus)
        }
    }

    private static func killGroup(_ pid: pid_t, _ exitStatus: inout Int32?) -> Int32 {
        var status: Int32 = 0
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        exitStatus = status
        return status
    }
}

/// The text of `path` once a helper process has written it (atomically, by rename), or nil after `seconds`:
/// how a test learns the port a helper it started is listening on.
public func contentsOnceWritten(_ path: String, seconds: Double = 5) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) { return text }
        usleep(50_000)
    }
    return nil
}
