import KeyfleetCLI
import KeyfleetCommandLine
import Foundation
import KeyfleetAgent
import Logging
import ServiceLifecycle

/// Runs `keyfleet host-agent`'s commands in this process.
enum AgentMain: HostAgentRunner {
    static func enroll(_ options: HostAgentCommand<Self>.Enroll) async throws {
        var server = options.server
        var token = options.token
        var caCertHash = options.caCertHash
        if let config = options.config {
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
                serverURL: server, token: token, caCertHash: caCertHash, stateDirectory: options.stateDirectory,
                hostname: hostname(), connect: AgentConnection.registry)
        }
        Terminal.print("Enrolled as host \(Terminal.safe(host)); the credential is in \(Terminal.safe(options.stateDirectory)).")
    }

    static func hostname() -> String? {
        let name = ProcessInfo.processInfo.hostName
        let allowed = name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x2D
        }
        return name.utf8.count <= 255 && allowed && !name.isEmpty ? name : nil
    }

    static func run(_ options: HostAgentCommand<Self>.Run) async throws {
        guard let mode = DeliveryMode(rawValue: options.mode) else { throw CLIError.usage("--mode must be files, command or legacy") }
        guard (1...60).contains(options.wait) else { throw CLIError.usage("--wait must be 1 to 60 seconds") }
        let logger = try options.logging.bootstrap(label: "keyfleet.host-agent")
        let agent = HostAgent(
            configuration: HostAgentConfiguration(
                stateDirectory: options.stateDirectory, mode: mode, keysDirectory: options.keysDirectory,
                hostKeysDirectory: options.hostKeysDirectory, wait: options.wait),
            logger: logger, connect: AgentConnection.registry)
        // The agent returns by itself only once the registry deleted the host and its keys are gone:
        // the group then ends as after SIGTERM, and the process exits with status 0.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await AgentCommandError.wrap { try await group.run() }
    }

    static func install(_ options: HostAgentCommand<Self>.Install) async throws {
        guard let mode = DeliveryMode(rawValue: options.mode) else { throw CLIError.usage("--mode must be files, command or legacy") }
        // A no-op that succeeds, so provisioning can run install then run for every mode alike; nothing
        // is read or written, and sshd is not reloaded.
        if mode == .legacy {
            Terminal.print(
                "Legacy mode: nothing to install; sshd_config is unchanged and sshd reads ~/.ssh/authorized_keys as it is. "
                    + "Start host-agent run --mode legacy.")
            Terminal.print(
                "Note: legacy mode cannot stop an account's own user from copying a managed line outside the keyfleet block; "
                    + "the agent reports such lines that carry a revoked key (keyfleet host describe, the audit log) and leaves them.")
            return
        }
        let installer = SSHDInstaller(
            sshdConfig: options.sshd.sshdConfig, mode: mode, keysDirectory: options.keysDirectory, lookupCommand: options.lookupCommand,
            lookupUser: options.lookupUser, reload: reload(options.sshd))
        try AgentCommandError.wrapSync { try installer.install() }
        Terminal.print("Installed \(Terminal.safe(installer.dropInPath)) (\(mode.rawValue) mode); sshd -t passed.")
    }

    static func uninstall(_ options: HostAgentCommand<Self>.Uninstall) async throws {
        let installer = SSHDInstaller(sshdConfig: options.sshd.sshdConfig, mode: .files, reload: reload(options.sshd))
        try AgentCommandError.wrapSync { try installer.uninstall() }
        Terminal.print("Removed \(Terminal.safe(installer.dropInPath)); sshd -t passed.")
    }

    private static func reload(_ options: HostAgentCommand<Self>.SSHDOptions) -> SSHDInstaller.Reload {
        if options.noReload { return .none }
        if let pidFile = options.pidFile { return .pidFile(pidFile) }
        return .systemd
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
