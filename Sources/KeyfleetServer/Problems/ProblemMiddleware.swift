internal import Foundation
public import HTTPTypes
internal import KeyfleetAPI
public import Logging
public import OpenAPIRuntime

/// Turns every error thrown below it (authentication, decoding, handlers, the store) into an RFC 9457
/// problem document, logs the server's own faults once, and keeps bodies within the server's limit.
///
/// It is the outermost OpenAPI middleware, so nothing reaches the HTTP layer as a bare 500.
public struct ProblemMiddleware: ServerMiddleware {
    let logger: Logger
    let maximumBodySize: Int

    /// A middleware that logs with `logger` and refuses bodies over `maximumBodySize` bytes.
    public init(logger: Logger, maximumBodySize: Int) {
        self.logger = logger
        self.maximumBodySize = maximumBodySize
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            var (response, responseBody) = try await next(request, try limited(body), metadata)
            Self.decodeHeaders(&response)
            return (response, responseBody)
        } catch {
            var problem = ProblemMapping.problem(for: error)
            problem.instance = request.path.map { String($0.prefix(while: { $0 != "?" })) }
            if ProblemMapping.isServerFault(problem) {
                logger.error(
                    "request failed",
                    metadata: ["operation": "\(operationID)", "error": "\(Self.cause(of: error))"])
            }
            var (head, problemBody) = Self.response(problem)
            if let seconds = ProblemMapping.retryAfter(for: error) { head.headerFields[.retryAfter] = String(seconds) }
            return (head, problemBody)
        }
    }

    /// The runtime writes string headers percent-encoded (URI style `simple`), which would turn
    /// `ETag: "k7"` into `%22k7%22` and `Location: /v1/...` into `%2Fv1%2F...`. Both are plain
    /// tokens in HTTP, so they are sent decoded, as the contract's patterns say.
    static func decodeHeaders(_ response: inout HTTPResponse) {
        for name in [HTTPField.Name.eTag, .location] {
            if let value = response.headerFields[name], value.contains("%"), let decoded = value.removingPercentEncoding {
                response.headerFields[name] = decoded
            }
        }
    }

    /// The response carrying `problem`.
    static func response(_ problem: Components.Schemas.Problem) -> (HTTPResponse, HTTPBody?) {
        let (head, data) = encoded(problem)
        return (head, HTTPBody(data))
    }

    /// The head and the JSON of a problem document, for this middleware and for the router's own 404s.
    static func encoded(_ problem: Components.Schemas.Problem) -> (HTTPResponse, Data) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data =
            (try? encoder.encode(problem))
            ?? Data(#"{"code":"internal","status":500,"title":"Internal Server Error","type":"urn:keyfleet:problem:internal"}"#.utf8)
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        fields[.cacheControl] = "no-store"
        return (HTTPResponse(status: .init(code: problem.status), headerFields: fields), data)
    }

    private static func cause(of error: any Error) -> String {
        if let error = error as? ServerError { return "\(type(of: error.underlyingError)): \(error.underlyingError)" }
        return "\(type(of: error)): \(error)"
    }

    /// Refuses a declared length over the limit at once, and stops a streamed body when it passes it.
    private func limited(_ body: HTTPBody?) throws -> HTTPBody? {
        guard let body else { return nil }
        let limit = maximumBodySize
        if case .known(let length) = body.length {
            guard length <= limit else { throw APIProblem.requestTooLarge("the request body is over \(limit) bytes") }
            return body
        }
        let counted = body.counting(limit: limit)
        return HTTPBody(counted, length: .unknown, iterationBehavior: body.iterationBehavior)
    }
}

extension HTTPBody {
    fileprivate func counting(limit: Int) -> AsyncThrowingMapSequence<HTTPBody, ArraySlice<UInt8>> {
        let counter = ByteCounter()
        return self.map { chunk in
            guard counter.add(chunk.count) <= limit else {
                throw APIProblem.requestTooLarge("the request body is over \(limit) bytes")
            }
            return chunk
        }
    }
}

/// Counts the bytes of one body, which is read by one task at a time.
private final class ByteCounter: @unchecked Sendable {
    private var total = 0
    func add(_ count: Int) -> Int {
        total += count
        return total
    }
}
