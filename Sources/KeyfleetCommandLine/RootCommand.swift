package import ArgumentParser
package import KeyfleetCLI

/// What the roots of `keyfleet-client`, `keyfleet-server` and `keyfleet-agent` share. Each root is named
/// `keyfleet` and holds the commands of `keyfleet` its executable carries, so that usage, help and errors
/// read as the command people type, whichever executable answers.
package enum RootCommand {
    /// Parses `arguments` with `root`, runs the command and returns the exit status; every error is one line
    /// on stderr, or what `failure` makes of it when it returns a status.
    package static func run(
        _ root: any ParsableCommand.Type, arguments: [String], failure: (any Error) -> Int32? = { _ in nil }
    ) async -> Int32 {
        do {
            var command = try root.parseAsRoot(try prepare(arguments, root: root))
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            if let status = failure(error) { return status }
            return root.report(error)
        }
    }

    /// The arguments of an executable run in `keyfleet`'s place for `verb` (`keyfleet-agent` for
    /// `host-agent`), which may also be run by itself: `keyfleet-agent run` reads as `keyfleet host-agent
    /// run`, `keyfleet-agent help run` as `keyfleet help host-agent run`. What `keyfleet` hands over, which
    /// starts with the verb or with `help VERB`, is kept as it is, and so is `--version`.
    package static func arguments(_ arguments: [String], verb: String) -> [String] {
        guard let first = arguments.first else { return [verb] }
        if first == verb || first == "--version" { return arguments }
        if first == "help" {
            return arguments.dropFirst().first == verb ? arguments : ["help", verb] + arguments.dropFirst()
        }
        return [verb] + arguments
    }

    /// The arguments as ArgumentParser should see them: `X help Y` read as `help X Y`, and a command name
    /// that is not one refused with the closest one.
    package static func prepare(_ arguments: [String], root: any ParsableCommand.Type) throws(CLIError) -> [String] {
        if arguments.first == "help" {
            _ = try walk(Array(arguments.dropFirst()), root: root, helpRewrite: false)
            return arguments
        }
        return try walk(arguments, root: root, helpRewrite: true)
    }

    /// Follows the command names at the start of `arguments` down the tree. A name that is no subcommand
    /// of the command before it is an error naming the closest one; `help` there, when `helpRewrite`, turns
    /// the whole into `help` followed by the commands before it and the rest.
    private static func walk(_ arguments: [String], root: any ParsableCommand.Type, helpRewrite: Bool) throws(CLIError) -> [String] {
        var command = root
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
            let help = ([root._commandName] + path + ["--help"]).joined(separator: " ")
            throw CLIError.usage("unknown command \"\(typed)\"\(closest) (see \(help))")
        }
        return arguments
    }
}
