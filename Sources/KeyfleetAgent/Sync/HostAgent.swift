internal import AuthorizedKeysCache
internal import Foundation
internal import KeyfleetCore
public import Logging
internal import NIOSSL
public import ServiceLifecycle

/// Where and how the agent keeps a host's sshd in step with the registry.
public struct HostAgentConfiguration: Sendable {
    /// The state directory (enrollment, credential, last answer).
    public var stateDirectory: String
    /// Files for `AuthorizedKeysFile`, the cache for `keyfleet-authorized-keys`, or users' own files.
    public var mode: DeliveryMode
    /// Where the files (or the cache) go; not used in legacy mode.
    public var keysDirectory: String
    /// Where the host's `ssh_host_*_key.pub` files are.
    public var hostKeysDirectory: String
    /// How long each long-poll asks the server to wait, in seconds.
    public var wait: Int32

    /// The default keys directory of `mode`. The lookup cache has its own directory, outside the state
    /// directory (0700, the credential's), because sshd's unprivileged lookup user must reach it.
    public static func defaultKeysDirectory(_ mode: DeliveryMode) -> String {
        switch mode {
        case .files: "/etc/ssh/keyfleet"
        case .command: CacheFile.defaultDirectory
        case .legacy: ""  // each user's ~/.ssh/authorized_keys
        }
    }

    /// A configuration.
    public init(
        stateDirectory: String = AgentState.defaultDirectory, mode: DeliveryMode = .files, keysDirectory: String? = nil,
        hostKeysDirectory: String = "/etc/ssh", wait: Int32 = 30
    ) {
        self.stateDirectory = stateDirectory
        self.mode = mode
        self.keysDirectory = keysDirectory ?? Self.defaultKeysDirectory(mode)
        self.hostKeysDirectory = hostKeysDirectory
        self.wait = wait
    }
}

/// `keyfleet host-agent run`: serves the last good keys at once, then long-polls the server and applies
/// every complete, checked answer. Errors never shrink the key set (fail static): the agent keeps its
/// files, retries with backoff and jitter, and logs once per change of state.
public struct HostAgent: Service {
    /// The agent's version, sent to the server.
    public static let version = "0.4.0"

    let configuration: HostAgentConfiguration
    let logger: Logger
    let applied: (@Sendable (AccessSet) -> Void)?

    /// An agent; `applied`, when given, is told each set right after it was written (for benchmarks).
    public init(configuration: HostAgentConfiguration, logger: Logger, applied: (@Sendable (AccessSet) -> Void)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.applied = applied
    }

    /// Trades `token` for the host's credential and keeps it, with the server pin, in the state directory.
    ///
    /// With `caCertHash`, the server's chain must hold a certificate with that hash, which becomes the only
    /// trust root; without it an https server must have a certificate the system trusts.
    public static func enroll(
        serverURL: String, token: String, caCertHash: String?, stateDirectory: String, hostname: String?
    ) async throws(AgentError) -> String {
        guard let url = URL(string: serverURL), let scheme = url.scheme, let host = url.host, scheme == "https" || scheme == "http" else {
            throw AgentError(.usage, "--server \"\(AgentError.printable(serverURL))\" is not an http(s) URL")
        }
        guard SecretText.isWellFormed(token) else {
            throw AgentError(.usage, "the enrollment token is not 16 to 512 URL-safe characters")
        }
        var server = AgentState.Server(url: serverURL, host: "", caCertHash: nil, caCertificatePEM: nil, pinnedLeaf: nil)
        if let caCertHash {
            guard CertificatePin.isWellFormed(caCertHash) else {
                throw AgentError(.usage, "--ca-cert-hash must be sha256: and 64 lower-case hex digits")
            }
            guard scheme == "https" else { throw AgentError(.usage, "--ca-cert-hash needs an https:// server URL") }
            let (certificate, isLeaf) = try await ServerPin.fetchPinned(host: host, port: url.port ?? 443, pin: caCertHash)
            do {
                server.caCertificatePEM = try certificatePEM(certificate)
            } catch {
                throw AgentError.local("cannot keep the pinned certificate: \(error)")
            }
            server.caCertHash = caCertHash
            server.pinnedLeaf = isLeaf
        }
        let client = try AgentClient(server: server, credential: nil)
        let result: (host: String, credential: String)
        do {
            result = try await client.enroll(token: token, hostname: hostname)
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
        server.host = result.host
        try AgentState(directory: stateDirectory).saveEnrollment(server: server, credential: result.credential)
        return result.host
    }

    private static func certificatePEM(_ certificate: NIOSSLCertificate) throws -> String {
        let der = try certificate.toDERBytes()
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }

    /// Runs until the service group shuts down.
    public func run() async throws {
        let state = AgentState(directory: configuration.stateDirectory)
        let (server, credential) = try state.loadEnrollment()
        // Legacy mode records the logins it wrote a block for in the state directory.
        let writer = KeysWriter(
            mode: configuration.mode,
            directory: configuration.mode == .legacy ? configuration.stateDirectory : configuration.keysDirectory)
        var logger = self.logger
        logger[metadataKey: "host.id"] = "\(server.host)"
        func logRefused(_ refused: [String: String]) {
            for (login, reason) in refused.sorted(by: { $0.key < $1.key }) {
                logger.error("refused to write the keys of a login", metadata: ["login": "\(login)", "error": "\(reason)"])
            }
        }

        var current = state.loadAccess()
        if let current {
            do {
                logRefused(try writer.apply(current))
                logger.info("serving the last keys received", metadata: ["sync.version": "\(current.version)"])
            } catch {
                logger.error("cannot write the last keys received", metadata: ["error": "\(error.description)"])
            }
        }
        let client = try AgentClient(server: server, credential: credential)
        // Reports go through their own task, newest first and after a little jitter, so a thousand hosts
        // that applied one revocation do not all call the server back while it still answers the others.
        let (reports, reportQueue) = AsyncStream.makeStream(of: Int64?.self, bufferingPolicy: .bufferingNewest(1))
        let reportLogger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendReports(reports, client: client, logger: reportLogger) }
            reportQueue.yield(current?.version)
            var monitor = StateMonitor(logger: logger)
            var failures = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    let version = current?.version ?? 0
                    let wait = configuration.wait
                    let outcome = try await cancelWhenGracefulShutdown {
                        try await client.sync(version: version, wait: wait)
                    }
                    if case .changed(let access) = outcome {
                        logRefused(try writer.apply(access))
                        // sshd reads the new keys from here on.
                        applied?(access)
                        try state.saveAccess(access)
                        let lines = access.logins.values.reduce(0) { $0 + $1.count }
                        logger.info(
                            "applied the host's keys",
                            metadata: ["sync.version": "\(access.version)", "logins": "\(access.logins.count)", "keys": "\(lines)"])
                        current = access
                        reportQueue.yield(access.version)
                    }
                    failures = 0
                    monitor.succeeded()
                } catch let error as AgentError {
                    failures += 1
                    monitor.failed(error)
                    if (try? await Task.sleep(for: Self.backoff(failures: failures, revoked: error.code == .revoked))) == nil { break }
                } catch is CancellationError {
                    break
                } catch {
                    failures += 1
                    monitor.failed(AgentError(.unreachable, "\(error)"))
                    if (try? await Task.sleep(for: Self.backoff(failures: failures, revoked: false))) == nil { break }
                }
            }
            reportQueue.finish()
            group.cancelAll()
        }
        await client.shutdown()
    }

    /// Sends the newest report after up to 3 s of jitter, until the queue ends or the task is cancelled.
    private func sendReports(_ reports: AsyncStream<Int64?>, client: AgentClient, logger: Logger) async {
        for await applied in reports {
            guard (try? await Task.sleep(for: .milliseconds(Int.random(in: 0...3000)))) != nil else { return }
            await report(client, applied: applied, error: nil, logger: logger)
        }
    }

    /// Exponential backoff from 0.5 s up to 30 s (5 min once revoked), with full jitter in its upper half.
    static func backoff(failures: Int, revoked: Bool) -> Duration {
        let ceiling = revoked ? 300.0 : 30.0
        let base = min(ceiling, 0.5 * pow(2.0, Double(min(failures - 1, 16))))
        return .milliseconds(Int(base * Double.random(in: 0.5...1.0) * 1000))
    }

    private func report(_ client: AgentClient, applied: Int64?, error: String?, logger: Logger) async {
        do {
            try await client.report(appliedVersion: applied, hostKeys: hostKeys(), error: error)
        } catch {
            logger.debug("the report did not reach the server", metadata: ["error": "\(error.description)"])
        }
    }

    /// The host's public host keys, `ssh_host_*_key.pub` in the host keys directory (at most 16).
    func hostKeys() -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: configuration.hostKeysDirectory) else { return [] }
        return names.filter { $0.hasPrefix("ssh_host_") && $0.hasSuffix("_key.pub") }.sorted().prefix(16).compactMap { name in
            guard let text = try? String(contentsOfFile: configuration.hostKeysDirectory + "/" + name, encoding: .utf8) else { return nil }
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return line.isEmpty || line.utf8.count > 16384 || line.contains("\n") ? nil : line
        }
    }
}

/// Logs the agent's state only when it changes: once when the server becomes unreachable, once when
/// it is back.
struct StateMonitor {
    let logger: Logger
    private var lastFailure: AgentError.Code?
    private var everSucceeded = false

    init(logger: Logger) {
        self.logger = logger
    }

    mutating func succeeded() {
        if let lastFailure {
            logger.notice("in step with the server again", metadata: ["previous": "\(lastFailure.rawValue)"])
        } else if !everSucceeded {
            logger.info("in step with the server")
        }
        lastFailure = nil
        everSucceeded = true
    }

    mutating func failed(_ error: AgentError) {
        guard lastFailure != error.code else { return }
        lastFailure = error.code
        switch error.code {
        case .revoked:
            logger.critical(
                "the server revoked this host's credential; keeping the current keys and any break-glass key",
                metadata: ["error": "\(error.description)"])
        default:
            logger.warning("keeping the current keys; will retry", metadata: ["reason": "\(error.code.rawValue)", "error": "\(error.description)"])
        }
    }
}
