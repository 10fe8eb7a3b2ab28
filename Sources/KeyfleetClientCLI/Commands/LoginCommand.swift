import KeyfleetCLI
import KeyfleetCommandLine
import ArgumentParser
import KeyfleetAPI

/// `keyfleet login`: checks a token against a registry and saves both as a context, made active.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check an API token and save the server and token as a context (~/.config/keyfleet/config, mode 0600).",
        discussion: """
            Without --token the token is read from --token-file, KEYFLEET_TOKEN, or asked for on the terminal. \
            The context is --context NAME, else the saved one for the same server, else "default" when there \
            is none, else one named after the server's host; it becomes the active context.
            """
    )

    @Option(help: ArgumentHelp("Registry URL.", valueName: "url")) var server: String
    @Option(help: ArgumentHelp("API token.", valueName: "token")) var token: String?
    @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the API token from the first line of this file.", valueName: "file"))
    var tokenFile: String?
    @Option(help: ArgumentHelp("The context to create or update (default: see below).", valueName: "name")) var context: String?

    func run() async throws {
        let secret = try TokenInput.read(token: token, file: tokenFile)
        let checked = try ClientContext(server: server, token: secret)
        if let context { try ContextFile.validate(name: context) }
        let greeting = try await TokenInput.check(checked)
        let name = try ContextFile.update { (file: inout ContextFile) throws(CLIError) -> String in
            let name = context ?? file.name(for: checked.server)
            file.set(ContextFile.Context(name: name, server: checked.server, token: checked.token))
            file.active = name
            return name
        }
        Terminal.print(
            "Logged in to \(Terminal.safe(checked.server)) as \(greeting); "
                + "saved as context \"\(name)\" (active) in \(Terminal.safe(ClientContext.path))")
    }
}

/// `keyfleet logout`: forgets the active context (or the one `--context` names), leaving the others.
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "Remove the active context's server and token (or those of --context NAME); other contexts stay.")

    @Option(help: ArgumentHelp("The context to remove (default: KEYFLEET_CONTEXT, then the active one).", valueName: "name"))
    var context: String?

    func run() throws {
        let named = context ?? ProcessEnvironment["KEYFLEET_CONTEXT"].flatMap { $0.isEmpty ? nil : $0 }
        let removed = try ContextFile.update { (file: inout ContextFile) throws(CLIError) -> String? in
            guard let name = named ?? file.active else { return nil }
            guard file.contexts.contains(where: { $0.name == name }) else { throw file.unknown(name) }
            file.remove(name)
            return name
        }
        if let removed {
            Terminal.print("Logged out: removed context \"\(removed)\" from \(Terminal.safe(ClientContext.path))")
        } else {
            Terminal.print("Not logged in (no active context)")
        }
    }
}

/// Where `login` and `context create` take the token from, and the check both make with it.
enum TokenInput {
    /// `--token`, else the first line of `--token-file`, else KEYFLEET_TOKEN, else asked on the terminal.
    static func read(token: String?, file: String?) throws(CLIError) -> String {
        if let token { return token }
        if let file {
            let line = try ClientInput.firstLine(of: file)
            guard !line.isEmpty else { throw CLIError("\(Terminal.safe(file)): the first line is empty; expected an API token") }
            return line
        }
        if let token = ProcessEnvironment["KEYFLEET_TOKEN"].flatMap({ $0.isEmpty ? nil : $0 }) { return token }
        if let typed = Terminal.readSecret(prompt: "API token: ") { return String(decoding: typed, as: UTF8.self) }
        throw CLIError("no API token given: use --token, --token-file, KEYFLEET_TOKEN or a terminal")
    }

    /// Asks the server who the token belongs to: `alice (admin, full token)`; the server's refusal otherwise.
    static func check(_ context: ClientContext) async throws(CLIError) -> String {
        let registry = try Registry(context)
        let current = try await registry.call { client in try await client.getCurrentUser().ok.body.json }
        return "\(Terminal.safe(current.user.name)) (\(current.user.role.rawValue), \(current.token.scope.rawValue) token)"
    }
}

extension ContextFile {
    /// Adds `context`, or replaces the one of the same name in its place.
    mutating func set(_ context: Context) {
        if let index = contexts.firstIndex(where: { $0.name == context.name }) {
            contexts[index] = context
        } else {
            contexts.append(context)
        }
    }

    /// Removes the context `name`; when it was active, none is.
    mutating func remove(_ name: String) {
        contexts.removeAll { $0.name == name }
        if active == name { active = nil }
    }

    /// The name `login` saves `server` under: the active context when it is for that server, else another
    /// one for it, else `default` when there is no context, else the server's host name (with `-2`, `-3`
    /// when taken).
    func name(for server: String) -> String {
        if let active, contexts.contains(where: { $0.name == active && $0.server == server }) { return active }
        if let same = contexts.first(where: { $0.server == server }) { return same.name }
        if contexts.isEmpty { return Self.legacyName }
        var host = server.drop { $0 != "/" }.drop { $0 == "/" }.prefix { $0 != "/" && $0 != ":" && $0 != "@" }
        host = host.prefix(60)
        var base = String(host.filter { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "." || $0 == "-" || $0 == "_" })
        if !ClientInput.isIdentifier(base) { base = "context" }
        var candidate = base
        var number = 2
        while contexts.contains(where: { $0.name == candidate }) {
            candidate = "\(base)-\(number)"
            number += 1
        }
        return candidate
    }
}
