import KeyfleetCLI
import KeyfleetCommandLine
import ArgumentParser
import Foundation
import KeyfleetAgent
import Logging
import ServiceLifecycle

/// `keyfleet host-agent`: keeps this server's sshd in step with the registry.
package struct HostAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host-agent",
        abstract: "Keep this server's sshd in step with the registry: enroll, run, install, uninstall.",
        subcommands: [Enroll.self, Run.self, Install.self, Uninstall.self]
    )

    /// `keyfleet host-agent enroll`.
    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Trade a one-time enrollment token for this host's credential.",
            discussion: """
                Give --server and --token (and --ca-cert-hash for an https server whose certificate the system \
                does not trust), or --config with the enrollment file cloud-init writes \
                (/etc/keyfleet/enroll.json), which keeps the token out of the process list.
                """)

        @Option(help: ArgumentHelp("The registry's URL.", valueName: "url")) var server: String?
        @Option(help: ArgumentHelp("The one-time enrollment token.", valueName: "token")) var token: String?
        @Option(name: .customLong("ca-cert-hash"), help: ArgumentHelp("sha256:HEX of the certificate to pin.", valueName: "hash"))
        var caCertHash: String?
        @Option(help: ArgumentHelp("An enrollment file (JSON with server, token, caCertHash).", valueName: "file"))
        var config: String?
        @Option(name: .customLong("state-dir"), help: ArgumentHelp("Where the credential is kept.", valueName: "dir"))
        var stateDirectory = AgentState.defaultDirectory

        func run() async throws {
            var server = self.server
            var token = self.token
            var caCertHash = self.caCertHash
            if let config {
                let file = try EnrollmentFile.read(config)
                server = server ?? file.server
                token = token ?? file.token
                caCertHash = caCertHash ?? file.caCertHash
            }
            guard let server, let token else {
                throw CLIError.usage("give --server and --token, or --config with an enrollment file")
            }
            let host = try await AgentCommandError.wrap {
                try await HostAgent.enroll(
                    serverURL: server, token: token, caCertHash: caCertHash, stateDirectory: stateDirectory,
                    hostname: Self.hostname())
            }
            Terminal.print("Enrolled as host \(Terminal.safe(host)); the credential is in \(Terminal.safe(stateDirectory)).")
        }

        static func hostname() -> String? {
            let name = ProcessInfo.processInfo.hostName
            return name.utf8.count <= 255 && name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x2D }) && !name.isEmpty ? name : nil
        }
    }

    /// `keyfleet host-agent run`.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep sshd in step with the registry until SIGTERM or SIGINT.",
            discussion: """
                Serves the last keys received at once, then long-polls the registry. On any error it keeps \
                the current keys and retries with backoff. --mode must match what install configured. When \
                the registry says the host was deleted, it removes every key it manages and exits with status 0.
                """)

        @Option(name: .customLong("state-dir"), help: ArgumentHelp("The enrollment's directory.", valueName: "dir"))
        var stateDirectory = AgentState.defaultDirectory
        @Option(
            help: ArgumentHelp(
                "files (AuthorizedKeysFile), command (AuthorizedKeysCommand) or legacy (a block in each user's ~/.ssh/authorized_keys, written as that user).",
                valueName: "mode"))
        var mode: String = "files"
        @Option(name: .customLong("keys-dir"), help: ArgumentHelp("Where the keys go (default /etc/ssh/keyfleet, or /var/lib/keyfleet-authorized for command; not used by legacy).", valueName: "dir"))
        var keysDirectory: String?
        @Option(name: .customLong("host-keys-dir"), help: ArgumentHelp("Where ssh_host_*_key.pub are.", valueName: "dir"))
        var hostKeysDirectory = "/etc/ssh"
        @Option(help: ArgumentHelp("Seconds each long-poll waits (1 to 60).", valueName: "seconds"))
        var wait: Int32 = 30
        @OptionGroup var logging: LogOptions

        func run() async throws {
            guard let mode = DeliveryMode(rawValue: mode) else { throw CLIError.usage("--mode must be files, command or legacy") }
            guard (1...60).contains(wait) else { throw CLIError.usage("--wait must be 1 to 60 seconds") }
            let logger = try logging.bootstrap(label: "keyfleet.host-agent")
            let agent = HostAgent(
                configuration: HostAgentConfiguration(
                    stateDirectory: stateDirectory, mode: mode, keysDirectory: keysDirectory, hostKeysDirectory: hostKeysDirectory, wait: wait),
                logger: logger)
            // The agent returns by itself only once the registry deleted the host and its keys are gone:
            // the group then ends as after SIGTERM, and the process exits with status 0.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await AgentCommandError.wrap { try await group.run() }
        }
    }

    /// Options shared by install and uninstall.
    struct SSHDOptions: ParsableArguments {
        @Option(name: .customLong("sshd-config"), help: ArgumentHelp("The main sshd configuration.", valueName: "file"))
        var sshdConfig = "/etc/ssh/sshd_config"
        @Option(name: .customLong("sshd-pid-file"), help: ArgumentHelp("Reload sshd with SIGHUP to this pid instead of systemctl.", valueName: "file"))
        var pidFile: String?
        @Flag(name: .customLong("no-reload"), help: "Do not reload sshd.")
        var noReload = false

        var reload: SSHDInstaller.Reload {
            if noReload { return .none }
            if let pidFile { return .pidFile(pidFile) }
            return .systemd
        }
    }

    /// `keyfleet host-agent install`.
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point sshd at the agent's keys with a drop-in in sshd_config.d, checked with sshd -t before reloading.",
            discussion: """
                Legacy mode has nothing to install: it exists for images whose sshd_config must not change, and \
                sshd already reads ~/.ssh/authorized_keys. install --mode legacy changes nothing and says so.
                """)

        @Option(help: ArgumentHelp("files, command or legacy (nothing to install).", valueName: "mode")) var mode: String = "files"
        @Option(name: .customLong("keys-dir"), help: ArgumentHelp("The agent's keys or cache directory.", valueName: "dir"))
        var keysDirectory: String?
        @Option(name: .customLong("lookup-command"), help: ArgumentHelp("The keyfleet-authorized-keys executable (command mode).", valueName: "path"))
        var lookupCommand = "/usr/local/bin/keyfleet-authorized-keys"
        @Option(name: .customLong("lookup-user"), help: ArgumentHelp("The unprivileged AuthorizedKeysCommandUser.", valueName: "user"))
        var lookupUser = "nobody"
        @OptionGroup var sshd: SSHDOptions

        func run() async throws {
            guard let mode = DeliveryMode(rawValue: mode) else { throw CLIError.usage("--mode must be files, command or legacy") }
            // A no-op that succeeds, so provisioning can run install then run for every mode alike; nothing
            // is read or written, and sshd is not reloaded.
            if mode == .legacy {
                Terminal.print(
                    "Legacy mode: nothing to install; sshd_config is unchanged and sshd reads ~/.ssh/authorized_keys as it is. Start host-agent run --mode legacy.")
                Terminal.print(
                    "Note: legacy mode cannot stop an account's own user from copying a managed line outside the keyfleet block; "
                        + "the agent reports such lines that carry a revoked key (keyfleet host describe, the audit log) and leaves them.")
                return
            }
            let installer = SSHDInstaller(
                sshdConfig: sshd.sshdConfig, mode: mode, keysDirectory: keysDirectory, lookupCommand: lookupCommand,
                lookupUser: lookupUser, reload: sshd.reload)
            try AgentCommandError.wrapSync { try installer.install() }
            Terminal.print("Installed \(Terminal.safe(installer.dropInPath)) (\(mode.rawValue) mode); sshd -t passed.")
        }
    }

    /// `keyfleet host-agent uninstall`.
    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the sshd drop-in, checked with sshd -t before reloading.")

        @OptionGroup var sshd: SSHDOptions

        func run() async throws {
            let installer = SSHDInstaller(sshdConfig: sshd.sshdConfig, mode: .files, reload: sshd.reload)
            try AgentCommandError.wrapSync { try installer.uninstall() }
            Terminal.print("Removed \(Terminal.safe(installer.dropInPath)); sshd -t passed.")
        }
    }
}

/// The enrollment file cloud-init writes.
enum EnrollmentFile {
    struct Contents: Decodable {
        var server: String
        var token: String
        var caCertHash: String?
    }

    static func read(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("\(Terminal.safe(path)): cannot read the enrollment file")
        }
        do {
            return try JSONDecoder().decode(Contents.self, from: data)
        } catch {
            throw CLIError("\(Terminal.safe(path)): not an enrollment file (JSON with server, token and caCertHash)")
        }
    }
}

/// Turns an ``AgentError`` into the CLI's one-line error.
enum AgentCommandError {
    static func wrap<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AgentError {
            throw CLIError(error.description)
        }
    }

    static func wrapSync<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AgentError {
            throw CLIError(error.description)
        }
    }
}
