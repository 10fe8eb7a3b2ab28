internal import Foundation
internal import HTTPTypes
internal import OpenAPIRuntime

/// Adds `Authorization: Bearer <token>` to every request.
struct BearerToken: ClientMiddleware {
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

/// Turns every answer of 400 or more into a ``RegistryError`` with its ``Problem``, so that each caller
/// handles only the answers that succeed (the generated client would otherwise give one case per status),
/// and tells failures apart by the problem's status and code.
struct ProblemAnswers: ClientMiddleware {
    /// The most bytes of a problem document read; a larger body counts as none.
    static let documentLimit = 1 << 20

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400 else { return (response, responseBody) }
        var bytes: [UInt8] = []
        if let responseBody {
            bytes = (try? await [UInt8](collecting: responseBody, upTo: Self.documentLimit)) ?? []
        }
        let problem = Problem(
            status: response.status.code, reasonPhrase: response.status.reasonPhrase, contentType: response.headerFields[.contentType],
            body: bytes)
        throw RegistryError(
            .problem, "\(RegistryError.printable(problem.detail, limit: .max)) (\(RegistryError.printable(problem.code)))", problem: problem)
    }
}

/// Stops reading an answer at its limit while it arrives, instead of after the whole body is in memory: the
/// generated code collects a body without a limit, and a server (or anything between) could send an
/// endless one. An answer whose `Content-Length` is over the limit is refused before its body is read.
struct AnswerLimit: ClientMiddleware {
    /// The most bytes the answer to an operation may have, by its identifier.
    let limit: @Sendable (String) -> Int64

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        let limit = self.limit(operationID)
        let answer = "the answer to \(operationID) from \(RegistryError.printable(baseURL.absoluteString))"
        let tooLarge = RegistryError(.answerTooLarge, "\(answer) is larger than \(limit) bytes")
        if let text = response.headerFields[.contentLength] {
            guard let length = Int64(text), length >= 0 else {
                throw RegistryError(.answerNotInContract, "\(answer) has a malformed Content-Length")
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
    let tooLarge: RegistryError

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPBody.AsyncIterator
        var remaining: Int64
        let tooLarge: RegistryError

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
