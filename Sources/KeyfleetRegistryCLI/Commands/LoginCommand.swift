import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet login`: checks a token against a registry and saves both for later commands.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check an API token and save the server and token (~/.config/keyfleet/config, mode 0600).",
        discussion: "Without --token the token is read from KEYFLEET_TOKEN, or asked for on the terminal."
    )

    @Option(help: ArgumentHelp("Registry URL.", valueName: "url")) var server: String
    @Option(help: ArgumentHelp("API token.", valueName: "token")) var token: String?

    func run() async throws {
        var secret = token ?? ProcessEnvironment["KEYFLEET_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if secret == nil, let typed = Terminal.readSecret(prompt: "API token: ") {
            secret = String(decoding: typed, as: UTF8.self)
        }
        guard let secret else { throw CLIError("no API token given: use --token, KEYFLEET_TOKEN or a terminal") }
        let context = try ClientContext(server: server, token: secret)
        let registry = try Registry(context)
        let current = try await registry.call { client in try await client.getCurrentUser().ok.body.json }
        try context.save()
        Terminal.print(
            "Logged in to \(Terminal.safe(context.server)) as \(Terminal.safe(current.user.name)) (\(current.user.role.rawValue), \(current.token.scope.rawValue) token); saved in \(Terminal.safe(ClientContext.path))"
        )
    }
}

/// `keyfleet logout`: forgets the saved server and token.
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Remove the saved server and token.")

    func run() throws {
        if try ClientContext.remove() {
            Terminal.print("Removed \(Terminal.safe(ClientContext.path))")
        } else {
            Terminal.print("Not logged in")
        }
    }
}
