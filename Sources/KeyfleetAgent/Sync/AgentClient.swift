internal import AsyncHTTPClient
internal import Foundation
internal import KeyfleetCore
internal import HTTPTypes
internal import KeyfleetAPI
internal import KeyfleetVersion
internal import NIOCore
internal import NIOSSL
internal import OpenAPIAsyncHTTPClient
internal import OpenAPIRuntime

/// The agent's side of `/v1/agent/*`, through the client generated from the OpenAPI document, over an
/// HTTP client that trusts only the pinned certificate when there is one.
struct AgentClient: Sendable {
    private let http: HTTPClient
    private let client: Client
    let serverURL: String

    /// What a sync brought.
    enum SyncOutcome: Sendable {
        /// A complete, checked new set.
        case changed(AccessSet)
        /// Nothing changed while the server waited.
        case unchanged
        /// The server says the host was deleted (410 `host-deleted`): remove every managed key and stop.
        case hostDeleted
    }

    /// A client for `server`, sending `credential` as bearer token when given.
    init(server: AgentState.Server, credential: String?) throws(AgentError) {
        guard let url = URL(string: server.url), let scheme = url.scheme, scheme == "https" || scheme == "http", url.host != nil else {
            throw AgentError(.usage, "the server URL \"\(AgentError.printable(server.url))\" is not an http(s) URL")
        }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(90))
        configuration.redirectConfiguration = .disallow
        if let pem = server.caCertificatePEM {
            do {
                let certificate = try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates([certificate])
                // The pin is the trust anchor. A pinned self-signed server certificate names the server by
                // itself, whatever address reaches it; a pinned CA still needs the name to match.
                tls.certificateVerification = server.pinnedLeaf == true ? .noHostnameVerification : .fullVerification
                configuration.tlsConfiguration = tls
            } catch {
                throw AgentError.local("the pinned certificate in the state directory cannot be read: \(error)")
            }
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let middlewares: [any ClientMiddleware] = (credential.map { [BearerToken(token: $0)] } ?? []) + [AnswerLimit()]
        client = Client(serverURL: url, transport: AsyncHTTPClientTransport(configuration: .init(client: http, timeout: .seconds(90))), middlewares: middlewares)
        serverURL = server.url
    }

    /// Releases the HTTP client's connections.
    func shutdown() async {
        try? await http.shutdown()
    }

    /// Trades a one-time enrollment token for the host's identifier and credential.
    func enroll(token: String, hostname: String?) async throws(AgentError) -> (host: String, credential: String) {
        let output: Operations.EnrollAgent.Output
        do {
            output = try await client.enrollAgent(body: .json(.init(token: token, agentVersion: keyfleetVersion, hostname: hostname)))
        } catch {
            throw Self.transportError(error, serverURL)
        }
        switch output {
        case .ok(let ok):
            guard case .json(let body) = ok.body else { throw AgentError.malformedAnswer("the enrollment answer is not JSON") }
            guard SecretText.isWellFormed(body.credential) else { throw AgentError.malformedAnswer("the credential is malformed") }
            return (body.host, body.credential)
        case .unauthorized:
            throw AgentError(.enrollmentRefused, "the server refused the enrollment token (unknown, used or expired); ask for a new one with keyfleet host enroll-token")
        case .unprocessableContent:
            throw AgentError(.enrollmentRefused, "the server says the enrollment token is malformed")
        case .badRequest, .default:
            throw AgentError(.unreachable, "the server answered the enrollment with status \(Self.status(of: output))")
        }
    }

    /// One long-poll: the host's set when it differs from `version`, after waiting up to `wait` seconds.
    func sync(version: Int64, wait: Int32) async throws(AgentError) -> SyncOutcome {
        let output: Operations.SyncAgent.Output
        do {
            output = try await client.syncAgent(query: .init(version: version, wait: wait))
        } catch {
            throw Self.transportError(error, serverURL)
        }
        switch output {
        case .ok(let ok):
            guard case .json(let body) = ok.body else { throw AgentError.malformedAnswer("the sync answer is not JSON") }
            guard body.version >= 1 else { throw AgentError.malformedAnswer("the version \(body.version) is not positive") }
            return .changed(try AccessSet(version: body.version, logins: body.logins.additionalProperties))
        case .notModified:
            return .unchanged
        case .unauthorized:
            throw AgentError(.revoked, "the server refused this host's credential: it is unknown or was revoked")
        case .gone(let gone):
            // An instruction, not a fault, but only as the problem document says it; any other 410 is a
            // fault like any other (fail static).
            switch gone.body {
            case .applicationProblemJson(let problem):
                guard problem.code == Self.hostDeletedCode else {
                    throw AgentError.malformedAnswer("the server answered 410 with the problem \"\(AgentError.printable(problem.code))\"")
                }
                return .hostDeleted
            }
        case .badRequest, .default:
            throw AgentError(.unreachable, "the server answered the sync with status \(Self.status(of: output))")
        }
    }

    /// The problem code of the server's 410 to a deleted host's agent.
    static let hostDeletedCode = "host-deleted"

    /// Tells the server the host keys and what was applied. Failures are the caller's to log.
    func report(appliedVersion: Int64?, hostKeys: [String], error: String?, strays: [StrayKey] = []) async throws(AgentError) {
        let output: Operations.ReportAgent.Output
        let error = error.map(Self.reportable)
        // The contract's limit; the first ones are enough to act on.
        let found = strays.prefix(256).map { Components.Schemas.StrayKey(login: $0.login, fingerprint: $0.fingerprint, line: Int32(clamping: $0.line)) }
        do {
            output = try await client.reportAgent(
                body: .json(
                    .init(
                        agentVersion: keyfleetVersion, appliedVersion: appliedVersion, hostKeys: hostKeys, error: error,
                        revokedKeysOutsideBlock: found.isEmpty ? nil : Array(found))))
        } catch {
            throw Self.transportError(error, serverURL)
        }
        switch output {
        case .noContent: return
        case .unauthorized: throw AgentError(.revoked, "the server refused this host's credential")
        case .gone: throw AgentError(.hostDeleted, "the server says this host was deleted from the registry")
        default: throw AgentError(.unreachable, "the server answered the report with status \(Self.status(of: output))")
        }
    }

    /// `text` as the contract takes a report's error: one line of at most 1024 bytes (a longer one, say the
    /// refusals of many logins, would have the whole report refused, applied version and all).
    static func reportable(_ text: String) -> String {
        var out = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let printable: Unicode.Scalar = scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar == "\u{2028}" || scalar == "\u{2029}" ? " " : scalar
            let size = String(printable).utf8.count
            guard bytes + size <= 1024 else { break }
            out.unicodeScalars.append(printable)
            bytes += size
        }
        return out
    }

    private static func status(of output: some Sendable) -> String {
        let text = String(describing: output)
        if let range = text.range(of: "statusCode: ") {
            return String(text[range.upperBound...].prefix(while: \.isNumber))
        }
        return String(text.prefix(while: { $0 != "(" }))
    }

    /// A transport failure, told apart: TLS (certificate) problems from unreachable servers. An
    /// ``AgentError`` thrown by a middleware or while the body arrived (``AnswerLimit``) is passed on as it is.
    private static func transportError(_ error: any Error, _ url: String) -> AgentError {
        let underlying = (error as? ClientError)?.underlyingError ?? error
        if let agentError = underlying as? AgentError { return agentError }
        let text = String(describing: underlying)
        if underlying is NIOSSLError || text.contains("SSL") || text.contains("certificate") || underlying is BoringSSLError {
            return AgentError(.untrusted, "the TLS connection to \(url) failed; its certificate does not match the pin: \(AgentError.printable(text))")
        }
        if underlying is DecodingError || underlying is UnexpectedContentType {
            return AgentError.malformedAnswer("the answer from \(url) does not match the API: \(AgentError.printable(text))")
        }
        return AgentError(.unreachable, "cannot reach \(url): \(AgentError.printable(text))")
    }
}

/// Adds `Authorization: Bearer <token>` to every request.
private struct BearerToken: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// Stops reading an answer at its limit while it arrives, instead of after the whole body is in memory: the
/// generated code collects a body without a limit, and a server (or anything between) could send an
/// endless one. An answer whose `Content-Length` is over the limit is refused before its body is read.
///
/// The limit of a sync answer is ``AccessSet/maximumAnswerBytes``; every other answer is small.
struct AnswerLimit: ClientMiddleware {
    /// The most bytes the answer to `operationID` may have.
    static func limit(_ operationID: String) -> Int64 {
        operationID == "syncAgent" ? Int64(AccessSet.maximumAnswerBytes) : 1 << 20
    }

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        let limit = Self.limit(operationID)
        let answer = "the answer to \(operationID) from \(AgentError.printable(baseURL.absoluteString))"
        let tooLarge = AgentError.malformedAnswer("\(answer) is larger than \(limit) bytes")
        if let text = response.headerFields[.contentLength] {
            guard let length = Int64(text), length >= 0 else {
                throw AgentError.malformedAnswer("\(answer) has a malformed Content-Length")
            }
            if length > limit { throw tooLarge }
        }
        guard let responseBody else { return (response, nil) }
        if case .known(let length) = responseBody.length, length > limit { throw tooLarge }
        let capped = CappedBody(base: responseBody, limit: limit, tooLarge: tooLarge)
        return (response, HTTPBody(capped, length: responseBody.length, iterationBehavior: responseBody.iterationBehavior))
    }
}

/// A body that throws once more than `limit` bytes have arrived.
struct CappedBody: AsyncSequence, Sendable {
    typealias Element = HTTPBody.ByteChunk

    let base: HTTPBody
    let limit: Int64
    let tooLarge: AgentError

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPBody.AsyncIterator
        var remaining: Int64
        let tooLarge: AgentError

        mutating func next() async throws -> HTTPBody.ByteChunk? {
            guard let chunk = try await base.next() else { return nil }
            remaining -= Int64(chunk.count)
            guard remaining >= 0 else { throw tooLarge }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), remaining: limit, tooLarge: tooLarge)
    }
}
