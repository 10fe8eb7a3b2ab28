public import HTTPTypes
public import OpenAPIRuntime

/// Calls ``ChangeSignal/changed()`` after every successful request that may have changed the registry.
///
/// Agents' own calls never change anyone's access: a report after every applied sync would otherwise wake
/// every waiting agent again, and with a thousand hosts each revocation would set off a thousand more
/// rounds of wake-ups.
public struct ChangeMiddleware: ServerMiddleware {
    let changes: ChangeSignal

    /// Operations that change nothing an agent's answer depends on.
    static let silentOperations: Set<String> = ["enrollAgent", "reportAgent", "syncAgent", "createToken", "revokeToken"]

    /// A middleware that signals `changes`.
    public init(changes: ChangeSignal) {
        self.changes = changes
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let answer = try await next(request, body, metadata)
        if request.method != .get && request.method != .head && answer.0.status.kind == .successful
            && !Self.silentOperations.contains(operationID)
        {
            changes.changed()
        }
        return answer
    }
}
