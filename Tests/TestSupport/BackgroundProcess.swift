public import Foundation

/// A long-running program started with `posix_spawn` (see ``LoopbackSSHD`` for why not `Process`), its
/// stdout and stderr in files, stopped with SIGTERM (then SIGKILL) when asked or when released.
public final class BackgroundProcess: @unchecked Sendable {
    /// The process id.
    public let pid: pid_t
    private let logs: TemporaryDirectory
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `path` with `arguments`, the test's environment plus `environment`.
    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        logs = try TemporaryDirectory()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logs.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, logs.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
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
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw ToolError(description: "posix_spawn \(path) failed: \(result)") }
        self.pid = pid
    }

    deinit { _ = stop(signal: SIGKILL) }

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

    /// Sends `signal` (SIGTERM by default), waits up to 5 s, then SIGKILL; returns the wait status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            kill(pid, signal)
            for _ in 0..<100 {
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status
                    return status
                }
                usleep(50_000)
            }
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            exitStatus = status
            return status
        }
    }
}
