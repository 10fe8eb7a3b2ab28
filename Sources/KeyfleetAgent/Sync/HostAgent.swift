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
    /// How long one call to the server may take before the agent gives it up as a timeout and keeps its
    /// keys (longer than ``wait``).
    public var callTimeout: Duration

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
        hostKeysDirectory: String = "/etc/ssh", wait: Int32 = 30, callTimeout: Duration = .seconds(90)
    ) {
        self.stateDirectory = stateDirectory
        self.mode = mode
        self.keysDirectory = keysDirectory ?? Self.defaultKeysDirectory(mode)
        self.hostKeysDirectory = hostKeysDirectory
        self.wait = wait
        self.callTimeout = callTimeout
    }
}

/// `keyfleet host-agent run`: serves the last good keys at once, then long-polls the server and applies
/// every complete, checked answer. Errors never shrink the key set (fail static): the agent keeps its
/// files, retries with backoff and jitter, and logs once per change of state.
///
/// One answer is an instruction rather than a fault: 410 `host-deleted`, the registry deleted this host.
/// The agent then removes every key it manages, forgets its last answer and returns, so the process exits
/// with status 0 (the systemd unit restarts it only on failure).
///
/// The agent reaches the registry through the ``AgentConnection`` that `connect` makes from the enrollment
/// (``AgentConnection/registry(server:credential:)`` in production), so any implementation of the
/// contract's API can stand in for the server.
public struct HostAgent: Service {
    let configuration: HostAgentConfiguration
    let logger: Logger
    let connect: AgentConnector
    let applied: (@Sendable (AccessSet) -> Void)?
    /// Legacy mode: finds a login's account (the system's user database; tests hand in their own).
    var legacyAccounts: @Sendable (String) -> LegacyAccount? = LegacyAccount.system

    /// An agent reaching the registry through what `connect` makes; `applied`, when given, is told each set
    /// right after it was written (for benchmarks).
    public init(
        configuration: HostAgentConfiguration, logger: Logger, connect: @escaping AgentConnector = AgentConnection.registry,
        applied: (@Sendable (AccessSet) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.connect = connect
        self.applied = applied
    }

    /// Trades `token` for the host's credential and keeps it, with the server pin, in the state directory.
    ///
    /// With `caCertHash`, the server's chain must hold a certificate with that hash, which becomes the only
    /// trust root; without it an https server must have a certificate the system trusts. The call goes
    /// through what `connect` makes of the server (``AgentConnection/registry(server:credential:)``).
    public static func enroll(
        serverURL: String, token: String, caCertHash: String?, stateDirectory: String, hostname: String?,
        connect: AgentConnector = AgentConnection.registry
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
            let (certificate, isLeaf) = try await AgentClient.fetchPinned(host: host, port: url.port ?? 443, pin: caCertHash)
            do {
                server.caCertificatePEM = try certificatePEM(certificate)
            } catch {
                throw AgentError.local("cannot keep the pinned certificate: \(error)")
            }
            server.caCertHash = caCertHash
            server.pinnedLeaf = isLeaf
        }
        let client = AgentClient(connection: try connect(server, nil))
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

    /// Runs until the service group shuts down, or returns by itself once the registry said the host was
    /// deleted and every key the agent manages is gone.
    ///
    /// What is on disk and what the server is told follow one rule: the newest complete answer is written
    /// before anything else happens, retried with backoff until it lands, and only the version actually
    /// written is reported as applied. A graceful shutdown (SIGTERM, SIGINT) ends every wait at once.
    public func run() async throws {
        let state = AgentState(directory: configuration.stateDirectory)
        let (server, credential) = try state.loadEnrollment()
        // Legacy mode records the logins it wrote a block for in the state directory.
        let writer = KeysWriter(
            mode: configuration.mode,
            directory: configuration.mode == .legacy ? configuration.stateDirectory : configuration.keysDirectory,
            legacyAccounts: legacyAccounts)
        var logger = self.logger
        logger[metadataKey: "host.id"] = "\(server.host)"
        let client = AgentClient(connection: try connect(server, credential), deadline: configuration.callTimeout)
        // Reports go through their own task, newest first and after a little jitter, so a thousand hosts
        // that applied one revocation do not all call the server back while it still answers the others.
        let (reports, reportQueue) = AsyncStream.makeStream(of: Report.self, bufferingPolicy: .bufferingNewest(1))
        let reportLogger = logger
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendReports(reports, client: client, logger: reportLogger) }
            await self.syncLoop(state: state, writer: writer, client: client, reports: reportQueue, logger: logger)
            reportQueue.finish()
            group.cancelAll()
        }
        await client.shutdown()
    }

    /// What the agent tells the server after a write, or after a write failed.
    struct Report: Sendable {
        /// The version on disk, nil when nothing was written yet.
        var applied: Int64?
        /// Why the newest answer is not on disk, if it is not.
        var error: String?
        /// Legacy mode: lines outside the blocks carrying keys revoked for their login.
        var strays: [StrayKey] = []
    }

    /// The loop of ``run()``: write what is pending, else long-poll; back off after failures.
    private func syncLoop(
        state: AgentState, writer: KeysWriter, client: AgentClient, reports: AsyncStream<Report>.Continuation, logger: Logger
    ) async {
        // The newest complete answer, and the version of it on disk (nil until this run wrote one).
        var current = state.loadAccess()
        var written: Int64?
        var restored = current != nil
        // Logins the writer refused (legacy mode: a ~/.ssh it must not write, an account missing...). The
        // others do not wait for them, nor do syncs; they are tried again once per round, so one fixed on
        // the host gets its keys without a change in the registry. Logged when they change.
        var refused: [String: String] = [:]
        func noteRefused(_ now: [String: String]) {
            for (login, reason) in now.sorted(by: { $0.key < $1.key }) where refused[login] != reason {
                logger.error("refused to write the keys of a login", metadata: ["login": "\(login)", "error": "\(reason)"])
            }
            for login in refused.keys.sorted() where now[login] == nil {
                logger.notice("wrote the keys of a login refused before", metadata: ["login": "\(login)"])
            }
            refused = now
        }
        // Legacy mode: revoked keys found outside the blocks, rescanned every round (a user may copy a line at
        // any time); reported when they change, logged once each.
        var strays: [StrayKey] = []
        func noteStrays(_ now: [StrayKey]) -> Bool {
            let sorted = now.sorted()
            guard sorted != strays else { return false }
            for stray in sorted where !strays.contains(stray) {
                logger.warning(
                    "a revoked key is still in a user's authorized_keys, outside the keyfleet block; it is the user's line and is left alone",
                    metadata: ["login": "\(stray.login)", "line": "\(stray.line)", "key.fingerprint": "\(stray.fingerprint)"])
            }
            strays = sorted
            return true
        }
        func refusal() -> String? {
            refused.isEmpty ? nil : refused.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        }
        if current == nil { reports.yield(Report(applied: nil, error: nil)) }
        var monitor = StateMonitor(logger: logger)
        var writeFailures = 0
        var syncFailures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // 1. The newest answer goes to disk first, however long that takes: until it lands, sshd reads
            //    the previous keys (fail static) and the server hears only the version actually written.
            if let access = current, written != access.version || !refused.isEmpty || configuration.mode == .legacy {
                do {
                    let wasRefused = refused
                    let outcome = try writer.applyReporting(access)
                    noteRefused(outcome.refused)
                    let straysChanged = noteStrays(outcome.strays)
                    if written != access.version {
                        written = access.version
                        writeFailures = 0
                        // sshd reads the new keys from here on.
                        applied?(access)
                        let lines = access.logins.values.reduce(0) { $0 + $1.count }
                        logger.info(
                            restored ? "serving the last keys received" : "applied the host's keys",
                            metadata: ["sync.version": "\(access.version)", "logins": "\(access.logins.count)", "keys": "\(lines)"])
                        reports.yield(Report(applied: written, error: refusal(), strays: strays))
                        if restored { monitor.wrote() } else { monitor.succeeded() }
                    } else if wasRefused != refused || straysChanged {
                        reports.yield(Report(applied: written, error: refusal(), strays: strays))
                    }
                } catch {
                    writeFailures += 1
                    monitor.failed(error)
                    reports.yield(Report(applied: written, error: error.description, strays: strays))
                    guard await pause(Self.backoff(failures: writeFailures, revoked: false), logger: logger) else { break }
                    continue
                }
            }
            // 2. Nothing pending: ask the server for what changed.
            do {
                let version = current?.version ?? 0
                let wait = configuration.wait
                let outcome = try await cancelWhenGracefulShutdown {
                    try await client.sync(version: version, wait: wait)
                }
                syncFailures = 0
                switch outcome {
                case .changed(let access):
                    // Kept first, so that a restart never serves an older answer than the one on disk.
                    do {
                        try state.saveAccess(access)
                    } catch {
                        logger.error(
                            "cannot keep the last answer; a restarted agent waits for the server", metadata: ["error": "\(error.description)"])
                        try? state.removeAccess()
                    }
                    current = access
                    restored = false
                case .unchanged:
                    monitor.succeeded()
                case .hostDeleted:
                    logger.critical(
                        "the registry deleted this host; removing every key the agent manages, then stopping",
                        metadata: ["mode": "\(configuration.mode.rawValue)"])
                    await removeEverything(state: state, writer: writer, logger: logger)
                    return
                }
            } catch is CancellationError {
                break
            } catch {
                // A sync cut short by SIGTERM or SIGINT is no failure to report.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                // Any failure keeps the keys on disk as they are (fail static).
                let failure = error as? AgentError ?? AgentError(.unreachable, "\(error)")
                syncFailures += 1
                monitor.failed(failure)
                let backoff = Self.backoff(failures: syncFailures, revoked: failure.code == .revoked)
                guard await pause(backoff, logger: logger) else { break }
            }
        }
    }

    /// After the registry deleted the host: forgets the last answer (so a restart cannot serve it again),
    /// then removes every key the agent manages, retrying with backoff until that lands or the agent is
    /// stopped. Files the agent did not write stay.
    private func removeEverything(state: AgentState, writer: KeysWriter, logger: Logger) async {
        var failures = 0
        var lastFailure: String?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do throws(AgentError) {
                try state.removeAccess()
                let refused = try writer.removeAll()
                guard refused.isEmpty else {
                    let logins = refused.keys.sorted().joined(separator: ", ")
                    throw AgentError.local(
                        "the keys of \(logins) could not be removed: \(refused.sorted(by: { $0.key < $1.key }).map(\.value).joined(separator: "; "))")
                }
                logger.notice("removed every key the agent manages; stopping", metadata: ["mode": "\(configuration.mode.rawValue)"])
                return
            } catch {
                failures += 1
                if lastFailure != error.description {
                    lastFailure = error.description
                    logger.error("cannot remove the keys of the deleted host; will retry", metadata: ["error": "\(error.description)"])
                }
                guard await pause(Self.backoff(failures: failures, revoked: false), logger: logger) else { return }
            }
        }
    }

    /// Sleeps for `duration` unless the agent is stopped first; false when it was (SIGTERM or SIGINT end the
    /// wait at once, whatever its length).
    private func pause(_ duration: Duration, logger: Logger) async -> Bool {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        logger.debug("waiting before the next attempt", metadata: ["retry.seconds": "\(String(format: "%.1f", seconds))"])
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
            return !Task.isShuttingDownGracefully
        } catch {
            return false
        }
    }

    /// Sends the newest report after up to 3 s of jitter, until the queue ends or the task is cancelled.
    private func sendReports(_ reports: AsyncStream<Report>, client: AgentClient, logger: Logger) async {
        for await report in reports {
            guard (try? await Task.sleep(for: .milliseconds(Int.random(in: 0...3000)))) != nil else { return }
            await self.report(client, report, logger: logger)
        }
    }

    /// Exponential backoff from 0.5 s up to 30 s (5 min once revoked), with full jitter in its upper half.
    static func backoff(failures: Int, revoked: Bool) -> Duration {
        let ceiling = revoked ? 300.0 : 30.0
        let base = min(ceiling, 0.5 * pow(2.0, Double(min(max(failures, 1) - 1, 16))))
        return .milliseconds(Int(base * Double.random(in: 0.5...1.0) * 1000))
    }

    private func report(_ client: AgentClient, _ report: Report, logger: Logger) async {
        do {
            try await client.report(
                appliedVersion: report.applied, hostKeys: hostKeys(), error: report.error, delivery: configuration.mode, strays: report.strays)
        } catch {
            logger.debug("the report did not reach the server", metadata: ["error": "\(error.description)"])
        }
    }

    /// The host's public host keys, `ssh_host_*_key.pub` in the host keys directory (at most 16), each read
    /// only if it is a regular file of at most 16 KiB: a FIFO or a device there would block the report task
    /// in a read nothing can cancel, and the agent could no longer stop.
    func hostKeys() -> [String] {
        guard let directory = try? SafeDirectory(configuration.hostKeysDirectory, create: false), let names = try? directory.regularFiles() else {
            return []
        }
        return names.filter { $0.hasPrefix("ssh_host_") && $0.hasSuffix("_key.pub") }.prefix(16).compactMap { name in
            guard let bytes = try? directory.read(name, limit: 16384) else { return nil }
            let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return line.isEmpty || line.contains("\n") ? nil : line
        }
    }
}

/// Logs the agent's state only when it changes: once when the server becomes unreachable or the keys
/// cannot be written, once when all is well again. "In step" is said only once the newest answer is on disk.
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

    /// The keys the agent had kept are on disk, before the server answered: ends a write failure.
    mutating func wrote() {
        guard lastFailure == .local else { return }
        logger.notice("wrote the host's keys after all")
        lastFailure = nil
    }

    mutating func failed(_ error: AgentError) {
        guard lastFailure != error.code else { return }
        lastFailure = error.code
        switch error.code {
        case .revoked:
            logger.critical(
                "the server revoked this host's credential; keeping the current keys and any break-glass key",
                metadata: ["reason": "\(error.code.rawValue)", "error": "\(error.description)"])
        case .local:
            logger.error(
                "cannot write the host's keys; sshd keeps reading the previous ones; will retry",
                metadata: ["reason": "\(error.code.rawValue)", "error": "\(error.description)"])
        default:
            logger.warning("keeping the current keys; will retry", metadata: ["reason": "\(error.code.rawValue)", "error": "\(error.description)"])
        }
    }
}
