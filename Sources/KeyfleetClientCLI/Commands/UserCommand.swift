import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet user`: people and robot accounts.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create and list users.", subcommands: [Create.self, List.self, Whoami.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user (administrators only); give them a token with keyfleet token create --user.")
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "Make the user an administrator.") var admin = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let user = try await registry.call { client in
                try await client.createUser(body: .json(.init(name: name, role: admin ? .admin : .user))).created.body.json
            }
            if output.output == .json { return try ClientOutput.printJSON(user) }
            ClientOutput.printFields([("ID", user.id), ("Name", user.name), ("Role", user.role.rawValue)])
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let users = try await registry.all { client, cursor in
                let page = try await client.listUsers(query: .init(cursor: cursor)).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(users) }
            ClientOutput.printTable(["ID", "NAME", "ROLE"], users.map { [$0.id, $0.name, $0.role.rawValue] })
        }
    }

    struct Whoami: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The user and token you are using.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let current = try await registry.call { client in try await client.getCurrentUser().ok.body.json }
            if output.output == .json { return try ClientOutput.printJSON(current) }
            ClientOutput.printFields([
                ("ID", current.user.id), ("Name", current.user.name), ("Role", current.user.role.rawValue),
                ("Token", current.token.id), ("Scope", current.token.scope.rawValue),
            ])
        }
    }
}
