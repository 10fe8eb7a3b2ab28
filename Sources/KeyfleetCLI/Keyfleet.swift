public import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `keyfleet` command: the key toolkit, the registry server and its client.
public struct Keyfleet: ParsableCommand {
    /// The command's name, summary, exit statuses and subcommands, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "keyfleet",
        abstract: "Make, read, convert and check SSH keys in every format people meet.",
        discussion: "Exit status: 0 success, 1 bad input or usage, 2 wrong passphrase.",
        subcommands: [
            KeygenCommand.self, FingerprintCommand.self, PubkeyCommand.self, PasswdCommand.self, CommentCommand.self,
            ConvertCommand.self, InspectCommand.self, DoctorCommand.self, ServerCommand.self, HostAgentCommand.self,
            LoginCommand.self, LogoutCommand.self, SSHKeyCommand.self, ProjectCommand.self, HostCommand.self, ClusterCommand.self,
            AuditCommand.self, UserCommand.self, TokenCommand.self,
        ]
    )

    /// Makes the command; ArgumentParser calls it when parsing (use ``run(arguments:)`` to run).
    public init() {}

    /// Parses `arguments` (the process's by default), runs the command and returns the exit status.
    /// Every error becomes one line on stderr; nothing traps.
    public static func run(arguments: [String]? = nil) async -> Int32 {
        do {
            let given = arguments ?? Array(CommandLine.arguments.dropFirst())
            if given.first == "keygen", let options = KeygenOptions.quickParse(Array(given.dropFirst())) {
                try options.run()
                return 0
            }
            var command = try parseAsRoot(given)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch let error as CLIError {
            Terminal.printError(error.message)
            return error.exitCode
        } catch let error as KeyError {
            Terminal.printError(error.description)
            return error.code == .wrongPassphrase ? 2 : 1
        } catch {
            let code = exitCode(for: error)
            if code == .success {
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
