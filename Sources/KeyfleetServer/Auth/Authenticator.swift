internal import Crypto
public import HTTPTypes
public import KeyfleetStore
public import OpenAPIRuntime

/// Finds the caller of each request from its bearer token, and refuses what that caller's kind of
/// credential may not reach, before any handler runs.
///
/// User routes take an API token, `/v1/agent/sync` and `/v1/agent/report` a host credential, and the
/// health check, the API document and enrollment nothing. A read-only token may only read.
public struct Authenticator: ServerMiddleware {
    let store: any Store

    /// Operations that take no credential.
    static let anonymousOperations: Set<String> = ["getHealth", "getOpenAPIDocument", "enrollAgent"]
    /// Operations that take a host credential.
    static let hostOperations: Set<String> = ["syncAgent", "reportAgent"]
    /// Changes a read-only token may still ask for; their handlers apply the narrower rule (a read-only
    /// token creates only read-only tokens and revokes only itself).
    static let readOnlyChanges: Set<String> = ["createToken", "revokeToken"]

    /// An authenticator that looks tokens up in `store`.
    public init(store: any Store) {
        self.store = store
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if Self.anonymousOperations.contains(operationID) {
            return try await Caller.$current.withValue(.anonymous) { try await next(request, body, metadata) }
        }
        guard let secret = Self.bearerToken(request.headerFields[.authorization]) else {
            throw APIProblem.unauthorized()
        }
        let hash = Secrets.hash(secret)
        let caller: Caller
        if Self.hostOperations.contains(operationID) {
            guard let host = try await store.host(credentialHash: hash) else {
                throw APIProblem.unauthorized("the host credential is unknown or revoked")
            }
            caller = .host(host)
        } else {
            guard let token = try await store.token(hash: hash), token.isActive,
                let user = try await store.user(token.user)
            else {
                throw APIProblem.unauthorized("the API token is unknown or revoked")
            }
            if token.scope == .readOnly && !Self.isRead(request.method) && !Self.readOnlyChanges.contains(operationID) {
                throw APIProblem.readOnlyToken
            }
            caller = .user(user, token)
        }
        return try await Caller.$current.withValue(caller) { try await next(request, body, metadata) }
    }

    private static func isRead(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: " \t")
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        return String(token)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return slice
    }
}
