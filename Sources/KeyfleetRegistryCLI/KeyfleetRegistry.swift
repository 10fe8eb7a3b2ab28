public import ArgumentParser
internal import KeyfleetCLI
import SSHKeys

/// `keyfleet-registry`: the registry's commands (server, client, host agent), run by `keyfleet` for them.
/// Its command name is `keyfleet`, so usage and help read as the command people type.
public struct KeyfleetRegistry: AsyncParsableCommand {
    /// The command's name, summary and subcommands, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "The key registry: its server, its client and the host agent.",
        discussion: "Exit status: 0 success, 1 bad input, usage or a refusal from the server.",
        subcommands: [
            ServerCommand.self, LoginCommand.self, LogoutCommand.self, SSHKeyCommand.self, ProjectCommand.self, HostCommand.self,
            ClusterCommand.self, AuditCommand.self, UserCommand.self, TokenCommand.self, HostAgentCommand.self,
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
            var command = try parseAsRoot(given)
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
