public import ArgumentParser
internal import KeyfleetCLI
import KeyfleetAgentCLI
import KeyfleetServerCLI
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `keyfleet-client`: the registry's client commands, run by `keyfleet` for them. Its command name is
/// `keyfleet`, so usage and help read as the command people type.
///
/// Its tree is the whole of `keyfleet`, toolkit included: the toolkit cannot list the registry's commands
/// (it does not link them, to start fast), so `keyfleet` hands this executable what is about every
/// command: `keyfleet --help`, `keyfleet help ...`, `keyfleet completion SHELL` and
/// `--generate-completion-script`. The toolkit's own commands still run in `keyfleet` itself.
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
        version: Keyfleet.version,
        groupedSubcommands: [
            CommandGroup(name: "Key toolkit (local)", subcommands: Keyfleet.toolkitCommands),
            CommandGroup(
                name: "Registry",
                subcommands: [
                    SSHKeyCommand.self, ProjectCommand.self, HostCommand.self, ClusterCommand.self, UserCommand.self,
                    TokenCommand.self, AuditCommand.self,
                ]),
            CommandGroup(name: "Connecting", subcommands: [LoginCommand.self, LogoutCommand.self, ContextCommand.self]),
            CommandGroup(name: "Server and host agent", subcommands: [ServerCommand.self, HostAgentCommand.self]),
            CommandGroup(name: "Shell", subcommands: [CompletionCommand.self]),
        ]
    )

    /// Makes the command; ArgumentParser calls it when parsing.
    public init() {}

    /// Parses the process's arguments, runs the command and returns the exit status; every error is one
    /// line, or a problem document on stderr after `-o json` or `-o yaml`.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        let given = arguments ?? Array(CommandLine.arguments.dropFirst())
        ClientOutput.encoding.withLock { $0 = ClientOutput.encoding(in: given) }
        do {
            var command = try parseAsRoot(try prepare(given))
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            if let encoding = ClientOutput.encoding.withLock({ $0 }), !(error is ExitCode), exitCode(for: error) != .success {
                return problem(error, as: encoding)
            }
            return report(error)
        }
    }

    /// The arguments as ArgumentParser should see them: `--context NAME` before the command taken out (it
    /// becomes KEYFLEET_CONTEXT for this process), `X help Y` read as `help X Y`, and a command name that
    /// is not one refused with the closest one.
    static func prepare(_ arguments: [String]) throws(CLIError) -> [String] {
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
        if arguments.first == "help" {
            _ = try walk(Array(arguments.dropFirst()), helpRewrite: false)
            return arguments
        }
        return try walk(arguments, helpRewrite: true)
    }

    /// Follows the command names at the start of `arguments` down the tree. A name that is no subcommand
    /// of the command before it is an error naming the closest one; `help` there, when `helpRewrite`, turns
    /// the whole into `help` followed by the commands before it and the rest.
    private static func walk(_ arguments: [String], helpRewrite: Bool) throws(CLIError) -> [String] {
        var command: any ParsableCommand.Type = ClientRoot.self
        var path: [String] = []
        for (index, argument) in arguments.enumerated() {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !argument.hasPrefix("-") else { break }
            if argument == "help" {
                if helpRewrite, index > 0 { return ["help"] + path + arguments[(index + 1)...] }
                break
            }
            if let next = subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) {
                command = next
                path.append(argument)
                continue
            }
            let names = subcommands.map { $0._commandName } + ["help"]
            let closest = Suggestions.closest(to: argument, among: names).map { "; did you mean \"\((path + [$0]).joined(separator: " "))\"?" } ?? ""
            let typed = Terminal.safe((path + [argument]).joined(separator: " "))
            throw CLIError.usage("unknown command \"\(typed)\"\(closest) (see \((["keyfleet"] + path + ["--help"]).joined(separator: " ")))")
        }
        return arguments
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
