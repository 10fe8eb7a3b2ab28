public import ArgumentParser
import KeyfleetVersion
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `keyfleet` command: the key toolkit here; every other command in the executable of its machine's
/// role, which `keyfleet` runs (`execv`) in its place: `keyfleet-client` for the registry's client
/// commands, `keyfleet-server` for `server`, `keyfleet-agent` for `host-agent` (see ``RoleExecutable``).
///
/// The toolkit links none of them: the registry's Hummingbird, SwiftNIO, AsyncHTTPClient and Foundation
/// in the same binary tripled the start-up of every toolkit command (`keygen` went from 3 ms to 9.5 ms),
/// while a network command does not notice one more `execv`.
public struct Keyfleet: ParsableCommand {
    /// The toolkit's commands, which this executable runs itself; `keyfleet-client` lists them too, in the
    /// combined command tree that its help and shell completion describe.
    package static let toolkitCommands: [any ParsableCommand.Type] = [
        KeygenCommand.self, FingerprintCommand.self, PubkeyCommand.self, PasswdCommand.self, CommentCommand.self,
        ConvertCommand.self, InspectCommand.self, DoctorCommand.self,
    ]

    /// What `keyfleet-client` answers for the whole command tree, toolkit and registry: `help`, `completion
    /// SHELL`, and these flags given before any command (`keyfleet --help`). The toolkit alone knows only its
    /// own commands, so it answers help itself only when `keyfleet-client` is missing.
    static let treeWords: Set<String> = ["help", "completion"]
    static let treeFlags: Set<String> = ["-h", "--help", "-help", "--help-hidden", "--experimental-dump-help", "---completion"]

    /// The command's name, summary, exit statuses and subcommands, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "Make, read, convert and check SSH keys in every format people meet; run and use the key registry.",
        discussion: """
            Registry commands (each has --help): login, logout, context, ssh-key, project, host, cluster, audit, \
            user, token (in keyfleet-client); server (in keyfleet-server); host-agent (in keyfleet-agent).

            Exit status: 0 success, 1 bad input or usage, 2 wrong passphrase.
            """,
        version: keyfleetVersion,
        subcommands: toolkitCommands
    )

    /// Makes the command; ArgumentParser calls it when parsing (use ``run(arguments:)`` to run).
    public init() {}

    /// Parses `arguments` (the process's by default), runs the command and returns the exit status.
    /// Every error becomes one line on stderr; nothing traps.
    ///
    /// Synchronous on purpose: an `async` main starts Swift's concurrency runtime and its threads, which
    /// costs a toolkit command about a millisecond; the commands that need it run in other executables.
    public static func run(arguments: [String]? = nil) -> Int32 {
        do {
            let given = arguments ?? Array(CommandLine.arguments.dropFirst())
            if let (executable, command) = RoleExecutable.handling(given) {
                if let path = executable.path() { return executable.exec(path, given) }
                if let command {
                    throw CLIError(
                        "\"keyfleet \(Terminal.safe(command))\" runs in \(executable.rawValue), which is neither beside keyfleet nor on PATH; "
                            + "install the Debian package \(executable.debianPackage)")
                }
            }
            if let first = given.first, !first.hasPrefix("-"), !toolkitCommands.contains(where: { $0._commandName == first }) {
                let known = toolkitCommands.map { $0._commandName } + RoleExecutable.allCases.flatMap(\.commands) + treeWords.sorted()
                throw CLIError.usage(
                    "unknown command \"\(Terminal.safe(first))\"\(Suggestions.phrase(for: first, among: known)) (see keyfleet --help)")
            }
            if given.first == "keygen", let options = KeygenOptions.quickParse(Array(given.dropFirst())) {
                try options.run()
                return 0
            }
            var command = try parseAsRoot(given)
            try command.run()
            return 0
        } catch {
            return report(error)
        }
    }
}

extension ParsableCommand {
    /// Prints `error` as one line on stderr (or the help it asks for on stdout) and returns the exit status:
    /// 0 for help, 1 for bad input or usage, 2 for a wrong passphrase. The one place both `keyfleet` and
    /// `keyfleet-client` turn what a command threw into what a person sees.
    package static func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as CLIError:
            Terminal.printError(error.message)
            return error.exitCode
        case let error as KeyError:
            Terminal.printError(error.description)
            return error.code == .wrongPassphrase ? 2 : 1
        default:
            if exitCode(for: error) == .success {
                Terminal.print(fullMessage(for: error))
                return 0
            }
            if let exit = error as? ExitCode { return exit.rawValue }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            Terminal.printError("\(message) (see keyfleet --help)")
            return 1
        }
    }
}

/// An executable `keyfleet` runs in its place for the commands it does not carry, found beside the
/// running `keyfleet` (its real path), then on `PATH`.
package enum RoleExecutable: String, CaseIterable, Sendable {
    case client = "keyfleet-client"
    case server = "keyfleet-server"
    case agent = "keyfleet-agent"

    /// The first words of the commands it runs.
    package var commands: [String] {
        switch self {
        case .client: ["login", "logout", "context", "ssh-key", "project", "host", "cluster", "audit", "user", "token"]
        case .server: ["server"]
        case .agent: ["host-agent"]
        }
    }

    /// The Debian package that installs it.
    package var debianPackage: String {
        switch self {
        case .client: "keyfleet"
        case .server: "keyfleet-server"
        case .agent: "keyfleet-agent"
        }
    }

    /// The executable that runs `arguments`, and the command it runs them for when only that executable
    /// can (nil when the toolkit answers by itself without it: `keyfleet --help` lists the toolkit's
    /// commands when `keyfleet-client` is missing). Nil when the toolkit runs them.
    static func handling(_ arguments: [String]) -> (RoleExecutable, command: String?)? {
        guard let first = arguments.first else { return (.client, nil) }
        if let role = allCases.first(where: { $0.commands.contains(first) }) { return (role, first) }
        if first == "completion" || first == "--context" || first.hasPrefix("--context=") { return (.client, first) }
        if first == "help" {
            if let topic = arguments.dropFirst().first, let role = allCases.first(where: { $0.commands.contains(topic) }) {
                return (role, "help " + topic)
            }
            return (.client, nil)
        }
        if Keyfleet.treeFlags.contains(first) || first.hasPrefix("--generate-completion-script") { return (.client, nil) }
        return nil
    }

    /// Replaces the process with `path arguments...`; returns (1) only when that fails.
    func exec(_ path: String, _ arguments: [String]) -> Int32 {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        for pointer in argv { free(pointer) }
        Terminal.printError("cannot run \(Terminal.safe(path)): \(reason)")
        return 1
    }

    /// Runs `arguments` in this executable, in this process's place: the hand-over of a command declared
    /// in one executable's tree and run in another's (`keyfleet-client server` runs `keyfleet-server`).
    /// Returns only when it cannot, with the error to show.
    package func execute(_ arguments: [String]) -> CLIError {
        guard let path = path() else {
            return CLIError("\(rawValue) is neither beside this executable nor on PATH; install the Debian package \(debianPackage)")
        }
        _ = exec(path, arguments)
        return CLIError("cannot run \(Terminal.safe(path))")
    }

    /// The executable beside the running one, else the first on `PATH` (absolute entries only: an empty or
    /// relative entry would run whatever the current directory holds).
    package func path() -> String? {
        if let own = Self.runningExecutable(), let slash = own.lastIndex(of: "/") {
            let candidate = String(own[..<slash]) + "/" + rawValue
            if Self.isExecutable(candidate) { return candidate }
        }
        return Self.search(rawValue)
    }

    private static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return access(path, X_OK) == 0 && stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// `name` in the absolute directories of `PATH`.
    private static func search(_ name: String) -> String? {
        guard let path = getenv("PATH").map({ String(cString: $0) }) else { return nil }
        for directory in path.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = directory + "/" + name
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// The real path of the running executable: `/proc/self/exe` on Linux, `_NSGetExecutablePath` on
    /// Darwin; else `argv[0]`, itself or as found on `PATH`.
    static func runningExecutable() -> String? {
        #if os(Linux) || os(Android)
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if count > 0 {
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        #elseif canImport(Darwin)
        var size: UInt32 = 0
        _ = _NSGetExecutablePath(nil, &size)
        var buffer = [CChar](repeating: 0, count: Int(size) + 1)
        if _NSGetExecutablePath(&buffer, &size) == 0, let real = realPath(String(cString: buffer)) {
            return real
        }
        #endif
        guard let first = CommandLine.arguments.first, !first.isEmpty else { return nil }
        return realPath(first.contains("/") ? first : search(first) ?? first)
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
