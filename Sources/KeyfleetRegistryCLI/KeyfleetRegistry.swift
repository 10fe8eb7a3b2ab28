public import ArgumentParser
internal import KeyfleetCLI

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

    /// Parses the process's arguments, runs the command and returns the exit status; every error is one line.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments ?? Array(CommandLine.arguments.dropFirst()))
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return report(error)
        }
    }
}
