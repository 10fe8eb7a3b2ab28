import KeyfleetCLI
import AsyncHTTPClient
import Foundation
import HTTPTypes
import KeyfleetAPI
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A problem document (RFC 9457) the server answered with.
struct RegistryProblem: Error {
    var status: Int
    var code: String
    var detail: String
    /// The problem document as the server sent it (for `-o json`), when it sent one.
    var document: [UInt8]?

    /// `<detail> (<code>)`, made safe for a terminal.
    var message: String { "\(Terminal.safe(detail)) (\(Terminal.safe(code)))" }
}

/// The parts of a problem document the client shows; other members are ignored.
private struct ProblemDocument: Decodable {
    var code: String?
    var detail: String?
    var title: String?
}

/// Adds the bearer token, and turns every answer of 400 or more into a ``RegistryProblem``, so that each
/// command handles only success (the generated client would otherwise give one case per status).
private struct RegistryMiddleware: ClientMiddleware {
    let token: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var bytes: [UInt8] = []
        if let responseBody {
            bytes = (try? await [UInt8](collecting: responseBody, upTo: 1 << 20)) ?? []
        }
        let document = try? JSONDecoder().decode(ProblemDocument.self, from: Data(bytes))
        let status = response.status.code
        let reason = response.status.reasonPhrase.isEmpty ? "error" : response.status.reasonPhrase
        throw RegistryProblem(
            status: status,
            code: document?.code ?? "http-\(status)",
            detail: document?.detail ?? document?.title ?? "the server answered HTTP \(status) \(reason)",
            document: document == nil ? nil : bytes)
    }
}

/// The registry's API over HTTP, with one-line errors.
struct Registry {
    let context: ClientContext
    let api: Client

    init(_ context: ClientContext) throws(CLIError) {
        guard let url = URL(string: context.server), url.host != nil else {
            throw CLIError("server \"\(Terminal.safe(context.server))\" is not a URL")
        }
        self.context = context
        let transport = AsyncHTTPClientTransport(configuration: .init(client: Self.httpClient, timeout: .seconds(60)))
        api = Client(serverURL: url, transport: transport, middlewares: [RegistryMiddleware(token: context.token)])
    }

    /// One HTTP client for the process, never shut down (it lives as long as the command). A refused or
    /// failed connection fails the request at once instead of being retried until the deadline: a person
    /// waiting at a terminal wants to hear that the server is not there.
    private static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Runs one or more calls, turning every failure into a one-line ``CLIError``.
    func call<T>(_ body: (Client) async throws -> T) async throws(CLIError) -> T {
        do {
            return try await body(api)
        } catch {
            throw describe(error)
        }
    }

    /// Runs calls that send what `subject` (a file) holds: when the server refuses that content (409, 413,
    /// 422), the error names the file; other failures (an unreachable server, a bad token) do not.
    func call<T>(about subject: String, _ body: (Client) async throws -> T) async throws(CLIError) -> T {
        do {
            return try await body(api)
        } catch {
            var failure = describe(error)
            let problem = error as? RegistryProblem ?? (error as? ClientError)?.underlyingError as? RegistryProblem
            if let problem, [409, 413, 422].contains(problem.status) {
                failure.message = "\(Terminal.safe(subject)): \(failure.message)"
            }
            throw failure
        }
    }

    /// A one-line error for anything a call can throw: a problem document, an unreachable server, TLS,
    /// an answer the contract does not allow.
    func describe(_ error: any Error) -> CLIError {
        if let error = error as? CLIError { return error }
        if let problem = error as? RegistryProblem { return CLIError(problem.message, code: problem.code, problemDocument: problem.document) }
        if let error = error as? ClientError {
            let underlying = error.underlyingError
            if let problem = underlying as? RegistryProblem {
                return CLIError(problem.message, code: problem.code, problemDocument: problem.document)
            }
            if let error = underlying as? CLIError { return error }
            if underlying is DecodingError || underlying is UnexpectedContentType {
                return CLIError(
                    "the server's answer to \(error.operationID) does not match the API: \(Self.oneLine(String(describing: underlying)))",
                    code: "answer-not-in-contract")
            }
            let text = Self.oneLine(String(describing: underlying))
            if error.response != nil {
                return CLIError("unexpected answer from \(Terminal.safe(context.server)) to \(error.operationID): \(text)", code: "unexpected-answer")
            }
            let lowered = text.lowercased()
            if lowered.contains("ssl") || lowered.contains("tls") || lowered.contains("certificate") || lowered.contains("handshake") {
                return CLIError("TLS failure talking to \(Terminal.safe(context.server)): \(text)", code: "tls-failure")
            }
            let reason =
                lowered.contains("refused") ? "connection refused"
                : lowered.contains("timeout") || lowered.contains("timed out") ? "timed out"
                : lowered.contains("resolve") || lowered.contains("lookup") ? "cannot resolve the host name" : text
            return CLIError("cannot reach the server at \(Terminal.safe(context.server)): \(reason)", code: "unreachable")
        }
        return CLIError(Self.oneLine(String(describing: error)))
    }

    private static func oneLine(_ text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
        return Terminal.safe(String(first.prefix(300)))
    }

    /// Every item of a listing, following `next_cursor` to the last page.
    func all<Item>(_ page: (Client, String?) async throws -> (items: [Item], next: String?)) async throws(CLIError) -> [Item] {
        var items: [Item] = []
        var cursor: String?
        var pages = 0
        repeat {
            let (batch, next) = try await call { try await page($0, cursor) }
            items += batch
            pages += 1
            if let next, next == cursor { throw CLIError("the server repeated a page cursor; stopping") }
            cursor = next
        } while cursor != nil && pages < 1_000_000
        return items
    }
}
