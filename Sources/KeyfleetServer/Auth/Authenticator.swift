internal import Foundation
public import HTTPTypes
internal import KeyfleetCore
internal import Synchronization
public import KeyfleetStore
public import OpenAPIRuntime

/// Finds the caller of each request from its bearer token, and refuses what that caller's kind of
/// credential may not reach, before any handler runs.
///
/// User routes take an API token, `/v1/agent/sync` and `/v1/agent/report` a host credential, and the
/// health check, the API document and enrollment nothing. A read-only token may only read.
///
/// Found callers are remembered for a few seconds by the hash of their secret, so a thousand agents
/// starting their next long-poll after a change cost no store queries. Every successful request through
/// this server that can end a credential (revoking a token, deleting a user, host or project, a new
/// enrollment that revokes the host's credential) forgets them all at once. A change made by another server
/// on the same PostgreSQL database reaches this one as a notification that forgets them too
/// (``DatabaseChanges``); on anything missed, every caller is asked about again within
/// ``CredentialCache/lifetime``.
public struct Authenticator: ServerMiddleware {
    let store: any Store
    let cache: CredentialCache

    /// Operations after which cached callers may no longer be valid.
    static let credentialChanges: Set<String> = [
        "revokeToken", "deleteUser", "deleteHost", "deleteProject", "createHostEnrollmentToken",
    ]

    /// Operations that take no credential.
    static let anonymousOperations: Set<String> = ["getHealth", "getOpenAPIDocument", "enrollAgent"]
    /// Operations that take a host credential.
    static let hostOperations: Set<String> = ["syncAgent", "reportAgent"]
    /// Changes a read-only token may still ask for; their handlers apply the narrower rule (a read-only
    /// token creates only read-only tokens and revokes only itself).
    static let readOnlyChanges: Set<String> = ["createToken", "revokeToken"]

    /// An authenticator that looks tokens up in `store` and remembers found callers in `cache`.
    public init(store: any Store, cache: CredentialCache) {
        self.store = store
        self.cache = cache
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
        if Self.hostOperations.contains(operationID) {
            let caller = try await host(hash: hash)
            return try await Caller.$current.withValue(caller) { try await next(request, body, metadata) }
        }
        return try await asUser(hash: hash, operationID: operationID, isRead: Self.isRead(request.method)) {
            try await next(request, body, metadata)
        }
    }

    /// Runs `work` as the user whose API token hashes to `hash`, found as every user route finds its caller
    /// (the API's bearer token, the portal's session): refused when the token is unknown or revoked, or
    /// read-only and `operationID` a change it may not make; a successful change that can end a credential
    /// forgets the remembered callers.
    public func asUser<Answer: Sendable>(
        hash: [UInt8], operationID: String, isRead: Bool, _ work: @Sendable () async throws -> Answer
    ) async throws -> Answer {
        let caller: Caller
        var fromStore = true
        if let cached = cache.caller(for: hash), !cached.isHost {
            caller = cached
            fromStore = false
        } else {
            guard let token = try await store.token(hash: hash), token.isActive, let user = try await store.user(token.user) else {
                throw APIProblem.unauthorized("the API token is unknown or revoked")
            }
            caller = .user(user, token)
        }
        if case .user(_, let token) = caller, token.scope == .readOnly, !isRead, !Self.readOnlyChanges.contains(operationID) {
            throw APIProblem.readOnlyToken
        }
        // Only a caller just read from the store starts a new lifetime, so the store is asked again at
        // least every CredentialCache.lifetime however often the secret is used.
        if fromStore { cache.remember(caller, for: hash) }
        let answer = try await Caller.$current.withValue(caller) { try await work() }
        if Self.credentialChanges.contains(operationID), Self.succeeded(answer) { cache.forgetAll() }
        return answer
    }

    /// The host whose agent credential hashes to `hash`.
    private func host(hash: [UInt8]) async throws -> Caller {
        if let cached = cache.caller(for: hash), cached.isHost { return cached }
        guard let host = try await store.host(credentialHash: hash) else {
            // A deleted host's agent is told so, as an instruction to remove its keys; any other
            // unknown credential is a fault the agent rides out.
            if try await store.isRetiredHostCredential(hash) { throw APIProblem.hostDeleted }
            throw APIProblem.unauthorized("the host credential is unknown or revoked")
        }
        let caller = Caller.host(host)
        cache.remember(caller, for: hash)
        return caller
    }

    /// Whether an answer is a success: an HTTP response with a 2xx status, or anything a handler returned
    /// without throwing.
    private static func succeeded(_ answer: some Sendable) -> Bool {
        if let (response, _) = answer as? (HTTPResponse, HTTPBody?) { return response.status.kind == .successful }
        return true
    }

    static func isRead(_ method: HTTPRequest.Method) -> Bool {
        method == .get || method == .head
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        return String(token)
    }
}

extension Caller {
    fileprivate var isHost: Bool {
        if case .host = self { return true }
        return false
    }
}

/// Callers found by the hash of their secret, each for ``lifetime``; only found callers are kept, so
/// unknown secrets cannot fill it.
public final class CredentialCache: Sendable {
    /// How long a found caller is trusted without asking the store again.
    static let lifetime: Duration = .seconds(5)
    static let capacity = 50_000

    private struct Entry {
        var caller: Caller
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[[UInt8]: Entry]>([:])

    func caller(for hash: [UInt8]) -> Caller? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.expires > now else {
                entries[hash] = nil
                return nil
            }
            return entry.caller
        }
    }

    func remember(_ caller: Caller, for hash: [UInt8]) {
        let expires = ContinuousClock.now + Self.lifetime
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(caller: caller, expires: expires)
        }
    }

    /// An empty cache.
    public init() {}

    /// Forgets every caller: the next request of each asks the store again.
    public func forgetAll() {
        entries.withLock { $0.removeAll(keepingCapacity: true) }
    }
}
