import AsyncHTTPClient
import Foundation
import HTTPTypes
import KeyfleetAPI
import KeyfleetClient
import OpenAPIRuntime
import Synchronization
import Testing

@testable import KeyfleetAgent

/// What the registry does wrong after its first, good answer, at the level the agent sees the API: what the
/// operation returns or throws. Faults in the body go through the generated client's own decoding (over a
/// transport that hands it the bytes), so they throw exactly what the generated client throws.
enum RegistryFault: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The call never returns by itself: the agent's deadline ends it.
    case timeout
    /// 503 with a problem document, thrown as the production connection throws every answer of 400 or more.
    case serverError
    /// 502, handed back as the generated client's `default` output (an API without the problem middleware).
    case serverErrorOutput
    /// 503 with a problem document and `Retry-After`, handed back as the contract's `serviceUnavailable` output.
    case unavailableOutput
    /// 401 with a problem document: the host's credential is refused.
    case unauthorized
    /// 200 whose JSON body stops half-way.
    case truncatedBody
    /// 200 claiming JSON, whose body is a proxy's HTML page.
    case garbledBody
    /// 200 with well-formed JSON whose key line is cut: the contract's shape, but not a key.
    case garbledKeyLine
    /// The long-poll waits a while, the answer starts, and the connection closes before it is complete.
    case goneMidPoll

    var testDescription: String { rawValue }

    /// How the agent classifies the fault.
    var code: AgentError.Code {
        switch self {
        case .timeout, .serverError, .serverErrorOutput, .unavailableOutput, .goneMidPoll: .unreachable
        case .unauthorized: .revoked
        case .truncatedBody, .garbledBody, .garbledKeyLine: .malformedAnswer
        }
    }
}

/// The registry for one host: answers every sync with `good` (version 1) until the test says the agent
/// applied it (``goodAnswerApplied()``; a machine so busy that the agent gave up on the first answer before it
/// arrived gets it again), then every later sync with `fault`; takes every report. Counts what it served.
final class FaultyRegistry: AgentOnlyAPI {
    static let url = "https://registry.invalid"

    let good: [String: [String]]
    let fault: RegistryFault
    /// What a faulty answer would bring if the agent took it: every login with fewer keys (none).
    let shrunk: [String: [String]]
    private let counts = Mutex<(syncs: Int, faults: Int, reports: Int, applied: Bool)>((0, 0, 0, false))

    init(good: [String: [String]], fault: RegistryFault) {
        self.good = good
        self.fault = fault
        shrunk = good.mapValues { _ in [] }
    }

    /// From now on, every sync meets the fault.
    func goodAnswerApplied() {
        counts.withLock { $0.applied = true }
    }

    /// How many times a fault was served (counted when it starts).
    var faultsServed: Int { counts.withLock { $0.faults } }

    func syncAgent(_ input: Operations.SyncAgent.Input) async throws -> Operations.SyncAgent.Output {
        let answersGood = counts.withLock {
            $0.syncs += 1
            if $0.applied { $0.faults += 1 }
            return !$0.applied
        }
        if answersGood {
            let body = Components.Schemas.SyncResponse(version: 1, host: "h-1", logins: .init(additionalProperties: good))
            return .ok(.init(body: .json(body)))
        }
        return try await answerFault(input)
    }

    func reportAgent(_ input: Operations.ReportAgent.Input) async throws -> Operations.ReportAgent.Output {
        counts.withLock { $0.reports += 1 }
        return .noContent(.init())
    }

    func enrollAgent(_ input: Operations.EnrollAgent.Input) async throws -> Operations.EnrollAgent.Output {
        throw NotTheAgents()
    }

    private func answerFault(_ input: Operations.SyncAgent.Input) async throws -> Operations.SyncAgent.Output {
        let json = "application/json"
        switch fault {
        case .timeout:
            try await Task.sleep(for: .seconds(3600))
            return .notModified(.init())
        case .serverError:
            throw Self.problem(input, status: .serviceUnavailable, code: "unavailable")
        case .unauthorized:
            throw Self.problem(input, status: .unauthorized, code: "unauthorized")
        case .serverErrorOutput:
            let document = #"{"type":"about:blank","title":"Bad Gateway","status":502,"code":"bad-gateway"}"#
            return try await Self.generated(status: .badGateway, contentType: "application/problem+json", body: Array(document.utf8))
                .syncAgent(input)
        case .unavailableOutput:
            let document = #"{"type":"urn:keyfleet:problem:unavailable","title":"Service Unavailable","status":503,"code":"unavailable"}"#
            return try await Self.generated(status: .serviceUnavailable, contentType: "application/problem+json", body: Array(document.utf8))
                .syncAgent(input)
        case .truncatedBody:
            let whole = try Self.encoded(version: 2, logins: shrunk)
            return try await Self.generated(status: .ok, contentType: json, body: Array(whole.prefix(whole.count / 2))).syncAgent(input)
        case .garbledBody:
            let page = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
            return try await Self.generated(status: .ok, contentType: json, body: Array(page.utf8)).syncAgent(input)
        case .garbledKeyLine:
            let cut = good.mapValues { lines in lines.prefix(1).map { String($0.prefix(40)) } }
            return try await Self.generated(status: .ok, contentType: json, body: try Self.encoded(version: 2, logins: cut)).syncAgent(input)
        case .goneMidPoll:
            let whole = try Self.encoded(version: 2, logins: shrunk)
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: HTTPBody.ByteChunk.self)
            continuation.yield(whole.prefix(whole.count / 2))
            continuation.finish(throwing: HTTPClientError.remoteConnectionClosed)
            let transport = CannedTransport(
                status: .ok, contentType: json, body: HTTPBody(stream, length: .known(Int64(whole.count))), delay: .milliseconds(150))
            return try await Self.client(transport).syncAgent(input)
        }
    }

    /// What the production connection throws for an answer of 400 or more: the generated client's error
    /// wrapping the problem the middleware read.
    private static func problem(_ input: Operations.SyncAgent.Input, status: HTTPResponse.Status, code: String) -> ClientError {
        let document = #"{"type":"about:blank","title":"\#(status.reasonPhrase)","status":\#(status.code),"code":"\#(code)"}"#
        let problem = Problem(
            status: status.code, reasonPhrase: status.reasonPhrase, contentType: "application/problem+json", body: Array(document.utf8))
        return ClientError(
            operationID: Operations.SyncAgent.id, operationInput: input, response: HTTPResponse(status: status),
            causeDescription: "Middleware of type ProblemAnswers threw an error.",
            underlyingError: RegistryError(.problem, "\(problem.detail) (\(problem.code))", problem: problem))
    }

    private static func encoded(version: Int64, logins: [String: [String]]) throws -> [UInt8] {
        Array(try JSONEncoder().encode(Components.Schemas.SyncResponse(version: version, host: "h-1", logins: .init(additionalProperties: logins))))
    }

    /// The generated client over a transport that answers `status` with `body` at once.
    private static func generated(status: HTTPResponse.Status, contentType: String, body: [UInt8]) throws -> Client {
        try client(CannedTransport(status: status, contentType: contentType, body: HTTPBody(body), delay: .zero))
    }

    private static func client(_ transport: CannedTransport) throws -> Client {
        Client(serverURL: try #require(URL(string: url)), transport: transport)
    }
}

/// A transport giving one answer after `delay`.
struct CannedTransport: ClientTransport {
    let status: HTTPResponse.Status
    let contentType: String
    let body: HTTPBody
    let delay: Duration

    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
        try await Task.sleep(for: delay)
        return (HTTPResponse(status: status, headerFields: [.contentType: contentType]), self.body)
    }
}
