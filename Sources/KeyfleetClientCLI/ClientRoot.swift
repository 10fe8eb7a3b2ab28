public import ArgumentParser
internal import KeyfleetCLI
import KeyfleetCommandLine
import KeyfleetVersion
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `keyfleet-client`: the registry's client commands, run by `keyfleet` for them. Its command name is
/// `keyfleet`, so usage and help read as the command people type.
///
/// Its tree is the whole of `keyfleet`: the toolkit cannot list the other commands (it does not link them,
/// to start fast), so `keyfleet` hands this executable what is about every command: `keyfleet --help`,
/// `keyfleet help ...`, `keyfleet completion SHELL` and `--generate-completion-script`. The toolkit's own
/// commands still run in `keyfleet` itself; `server` and `host-agent` are here as they are declared, with
/// their options and help, and run in `keyfleet-server` and `keyfleet-agent` (see ``HandOver``), so that
/// this executable carries neither the server nor the agent.
public struct ClientRoot: AsyncParsableCommand {
    /// The command's name, summary and subcommands in groups, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "Make, read, convert and check SSH keys in every format people meet; run and use the key registry.",
        discussion: """
            Every command has --help, also as keyfleet help COMMAND... Client commands take --context NAME \
            (also before the command: keyfleet --context prod host list), and lists and describes take \
            -o/--output table|json|yaml.

            Exit status: 0 success, 1 bad input, usage or a refusal from the server, 2 wrong passphrase.
            """,
        version: keyfleetVersion,
        groupedSubcommands: [
            CommandGroup(name: "Key toolkit (local)", subcommands: Keyfleet.toolkitCommands),
            CommandGroup(
                name: "Registry",
                subcommands: [
                    SSHKeyCommand.self, ProjectCommand.self, HostCommand.self, ClusterCommand.self, UserCommand.self,
                    TokenCommand.self, AuditCommand.self,
                ]),
            CommandGroup(name: "Connecting", subcommands: [LoginCommand.self, LogoutCommand.self, ContextCommand.self]),
            CommandGroup(name: "Server and host agent", subcommands: [ServerCommand<HandOver>.self, HostAgentCommand<HandOver>.self]),
            CommandGroup(name: "Shell", subcommands: [CompletionCommand.self]),
        ]
    )

    /// Makes the command; ArgumentParser calls it when parsing.
    public init() {}

    /// Parses the process's arguments, runs the command and returns the exit status; every error is one
    /// line, or a problem document on stderr after `-o json` or `-o yaml`.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        var given = arguments ?? Array(CommandLine.arguments.dropFirst())
        ClientOutput.encoding.withLock { $0 = ClientOutput.encoding(in: given) }
        do {
            given = try takeContext(given)
        } catch {
            return failure(error) ?? report(error)
        }
        return await RootCommand.run(Self.self, arguments: given, failure: failure)
    }

    /// `--context NAME` before the command taken out of `arguments`: it becomes KEYFLEET_CONTEXT for this process.
    static func takeContext(_ arguments: [String]) throws(CLIError) -> [String] {
        var arguments = arguments
        if let first = arguments.first, first == "--context" || first.hasPrefix("--context=") {
            let name: String
            if first == "--context" {
                guard arguments.count > 1 else { throw CLIError.usage("--context needs a context name (see keyfleet context list)") }
                name = arguments[1]
                arguments.removeFirst(2)
            } else {
                name = String(first.dropFirst("--context=".count))
                arguments.removeFirst()
            }
            setenv("KEYFLEET_CONTEXT", name, 1)
        }
        return arguments
    }

    /// After `-o json` or `-o yaml`, prints `error` as a problem document and returns the exit status.
    private static func failure(_ error: any Error) -> Int32? {
        guard let encoding = ClientOutput.encoding.withLock({ $0 }), !(error is ExitCode), exitCode(for: error) != .success else { return nil }
        return problem(error, as: encoding)
    }

    /// Prints `error` as a problem document on stderr and returns the exit status ``report(_:)`` would.
    private static func problem(_ error: any Error, as encoding: StructuredEncoding) -> Int32 {
        let code: String
        let detail: String
        var document: [UInt8]?
        let status: Int32
        switch error {
        case let error as CLIError:
            code = error.code ?? (error.exitCode == 2 ? "wrong-passphrase" : "client-error")
            detail = error.message
            document = error.problemDocument
            status = error.exitCode
        case let error as KeyError:
            code = error.code.rawValue
            detail = error.description
            status = error.code == .wrongPassphrase ? 2 : 1
        default:
            code = "usage"
            detail = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            status = 1
        }
        let titles = [
            "usage": "The command line is not valid", "unreachable": "The server cannot be reached",
            "tls-failure": "TLS failed", "unknown-context": "No such context",
        ]
        ClientOutput.printProblem(
            code: code, title: titles[code] ?? "The command failed", detail: detail, serverDocument: document, as: encoding)
        return status
    }
}

/// `keyfleet completion bash|zsh|fish`: the shell completion script for every command.
struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print the completion script for bash, zsh or fish, covering every command.",
        discussion: """
            bash: keyfleet completion bash > ~/.local/share/bash-completion/completions/keyfleet
            zsh:  keyfleet completion zsh > ~/.zfunc/_keyfleet (with fpath+=~/.zfunc before compinit in ~/.zshrc)
            fish: keyfleet completion fish > ~/.config/fish/completions/keyfleet.fish
            """
    )

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: ArgumentHelp("bash, zsh or fish.", valueName: "shell")) var shell: Shell

    func run() throws {
        guard let completion = CompletionShell(rawValue: shell.rawValue) else { throw CLIError.usage("no completion for \(shell.rawValue)") }
        Terminal.print(ClientRoot.completionScript(for: completion))
    }
}

/// The server's and the host agent's commands in this tree, which describes them for help and completion:
/// run, they hand over to `keyfleet-server` and `keyfleet-agent` (`keyfleet-client server ...` runs
/// `keyfleet-server server ...`).
enum HandOver: ServerRunner, HostAgentRunner {
    static func run(_ options: ServerOptions) async throws { throw RoleExecutable.server.execute(arguments) }
    static func migrate(_ options: ServerCommand<Self>.Migrate) async throws { throw RoleExecutable.server.execute(arguments) }
    static func backup(_ options: ServerCommand<Self>.Backup) async throws { throw RoleExecutable.server.execute(arguments) }
    static func enroll(_ options: HostAgentCommand<Self>.Enroll) async throws { throw RoleExecutable.agent.execute(arguments) }
    static func run(_ options: HostAgentCommand<Self>.Run) async throws { throw RoleExecutable.agent.execute(arguments) }
    static func install(_ options: HostAgentCommand<Self>.Install) async throws { throw RoleExecutable.agent.execute(arguments) }
    static func uninstall(_ options: HostAgentCommand<Self>.Uninstall) async throws { throw RoleExecutable.agent.execute(arguments) }

    /// This process's arguments after a `--context` before the command, which the others do not take.
    private static var arguments: [String] {
        (try? ClientRoot.takeContext(Array(CommandLine.arguments.dropFirst()))) ?? Array(CommandLine.arguments.dropFirst())
    }
}
