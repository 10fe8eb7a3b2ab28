import KeyfleetCLI
import ArgumentParser

/// `keyfleet context`: saved servers and tokens, one of them active, as hcloud keeps them.
struct ContextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Save several registries (server and token) by name and choose the active one.",
        discussion: """
            Contexts live in ~/.config/keyfleet/config (mode 0600). Every client command takes --context NAME \
            (or KEYFLEET_CONTEXT) to use another than the active one. keyfleet login creates or updates one.
            """,
        subcommands: [Create.self, Use.self, List.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a server and token and save them as a new context, made active.",
            discussion: "The token comes from --token-file, else KEYFLEET_TOKEN, else it is asked for on the terminal.")

        @Argument(help: ArgumentHelp("The context's name: letters, digits, '.', '_', '-'.", valueName: "name")) var name: String
        @Option(help: ArgumentHelp("Registry URL.", valueName: "url")) var server: String
        @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the API token from the first line of this file.", valueName: "file"))
        var tokenFile: String?

        func run() async throws {
            try ContextFile.validate(name: name)
            if try ContextFile.load().contexts.contains(where: { $0.name == name }) {
                throw Self.exists(name)
            }
            let context = try ClientContext(server: server, token: TokenInput.read(token: nil, file: tokenFile))
            let greeting = try await TokenInput.check(context)
            try ContextFile.update { (file: inout ContextFile) throws(CLIError) in
                guard !file.contexts.contains(where: { $0.name == name }) else { throw Self.exists(name) }
                file.set(ContextFile.Context(name: name, server: context.server, token: context.token))
                file.active = name
            }
            Terminal.print("Context \"\(name)\" created and active: \(Terminal.safe(context.server)) as \(greeting)")
        }

        private static func exists(_ name: String) -> CLIError {
            CLIError("context \"\(name)\" already exists; keyfleet login --context \(name) --server URL updates it", code: "conflict")
        }
    }

    struct Use: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a context the active one.")

        @Argument(help: ArgumentHelp("The context's name.", valueName: "name")) var name: String

        func run() throws {
            try ContextFile.update { (file: inout ContextFile) throws(CLIError) in
                guard file.contexts.contains(where: { $0.name == name }) else { throw file.unknown(name) }
                file.active = name
            }
            Terminal.print("Active context: \"\(name)\"")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the contexts; the active one is marked with *.")

        @OptionGroup var output: OutputOptions

        /// What `-o json` shows of a context: never its token.
        struct Entry: Encodable {
            var name: String
            var server: String
            var active: Bool
        }

        func run() throws {
            let file = try ContextFile.load()
            let entries = file.contexts.map { Entry(name: $0.name, server: $0.server, active: $0.name == file.active) }
            if output.output == .json { return try ClientOutput.printJSON(entries) }
            ClientOutput.printTable(["ACTIVE", "NAME", "SERVER"], entries.map { [$0.active ? "*" : "", $0.name, $0.server] })
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a context: its server and token are forgotten.")

        @Argument(help: ArgumentHelp("The context's name.", valueName: "name")) var name: String

        func run() throws {
            let wasActive = try ContextFile.update { (file: inout ContextFile) throws(CLIError) -> Bool in
                guard file.contexts.contains(where: { $0.name == name }) else { throw file.unknown(name) }
                let wasActive = file.active == name
                file.remove(name)
                return wasActive
            }
            Terminal.print("Deleted context \"\(name)\"" + (wasActive ? "; no context is active now (keyfleet context use NAME)" : ""))
        }
    }
}
