package import ArgumentParser

/// What runs `keyfleet server`'s commands once their options are parsed: the server itself in
/// `keyfleet-server`, and in `keyfleet-client`, whose command tree describes every command for help and
/// completion, a hand-over to `keyfleet-server`.
package protocol ServerRunner {
    /// Runs the server with `options` until SIGTERM or SIGINT (`keyfleet server` and `keyfleet server serve`).
    static func run(_ options: ServerOptions) async throws
    /// `keyfleet server migrate`.
    static func migrate(_ options: ServerCommand<Self>.Migrate) async throws
    /// `keyfleet server backup`.
    static func backup(_ options: ServerCommand<Self>.Backup) async throws
}

/// `keyfleet server`: the key registry over HTTP with its database (`serve`, the default), and the copies
/// of an embedded registry (`migrate` to PostgreSQL, `backup`). Declared once, here, with every option and
/// its help, and run by `Runner`: the help `keyfleet-server` prints and the one in `keyfleet-client`'s tree
/// are the same text.
package struct ServerCommand<Runner: ServerRunner>: AsyncParsableCommand {
    package static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "server",
            abstract: "Run the key registry: HTTP API, audit log and agent sync over an embedded SQLite database or PostgreSQL.",
            discussion: """
                keyfleet server [OPTIONS] runs the registry (the serve command; see keyfleet server serve --help \
                for its options). migrate copies an embedded registry into an empty PostgreSQL database; backup \
                copies a running embedded registry into a file.
                """,
            subcommands: [Serve.self, Migrate.self, Backup.self],
            defaultSubcommand: Serve.self
        )
    }

    package init() {}

    /// `keyfleet server serve`, also run as `keyfleet server` alone (and `keyfleet-server --data-dir DIR`).
    package struct Serve: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "serve",
                abstract: "Run the key registry until SIGTERM or SIGINT (the default: keyfleet server [OPTIONS]).",
                discussion: """
                    On first start the data directory is made (mode 0700) with an administrator, whose API token is \
                    printed once; set KEYFLEET_ADMIN_TOKEN to choose that token instead. With --database-url (or \
                    KEYFLEET_DATABASE_URL) the registry lives in PostgreSQL, and several servers may share it: start \
                    each with the same KEYFLEET_ADMIN_TOKEN. SIGTERM or SIGINT stops the server after the requests \
                    under way. With --metrics-listen, GET /metrics on that address (never on the API's) answers in \
                    the Prometheus text format without a token: counts and timings only, no names, keys or secrets, \
                    but they tell how many hosts are connected, so give it a loopback or monitoring-network address.
                    """
            )
        }

        @OptionGroup package var options: ServerOptions

        package init() {}

        package func run() async throws {
            try await Runner.run(options)
        }
    }

    /// `keyfleet server migrate`.
    package struct Migrate: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "migrate",
                abstract: "Copy an embedded registry into an empty PostgreSQL database, everything included.",
                discussion: """
                    Stop the registry's server first. Every table is copied (users and hashed tokens, projects, \
                    members, invitations, keys, hosts, clusters, enrollment and host credentials, the audit log with \
                    its numbers and times, the change version) in one PostgreSQL transaction, which checks the row \
                    count of every table before it commits; agents enrolled before keep working with a server \
                    started on the database. A database that holds any data is refused and left as it was. Prints \
                    one line: what was copied.
                    """)
        }

        @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory of the embedded registry to copy.", valueName: "dir"))
        package var dataDirectory: String?

        @Option(
            name: .customLong("to-database-url"),
            help: ArgumentHelp(
                "The empty PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=require|verify-full]. "
                    + "KEYFLEET_DATABASE_URL keeps the password out of ps.",
                valueName: "url"))
        package var databaseURL: String?

        @OptionGroup package var logging: LogOptions

        package init() {}

        package func run() async throws {
            try await Runner.migrate(self)
        }
    }

    /// `keyfleet server backup`.
    package struct Backup: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "backup",
                abstract: "Copy a running embedded registry into a file (SQLite's online backup).",
                discussion: """
                    The copy is one consistent state of the registry, taken without stopping its server, and \
                    written to a temporary file beside FILE (mode 0600), checked, then given its name; an existing \
                    FILE is never replaced. To restore, stop the server and put the copy in its data directory as \
                    keyfleet.sqlite. For a registry in PostgreSQL, use pg_dump.
                    """)
        }

        @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory of the embedded registry.", valueName: "dir"))
        package var dataDirectory: String?

        @Option(help: ArgumentHelp("The file to write; it must not exist.", valueName: "file"))
        package var output: String

        @OptionGroup package var logging: LogOptions

        package init() {}

        package func run() async throws {
            try await Runner.backup(self)
        }
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
        help: ArgumentHelp(
            "The keyfleet-agent .deb new hosts install when their image has no agent (with --agent-package-sha256).", valueName: "url"))
    package var agentPackageURL: String?

    @Option(
        name: .customLong("agent-package-sha256"),
        help: ArgumentHelp("The SHA-256 the agent package must have (64 hex digits).", valueName: "hex"))
    package var agentPackageSHA256: String?

    @Option(
        name: .customLong("metrics-listen"),
        help: ArgumentHelp(
            "Address and port of GET /metrics (Prometheus text format, no token; off when not given). "
                + "Keep it on loopback or a monitoring network.",
            valueName: "host:port"))
    package var metricsListen: String?

    @Option(
        name: .customLong("session-idle-timeout"),
        help: ArgumentHelp("How long a portal session lasts without a request (90s, 30m, 12h).", valueName: "duration"))
    package var sessionIdleTimeout = "30m"

    @Option(
        name: .customLong("session-lifetime"),
        help: ArgumentHelp("How long a portal session lasts at most after sign-in.", valueName: "duration"))
    package var sessionLifetime = "12h"

    @OptionGroup package var logging: LogOptions

    package init() {}
}
