internal import KeyfleetAPI
internal import KeyfleetClient
internal import KeyfleetCore
internal import KeyfleetVersion
internal import NIOSSL

/// The agent's side of `/v1/agent/*`, through an ``AgentConnection``: any implementation of the contract's
/// generated API (in production the generated client over an HTTP client that trusts only the pinned
/// certificate when there is one, with every answer cut at its limit while it arrives).
///
/// Every call has a deadline of its own, whatever the API does: a call still running when it passes is
/// given up as a timeout, so a server (or an API) that never answers cannot hold the agent.
struct AgentClient: Sendable {
    private let connection: AgentConnection
    private let deadline: Duration
    var serverURL: String { connection.server }

    /// What a sync brought.
    enum SyncOutcome: Sendable {
        /// A complete, checked new set.
        case changed(AccessSet)
        /// Nothing changed while the server waited.
        case unchanged
        /// The server says the host was deleted (410 `host-deleted`): remove every managed key and stop.
        case hostDeleted
    }

    /// A client calling through `connection`, giving up each call after `deadline`.
    init(connection: AgentConnection, deadline: Duration = .seconds(90)) {
        self.connection = connection
        self.deadline = deadline
    }

    /// Runs `body` with the API until `deadline`, turning whatever it throws into a ``RegistryError`` by its
    /// type; a call still running at the deadline is cancelled and is a timeout.
    private func call<T: Sendable>(_ body: @escaping @Sendable (any APIProtocol) async throws -> T) async throws(RegistryError) -> T {
        let api = connection.api
        let deadline = self.deadline
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body(api) }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    throw DeadlinePassed()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch is DeadlinePassed {
            throw RegistryError(.unreachable, "cannot reach the server at \(RegistryError.printable(connection.server)): timed out")
        } catch {
            throw RegistryError(error, server: connection.server)
        }
    }

    /// A call ran past its deadline.
    private struct DeadlinePassed: Error {}

    /// The most bytes the answer to `operationID` may have: ``AccessSet/maximumAnswerBytes`` for a sync,
    /// 1 MiB for every other (small) answer.
    static func answerLimit(_ operationID: String) -> Int64 {
        operationID == "syncAgent" ? Int64(AccessSet.maximumAnswerBytes) : 1 << 20
    }

    /// The certificate of the server's chain whose hash is `pin` (see ``ServerPin``).
    static func fetchPinned(host: String, port: Int, pin: String) async throws(AgentError) -> (certificate: NIOSSLCertificate, isLeaf: Bool) {
        do {
            let pinned = try await ServerPin.fetchPinned(host: host, port: port, pin: pin)
            return (pinned.certificate, pinned.isLeaf)
        } catch {
            throw AgentError(error)
        }
    }

    /// Releases the API's connections.
    func shutdown() async {
        await connection.shutdown()
    }

    /// Trades a one-time enrollment token for the host's identifier and credential.
    func enroll(token: String, hostname: String?) async throws(AgentError) -> (host: String, credential: String) {
        let output: Operations.EnrollAgent.Output
        do {
            output = try await call {
                try await $0.enrollAgent(body: .json(.init(token: token, agentVersion: keyfleetVersion, hostname: hostname)))
            }
        } catch {
            switch error.problem?.status {
            case 401:
                throw AgentError(
                    .enrollmentRefused,
                    "the server refused the enrollment token (unknown, used or expired); ask for a new one with keyfleet host enroll-token")
            case 422: throw AgentError(.enrollmentRefused, "the server says the enrollment token is malformed")
            case let status?: throw AgentError(.unreachable, "the server answered the enrollment with status \(status)")
            case nil: throw AgentError(error)
            }
        }
        guard case .ok(let ok) = output, case .json(let body) = ok.body else {
            throw AgentError.malformedAnswer("the enrollment answer is not the contract's")
        }
        guard SecretText.isWellFormed(body.credential) else { throw AgentError.malformedAnswer("the credential is malformed") }
        return (body.host, body.credential)
    }

    /// One long-poll: the host's set when it differs from `version`, after waiting up to `wait` seconds.
    func sync(version: Int64, wait: Int32) async throws(AgentError) -> SyncOutcome {
        let output: Operations.SyncAgent.Output
        do {
            output = try await call { try await $0.syncAgent(query: .init(version: version, wait: wait)) }
        } catch {
            switch error.problem {
            case let problem? where problem.status == 401:
                throw AgentError(.revoked, "the server refused this host's credential: it is unknown or was revoked")
            case let problem? where problem.status == 410:
                // An instruction, not a fault, but only as the problem document says it; any other 410 is a
                // fault like any other (fail static).
                guard problem.code == Self.hostDeletedCode, problem.document != nil else {
                    throw AgentError.malformedAnswer("the server answered 410 with the problem \"\(AgentError.printable(problem.code))\"")
                }
                return .hostDeleted
            case let problem?:
                throw AgentError(.unreachable, "the server answered the sync with status \(problem.status)")
            case nil:
                throw AgentError(error)
            }
        }
        switch output {
        case .ok(let ok):
            guard case .json(let body) = ok.body else { throw AgentError.malformedAnswer("the sync answer is not JSON") }
            guard body.version >= 1 else { throw AgentError.malformedAnswer("the version \(body.version) is not positive") }
            return .changed(try AccessSet(version: body.version, logins: body.logins.additionalProperties))
        case .notModified:
            return .unchanged
        // The production connection throws every answer of 400 or more as a problem (above); an API that
        // hands them back as outputs is read the same way.
        case .unauthorized:
            throw AgentError(.revoked, "the server refused this host's credential: it is unknown or was revoked")
        case .gone(let gone):
            guard case .applicationProblemJson(let problem) = gone.body, problem.code == Self.hostDeletedCode else {
                throw AgentError.malformedAnswer("the server answered 410 without the problem \"\(Self.hostDeletedCode)\"")
            }
            return .hostDeleted
        case .serviceUnavailable:
            throw AgentError(.unreachable, "the server answered the sync with status 503")
        case .default(let status, _) where status >= 500:
            throw AgentError(.unreachable, "the server answered the sync with status \(status)")
        default:
            throw AgentError.malformedAnswer("the sync answer is not the contract's")
        }
    }

    /// The problem code of the server's 410 to a deleted host's agent.
    static let hostDeletedCode = "host-deleted"

    /// Tells the server the host keys and what was applied. Failures are the caller's to log.
    func report(
        appliedVersion: Int64?, hostKeys: [String], error: String?, delivery: DeliveryMode? = nil, strays: [StrayKey] = []
    ) async throws(AgentError) {
        let output: Operations.ReportAgent.Output
        let error = error.map(Self.reportable)
        // The contract's limit; the first ones are enough to act on.
        let found = strays.prefix(256).map {
            Components.Schemas.StrayKey(login: $0.login, fingerprint: $0.fingerprint, line: Int32(clamping: $0.line))
        }
        do {
            output = try await call {
                try await $0.reportAgent(
                    body: .json(
                        .init(
                            agentVersion: keyfleetVersion, appliedVersion: appliedVersion, hostKeys: hostKeys, error: error,
                            delivery: delivery.flatMap { Components.Schemas.DeliveryMode(rawValue: $0.rawValue) },
                            revokedKeysOutsideBlock: found.isEmpty ? nil : Array(found))))
            }
        } catch {
            switch error.problem?.status {
            case 401: throw AgentError(.revoked, "the server refused this host's credential")
            case 410: throw AgentError(.hostDeleted, "the server says this host was deleted from the registry")
            case let status?: throw AgentError(.unreachable, "the server answered the report with status \(status)")
            case nil: throw AgentError(error)
            }
        }
        guard case .noContent = output else { throw AgentError.malformedAnswer("the report's answer is not the contract's") }
    }

    /// `text` as the contract takes a report's error: one line of at most 1024 bytes (a longer one, say the
    /// refusals of many logins, would have the whole report refused, applied version and all).
    static func reportable(_ text: String) -> String {
        var out = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let printable: Unicode.Scalar =
                scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                    || scalar == "\u{2028}" || scalar == "\u{2029}" ? " " : scalar
            let size = String(printable).utf8.count
            guard bytes + size <= 1024 else { break }
            out.unicodeScalars.append(printable)
            bytes += size
        }
        return out
    }
}

extension AgentError {
    /// What a failed call to the registry means to the agent: a TLS failure or a certificate that is not the
    /// pinned one is ``Code/untrusted``; an answer the contract does not allow, or one over its limit, is
    /// ``Code/malformedAnswer``; anything else keeps the current keys as an unreachable server does.
    init(_ error: RegistryError) {
        switch error.code {
        case .tlsFailure, .untrusted: self.init(.untrusted, error.reason)
        case .answerNotInContract, .answerTooLarge: self = .malformedAnswer(error.reason)
        case .invalidConfiguration: self.init(.usage, error.reason)
        case .problem, .unreachable: self.init(.unreachable, error.reason)
        }
    }
}
