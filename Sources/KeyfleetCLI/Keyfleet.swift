public import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `keyfleet` command: the key toolkit here, and the registry's server, client and host agent in
/// `keyfleet-client` beside it, which `keyfleet` runs (`execv`) for those commands.
///
/// Two executables behind one command because the registry links Hummingbird, SwiftNIO, AsyncHTTPClient
/// and Foundation: in the same binary they tripled the start-up of every toolkit command (`keygen` went
/// from 3 ms to 9.5 ms), while a network command does not notice one more `execv`.
public struct Keyfleet: ParsableCommand {
    /// The version of every Keyfleet program (`keyfleet --version`, `keyfleet-client --version`).
    public static let version = "0.4.0"

    /// The commands `keyfleet-client` runs.
    public static let registryCommands: Set<String> = [
        "server", "host-agent", "login", "logout", "context", "ssh-key", "project", "host", "cluster", "audit", "user",
        "token",
    ]

    /// The toolkit's commands, which this executable runs itself; `keyfleet-client` lists them too, in the
    /// combined command tree that its help and shell completion describe.
    package static let toolkitCommands: [any ParsableCommand.Type] = [
        KeygenCommand.self, FingerprintCommand.self, PubkeyCommand.self, PasswdCommand.self, CommentCommand.self,
        ConvertCommand.self, InspectCommand.self, DoctorCommand.self,
    ]

    /// What `keyfleet-client` answers for the whole command tree, toolkit and registry: `help ...`,
    /// `completion SHELL`, and these flags given before any command (`keyfleet --help`). The toolkit alone
    /// knows only its own commands, so it answers help itself only when `keyfleet-client` is missing.
    static let treeWords: Set<String> = ["help", "completion"]
    static let treeFlags: Set<String> = ["-h", "--help", "-help", "--help-hidden", "--experimental-dump-help", "---completion"]

    /// The command's name, summary, exit statuses and subcommands, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "Make, read, convert and check SSH keys in every format people meet; run and use the key registry.",
        discussion: """
            Registry commands (each has --help): server, login, logout, context, ssh-key, project, host, cluster, \
            audit, user, token, host-agent.

            Exit status: 0 success, 1 bad input or usage, 2 wrong passphrase.
            """,
        version: version,
        subcommands: toolkitCommands
    )

    /// Makes the command; ArgumentParser calls it when parsing (use ``run(arguments:)`` to run).
    public init() {}

    /// Parses `arguments` (the process's by default), runs the command and returns the exit status.
    /// Every error becomes one line on stderr; nothing traps.
    ///
    /// Synchronous on purpose: an `async` main starts Swift's concurrency runtime and its threads, which
    /// costs a toolkit command about a millisecond; the registry's commands, which need it, run in
    /// `keyfleet-client`.
    public static func run(arguments: [String]? = nil) -> Int32 {
        do {
            let given = arguments ?? Array(CommandLine.arguments.dropFirst())
            if let first = given.first, registryCommands.contains(first) || first == "completion" || first == "--context" || first.hasPrefix("--context=") {
                return RegistryExecutable.exec(given)
            }
            if given.isEmpty || treeWords.contains(given[0]) || treeFlags.contains(given[0])
                || given[0].hasPrefix("--generate-completion-script"),
                RegistryExecutable.path() != nil
            {
                return RegistryExecutable.exec(given)
            }
            if let first = given.first, !first.hasPrefix("-"), !toolkitCommands.contains(where: { $0._commandName == first }) {
                let known = toolkitCommands.map { $0._commandName } + registryCommands.sorted() + treeWords.sorted()
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

/// Runs `keyfleet-client`, found beside this executable, in this process's place.
enum RegistryExecutable {
    static let name = "keyfleet-client"

    /// Replaces the process with `keyfleet-client arguments...`; returns (1) only when that fails.
    static func exec(_ arguments: [String]) -> Int32 {
        guard let path = path() else {
            Terminal.printError("\(name) is not installed beside keyfleet; it runs the registry commands")
            return 1
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        let reason = String(cString: strerror(errno))
        for pointer in argv { free(pointer) }
        Terminal.printError("cannot run \(Terminal.safe(path)): \(reason)")
        return 1
    }

    /// `keyfleet-client` in the directory of the running executable (its real path).
    static func path() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let executable = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = executable.lastIndex(of: "/") else { return nil }
        let candidate = String(executable[..<slash]) + "/" + name
        return access(candidate, X_OK) == 0 ? candidate : nil
    }
}
