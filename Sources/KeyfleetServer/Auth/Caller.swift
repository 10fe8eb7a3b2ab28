public import KeyfleetCore
public import KeyfleetStore

/// Who is making the current request, as the authenticator found it.
public enum Caller: Sendable {
    /// No credential: only the health check, the API document and enrollment.
    case anonymous
    /// A user with one of their API tokens.
    case user(User, APIToken)
    /// A host agent with its credential.
    case host(HostID)

    /// The caller of the request being handled, bound by ``Authenticator``.
    @TaskLocal public static var current: Caller = .anonymous

    /// The principal recorded in the audit log.
    public var principal: Principal {
        switch self {
        case .anonymous, .host: .system
        case .user(let user, let token): Principal(user: user.id, token: token.id)
        }
    }
}
