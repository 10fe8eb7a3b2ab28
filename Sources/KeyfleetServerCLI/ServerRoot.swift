public import ArgumentParser
import KeyfleetCommandLine
import KeyfleetVersion

/// `keyfleet-server`: `keyfleet server` on the registry's machines, run by `keyfleet` for `keyfleet server
/// ...` or by itself (`keyfleet-server --data-dir DIR`, as the systemd unit does).
public struct ServerRoot: AsyncParsableCommand {
    /// Named `keyfleet`, holding `server`, so usage and help read as the command people type.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "The Keyfleet registry server.",
        version: keyfleetVersion,
        subcommands: [ServerCommand<ServerMain>.self]
    )

    /// Makes the command; ArgumentParser calls it when parsing.
    public init() {}

    /// Runs `keyfleet-server arguments...` (the process's by default) and returns the exit status.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        let given = RootCommand.arguments(arguments ?? Array(CommandLine.arguments.dropFirst()), verb: "server")
        return await RootCommand.run(Self.self, arguments: given)
    }
}
