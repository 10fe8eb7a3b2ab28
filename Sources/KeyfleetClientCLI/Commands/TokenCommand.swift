import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet token`: API tokens.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.", subcommands: [Create.self, List.self, Revoke.self])

    static func rows(_ tokens: [Components.Schemas.Token]) -> [[String]] {
        tokens.map { [$0.id, $0.user, $0.scope.rawValue, ClientOutput.time($0.createdAt), ClientOutput.time($0.revokedAt)] }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token; its secret is printed once, on standard output.")
        @Flag(name: .customLong("read-only"), help: "A token that may only read.") var readOnly = false
        @Option(help: ArgumentHelp("For this user (name or id; administrators only).", valueName: "user")) var user: String?
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            var userID: String?
            if let user { userID = try await registry.userID(user) }
            let answer = try await registry.call { client in
                try await client.createToken(body: .json(.init(scope: readOnly ? .readOnly : .readWrite, user: userID))).created.body.json
            }
            Terminal.print(Terminal.safe(answer.secret))
            Terminal.printInfo(
                "Token \(Terminal.safe(answer.token.id)) (\(answer.token.scope.rawValue)) for user \(Terminal.safe(answer.token.user)); "
                    + "the secret is shown only now")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API tokens (never their secrets).")
        @Option(help: ArgumentHelp("Tokens of this user (name or id; administrators only).", valueName: "user")) var user: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            var userID: String?
            if let user { userID = try await registry.userID(user) }
            let tokens = try await registry.all { client, cursor in
                let page = try await client.listTokens(query: .init(cursor: cursor, user: userID)).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(tokens) }
            ClientOutput.printTable(["ID", "USER", "SCOPE", "CREATED", "REVOKED"], TokenCommand.rows(tokens))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument(help: "The token's id (not its secret).") var token: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let revoked = try await registry.call { client in try await client.revokeToken(path: .init(tokenId: token)).ok.body.json }
            Terminal.print("Token \(Terminal.safe(revoked.id)) revoked at \(ClientOutput.time(revoked.revokedAt))")
        }
    }
}
