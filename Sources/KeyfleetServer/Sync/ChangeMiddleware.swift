public import HTTPTypes
public import OpenAPIRuntime

/// Calls ``ChangeSignal/changed()`` after every successful request that may have changed the registry.
public struct ChangeMiddleware: ServerMiddleware {
    let changes: ChangeSignal

    /// A middleware that signals `changes`.
    public init(changes: ChangeSignal) {
        self.changes = changes
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let answer = try await next(request, body, metadata)
        if request.method != .get && request.method != .head && answer.0.status.kind == .successful {
            changes.changed()
        }
        return answer
    }
}
