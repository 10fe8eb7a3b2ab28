package import ArgumentParser

/// What runs `keyfleet server` once its options are parsed: the server itself in `keyfleet-server`, and
/// in `keyfleet-client`, whose command tree describes every command for help and completion, a hand-over
/// to `keyfleet-server`.
package protocol ServerRunner {
    /// Runs the server with `options` until SIGTERM or SIGINT.
    static func run(_ options: ServerOptions) async throws
}

/// `keyfleet server`: the key registry over HTTP with its embedded database. Declared once, here, with
/// every option and its help, and run by `Runner`: the help `keyfleet-server` prints and the one in
/// `keyfleet-client`'s tree are the same text.
package struct ServerCommand<Runner: ServerRunner>: AsyncParsableCommand {
    package static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "server",
            abstract: "Run the key registry: HTTP API, audit log and agent sync over an embedded SQLite database or PostgreSQL.",
            discussion: """
                On first start the data directory is made (mode 0700) with an administrator, whose API token is \
                printed once; set KEYFLEET_ADMIN_TOKEN to choose that token instead. With --database-url (or \
                KEYFLEET_DATABASE_URL) the registry lives in PostgreSQL, and several servers may share it: start \
                each with the same KEYFLEET_ADMIN_TOKEN. SIGTERM or SIGINT stops the server after the requests \
                under way.
                """
        )
    }

    @OptionGroup package var options: ServerOptions

    package init() {}

    package func run() async throws {
        try await Runner.run(options)
    }
}

/// The options of `keyfleet server`.
package struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory of the embedded database.", valueName: "dir"))
    package var dataDirectory: String?

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL database instead of the embedded one: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=require|verify-full]. "
                + "KEYFLEET_DATABASE_URL keeps the password out of ps.",
            valueName: "url"))
    package var databaseURL: String?

    @Option(help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "host:port"))
    package var listen = "127.0.0.1:8080"

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain for HTTPS.", valueName: "file"))
    package var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for HTTPS.", valueName: "file"))
    package var tlsKey: String?

    @Option(name: .customLong("public-url"), help: ArgumentHelp("URL agents and cloud-init use to reach this server.", valueName: "url"))
    package var publicURL: String?

    @Option(
        name: .customLong("agent-package-url"),
        help: ArgumentHelp("The keyfleet-agent .deb new hosts install when their image has no agent (with --agent-package-sha256).", valueName: "url"))
    package var agentPackageURL: String?

    @Option(name: .customLong("agent-package-sha256"), help: ArgumentHelp("The SHA-256 the agent package must have (64 hex digits).", valueName: "hex"))
    package var agentPackageSHA256: String?

    @OptionGroup package var logging: LogOptions

    package init() {}
}
