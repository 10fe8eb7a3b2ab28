internal import Crypto
internal import Synchronization

/// The portal's signed-in browsers: a random session identifier in a cookie, and on the server the hash of
/// the API token it signed in with, its form token and its expiry.
///
/// The token itself is never kept: each request finds its user from the token's hash exactly as an API
/// request does (``Authenticator/asUser(hash:operationID:isRead:_:)``), so revoking the token, or the user,
/// ends the session within ``CredentialCache/lifetime``. Sessions live in this server's memory: a restart
/// signs everyone out, and behind several servers a browser must keep reaching the same one.
public final class PortalSessions: Sendable {
    /// How long a session lasts without a request, and at most in all.
    public struct Limits: Sendable, Hashable {
        /// Ended after this long without a request.
        public var idle: Duration
        /// Ended this long after sign-in, however busy.
        public var lifetime: Duration

        /// Limits; by default 30 minutes idle and 12 hours in all.
        public init(idle: Duration = .seconds(30 * 60), lifetime: Duration = .seconds(12 * 3600)) {
            self.idle = idle
            self.lifetime = lifetime
        }
    }

    /// One signed-in browser.
    struct Session: Sendable {
        /// The SHA-256 of the API token it signed in with.
        let tokenHash: [UInt8]
        /// The token every form of this session carries.
        let formToken: String
        let started: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
        /// A line for the next page (after a redirect), shown once.
        var notice: String?
    }

    /// The most sessions kept; beyond it the oldest is ended, so sign-ins cannot fill the memory.
    static let capacity = 10_000

    let limits: Limits
    private let sessions = Mutex<[[UInt8]: Session]>([:])
    private let now: @Sendable () -> ContinuousClock.Instant

    /// No sessions yet; `now` is the clock expiry reads (tests move their own).
    public init(limits: Limits = Limits(), now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.limits = limits
        self.now = now
    }

    /// Starts a session for the token hashing to `tokenHash`; returns the identifier for the cookie.
    func start(tokenHash: [UInt8]) -> String {
        let identifier = Secrets.make(.portalSession)
        let now = now()
        let session = Session(tokenHash: tokenHash, formToken: Secrets.make(.formToken), started: now, lastUsed: now)
        sessions.withLock { sessions in
            if sessions.count >= Self.capacity { Self.prune(&sessions, now: now, limits: limits) }
            if sessions.count >= Self.capacity, let oldest = sessions.min(by: { $0.value.started < $1.value.started })?.key {
                sessions[oldest] = nil
            }
            sessions[Secrets.hash(identifier)] = session
        }
        return identifier
    }

    /// The session `identifier` names, if it has not expired; using it restarts its idle time and hands
    /// over its notice.
    func use(_ identifier: String) -> Session? {
        let key = Secrets.hash(identifier)
        let now = now()
        return sessions.withLock { sessions in
            guard var session = sessions[key] else { return nil }
            guard Self.isLive(session, now: now, limits: limits) else {
                sessions[key] = nil
                return nil
            }
            let found = session
            session.lastUsed = now
            session.notice = nil
            sessions[key] = session
            return found
        }
    }

    /// Leaves `notice` for the next page of session `identifier`.
    func leave(_ notice: String, for identifier: String) {
        sessions.withLock { $0[Secrets.hash(identifier)]?.notice = notice }
    }

    /// Ends session `identifier`.
    func end(_ identifier: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Secrets.hash(identifier)) }
    }

    /// Sessions kept now, expired ones included until they are next seen or pruned.
    var count: Int { sessions.withLock { $0.count } }

    private static func isLive(_ session: Session, now: ContinuousClock.Instant, limits: Limits) -> Bool {
        now - session.lastUsed < limits.idle && now - session.started < limits.lifetime
    }

    private static func prune(_ sessions: inout [[UInt8]: Session], now: ContinuousClock.Instant, limits: Limits) {
        sessions = sessions.filter { isLive($0.value, now: now, limits: limits) }
    }
}
