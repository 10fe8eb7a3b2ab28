public import ArgumentParser
import KeyfleetCommandLine
import KeyfleetVersion

/// `keyfleet-agent`: `keyfleet host-agent` on every host, run by `keyfleet` for `keyfleet host-agent ...`
/// or by itself (`keyfleet-agent run`, as the systemd unit does). No HTTP server, no database.
public struct AgentRoot: AsyncParsableCommand {
    /// Named `keyfleet`, holding `host-agent`, so usage and help read as the command people type.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "The Keyfleet host agent: keeps this server's sshd in step with the registry.",
        version: keyfleetVersion,
        subcommands: [HostAgentCommand<AgentMain>.self]
    )

    /// Makes the command; ArgumentParser calls it when parsing.
    public init() {}

    /// Runs `keyfleet-agent arguments...` (the process's by default) and returns the exit status.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        let given = RootCommand.arguments(arguments ?? Array(CommandLine.arguments.dropFirst()), verb: "host-agent")
        return await RootCommand.run(Self.self, arguments: given)
    }
}
