import AsyncHTTPClient
import Foundation
import HTTPTypes
import KeyfleetAPI
import NIOCore
import NIOSSL
import OpenAPIRuntime
import Testing

@testable import KeyfleetClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let server = "https://keys.example.net:8443"

/// `error` as the generated client throws it: wrapped in a `ClientError`.
private func wrapped(_ error: any Error, answered: Bool = false) -> any Error {
    ClientError(
        operationID: "listHosts", operationInput: "", response: answered ? HTTPResponse(status: .ok) : nil, causeDescription: "test",
        underlyingError: error)
}

/// What `middleware` makes of an answer with `status`, `headers` and `body` (of a length not told in
/// advance when `streamed`).
private func intercept(
    _ middleware: some ClientMiddleware, status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8]?, streamed: Bool = false,
    operation: String = "listHosts"
) async throws -> (HTTPResponse, HTTPBody?) {
    let url = try #require(URL(string: server))
    let answer = body.map { streamed ? HTTPBody($0, length: .unknown) : HTTPBody($0) }
    return try await middleware.intercept(
        HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/"), body: nil, baseURL: url, operationID: operation
    ) {
        _, _, _ in (HTTPResponse(status: status, headerFields: headers), answer)
    }
}

@Suite("Failures of a call to the registry, told apart by type")
struct RegistryErrorTests {
    @Test(
        "the transport's errors: unreachable with a reason, or TLS",
        arguments: [
            (IOError(errnoCode: ECONNREFUSED, reason: "connect") as any Error, RegistryError.Code.unreachable, "connection refused"),
            (HTTPClientError.connectTimeout, .unreachable, "timed out"),
            (HTTPClientError.readTimeout, .unreachable, "timed out"),
            (HTTPClientError.remoteConnectionClosed, .unreachable, "the connection closed before the answer was complete"),
            (ChannelError.connectTimeout(.seconds(10)), .unreachable, "timed out"),
            (NIOSSLError.uncleanShutdown, .unreachable, "the connection closed before the answer was complete"),
            (NIOSSLError.handshakeFailed(.syscallError), .tlsFailure, ""),
            (NIOSSLExtraError.failedToValidateHostname, .tlsFailure, ""),
        ])
    func transport(error: any Error, code: RegistryError.Code, reason: String) {
        for thrown in [error, wrapped(error)] {
            let failure = RegistryError(thrown, server: server)
            #expect(failure.code == code, "\(thrown)")
            #expect(failure.problem == nil)
            let prefix = code == .unreachable ? "cannot reach the server at \(server): " : "TLS failure talking to \(server): "
            #expect(failure.reason.hasPrefix(prefix + reason), "\(failure.reason)")
            #expect(!failure.reason.contains("\n"))
        }
    }

    @Test("an answer that does not decode, or of a content type the contract does not list, is not in the contract")
    func notInContract() {
        let decoding = DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "garbled\nsecond line"))
        struct Odd: Error {}
        // Anything else that went wrong once an answer had come (an undocumented status the code cannot take).
        for error in [wrapped(decoding), wrapped(UnexpectedContentType("text/html")), wrapped(Odd(), answered: true)] {
            let failure = RegistryError(error, server: server)
            #expect(failure.code == .answerNotInContract, "\(failure)")
            #expect(failure.reason.hasPrefix("the answer of \(server) to listHosts does not match the API: ") && !failure.reason.contains("\n"))
        }
    }

    @Test("a RegistryError a middleware threw comes out as it was, however the generated client wrapped it")
    func passedThrough() {
        let problem = Problem(status: 410, code: "host-deleted", detail: "gone")
        let thrown = RegistryError(.problem, "gone (host-deleted)", problem: problem)
        let failure = RegistryError(wrapped(thrown), server: server)
        #expect(failure == thrown && failure.problem == problem && failure.reason == thrown.reason)
    }

    @Test("an error status becomes the server's problem, read only from a JSON body; others name the status")
    func problems() async throws {
        let document = Array(
            #"{"type":"urn:keyfleet:problem:not-found","title":"Not found","detail":"no host web-9\n","code":"not-found","status":404}"#.utf8)
        for contentType in ["application/problem+json", "application/json; charset=utf-8"] {
            await #expect {
                _ = try await intercept(ProblemAnswers(), status: .notFound, headers: [.contentType: contentType], body: document)
            } throws: { error in
                guard let error = error as? RegistryError, let problem = error.problem else { return false }
                return error.code == .problem && problem.status == 404 && problem.code == "not-found" && problem.document == document
                    && error.reason == "no host web-9\\u{a} (not-found)"
            }
        }
        // A proxy's page is no problem document, whatever it holds.
        await #expect {
            _ = try await intercept(ProblemAnswers(), status: .badGateway, headers: [.contentType: "text/html"], body: document)
        } throws: { error in
            guard let problem = (error as? RegistryError)?.problem else { return false }
            return problem.code == "http-502" && problem.document == nil && problem.detail == "the server answered HTTP 502 Bad Gateway"
        }
        let ok = try await intercept(ProblemAnswers(), status: .notModified, body: nil)
        #expect(ok.0.status == .notModified)
    }

    @Test("an answer over its operation's limit is refused by its length, or as it streams")
    func answerLimit() async throws {
        let limit = AnswerLimit { $0 == "syncAgent" ? 8 : 4 }
        await #expect {
            _ = try await intercept(limit, status: .ok, headers: [.contentLength: "9"], body: nil, operation: "syncAgent")
        } throws: { ($0 as? RegistryError)?.code == .answerTooLarge }
        await #expect {
            _ = try await intercept(limit, status: .ok, headers: [.contentLength: "-1"], body: nil)
        } throws: { ($0 as? RegistryError)?.code == .answerNotInContract }
        await #expect {
            _ = try await intercept(limit, status: .ok, body: Array("12345".utf8))
        } throws: { ($0 as? RegistryError)?.code == .answerTooLarge }
        let streamed = try #require(try await intercept(limit, status: .ok, body: Array("12345".utf8), streamed: true).1)
        await #expect {
            _ = try await [UInt8](collecting: streamed, upTo: 100)
        } throws: { ($0 as? RegistryError)?.code == .answerTooLarge }
        let fits = try await intercept(limit, status: .ok, body: Array("12345678".utf8), streamed: true, operation: "syncAgent")
        #expect(try await [UInt8](collecting: try #require(fits.1), upTo: 100).count == 8)
    }

    @Test("a server URL that is not http(s) is refused before anything is sent")
    func badURL() {
        for url in ["ftp://keys.example.net", "keys.example.net", "https://", ""] {
            #expect(throws: RegistryError(.invalidConfiguration, "")) {
                _ = try RegistryConnection(server: url, token: nil, settings: RegistrySettings())
            }
        }
    }
}
