package import ArgumentParser

/// What runs `keyfleet host-agent`'s commands once their options are parsed: the agent itself in
/// `keyfleet-agent`, and in `keyfleet-client`, whose command tree describes every command for help and
/// completion, a hand-over to `keyfleet-agent`.
package protocol HostAgentRunner {
    /// `keyfleet host-agent enroll`.
    static func enroll(_ options: HostAgentCommand<Self>.Enroll) async throws
    /// `keyfleet host-agent run`.
    static func run(_ options: HostAgentCommand<Self>.Run) async throws
    /// `keyfleet host-agent install`.
    static func install(_ options: HostAgentCommand<Self>.Install) async throws
    /// `keyfleet host-agent uninstall`.
    static func uninstall(_ options: HostAgentCommand<Self>.Uninstall) async throws
}

/// `keyfleet host-agent`: keeps this server's sshd in step with the registry. Declared once, here, with
/// every option and its help, and run by `Runner`: the help `keyfleet-agent` prints and the one in
/// `keyfleet-client`'s tree are the same text.
package struct HostAgentCommand<Runner: HostAgentRunner>: AsyncParsableCommand {
    package static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "host-agent",
            abstract: "Keep this server's sshd in step with the registry: enroll, run, install, uninstall.",
            subcommands: [Enroll.self, Run.self, Install.self, Uninstall.self]
        )
    }

    package init() {}

    /// `keyfleet host-agent enroll`.
    package struct Enroll: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "enroll",
                abstract: "Trade a one-time enrollment token for this host's credential.",
                discussion: """
                    Give --server and --token (and --ca-cert-hash for an https server whose certificate the system \
                    does not trust), or --config with the enrollment file cloud-init writes \
                    (/etc/keyfleet/enroll.json), which keeps the token out of the process list.
                    """)
        }

        @Option(help: ArgumentHelp("The registry's URL.", valueName: "url")) package var server: String?
        @Option(help: ArgumentHelp("The one-time enrollment token.", valueName: "token")) package var token: String?
        @Option(name: .customLong("ca-cert-hash"), help: ArgumentHelp("sha256:HEX of the certificate to pin.", valueName: "hash"))
        package var caCertHash: String?
        @Option(help: ArgumentHelp("An enrollment file (JSON with server, token, caCertHash).", valueName: "file"))
        package var config: String?
        @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where the credential is kept.", valueName: "dir"))
        package var stateDirectory = HostAgentDefaults.stateDirectory

        package init() {}

        package func run() async throws {
            try await Runner.enroll(self)
        }
    }

    /// `keyfleet host-agent run`.
    package struct Run: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "run",
                abstract: "Keep sshd in step with the registry until SIGTERM or SIGINT.",
                discussion: """
                    Serves the last keys received at once, then long-polls the registry. On any error it keeps \
                    the current keys and retries with backoff. --mode must match what install configured. When \
                    the registry says the host was deleted, it removes every key it manages and exits with status 0.
                    """)
        }

        @Option(name: .customLong("state-dir"), help: ArgumentHelp("The enrollment's directory.", valueName: "dir"))
        package var stateDirectory = HostAgentDefaults.stateDirectory
        @Option(
            help: ArgumentHelp(
                "files (AuthorizedKeysFile), command (AuthorizedKeysCommand) or legacy "
                    + "(a block in each user's ~/.ssh/authorized_keys, written as that user).",
                valueName: "mode"))
        package var mode: String = "files"
        @Option(
            name: .customLong("keys-dir"),
            help: ArgumentHelp(
                "Where the keys go (default /etc/ssh/keyfleet, or /var/lib/keyfleet-authorized for command; not used by legacy).", valueName: "dir"))
        package var keysDirectory: String?
        @Option(name: .customLong("host-keys-dir"), help: ArgumentHelp("Where ssh_host_*_key.pub are.", valueName: "dir"))
        package var hostKeysDirectory = "/etc/ssh"
        @Option(help: ArgumentHelp("Seconds each long-poll waits (1 to 60).", valueName: "seconds"))
        package var wait: Int32 = 30
        @OptionGroup package var logging: LogOptions

        package init() {}

        package func run() async throws {
            try await Runner.run(self)
        }
    }

    /// Options shared by install and uninstall.
    package struct SSHDOptions: ParsableArguments {
        @Option(name: .customLong("sshd-config"), help: ArgumentHelp("The main sshd configuration.", valueName: "file"))
        package var sshdConfig = "/etc/ssh/sshd_config"
        @Option(
            name: .customLong("sshd-pid-file"), help: ArgumentHelp("Reload sshd with SIGHUP to this pid instead of systemctl.", valueName: "file"))
        package var pidFile: String?
        @Flag(name: .customLong("no-reload"), help: "Do not reload sshd.")
        package var noReload = false

        package init() {}
    }

    /// `keyfleet host-agent install`.
    package struct Install: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(
                commandName: "install",
                abstract: "Point sshd at the agent's keys with a drop-in in sshd_config.d, checked with sshd -t before reloading.",
                discussion: """
                    Legacy mode has nothing to install: it exists for images whose sshd_config must not change, and \
                    sshd already reads ~/.ssh/authorized_keys. install --mode legacy changes nothing and says so.
                    """)
        }

        @Option(help: ArgumentHelp("files, command or legacy (nothing to install).", valueName: "mode")) package var mode: String = "files"
        @Option(name: .customLong("keys-dir"), help: ArgumentHelp("The agent's keys or cache directory.", valueName: "dir"))
        package var keysDirectory: String?
        @Option(name: .customLong("lookup-command"), help: ArgumentHelp("The keyfleet-authorized-keys executable (command mode).", valueName: "path"))
        package var lookupCommand = HostAgentDefaults.lookupCommand
        @Option(name: .customLong("lookup-user"), help: ArgumentHelp("The unprivileged AuthorizedKeysCommandUser.", valueName: "user"))
        package var lookupUser = "nobody"
        @OptionGroup package var sshd: SSHDOptions

        package init() {}

        package func run() async throws {
            try await Runner.install(self)
        }
    }

    /// `keyfleet host-agent uninstall`.
    package struct Uninstall: AsyncParsableCommand {
        package static var configuration: CommandConfiguration {
            CommandConfiguration(commandName: "uninstall", abstract: "Remove the sshd drop-in, checked with sshd -t before reloading.")
        }

        @OptionGroup package var sshd: SSHDOptions

        package init() {}

        package func run() async throws {
            try await Runner.uninstall(self)
        }
    }
}

/// The defaults of `keyfleet host-agent`'s options that name places on the host.
package enum HostAgentDefaults {
    /// The agent's state directory: the enrollment and the credential. KeyfleetAgent's
    /// `AgentState.defaultDirectory`; KeyfleetAgentTests holds the two equal.
    package static let stateDirectory = "/var/lib/keyfleet"
    /// `keyfleet-authorized-keys`, where the keyfleet-agent Debian package installs it (scripts/build-debs.sh).
    package static let lookupCommand = "/usr/bin/keyfleet-authorized-keys"
}
