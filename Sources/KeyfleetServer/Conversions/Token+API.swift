internal import KeyfleetAPI
internal import KeyfleetStore

extension Components.Schemas.Token {
    /// The token as the API shows it: never its secret.
    init(_ token: APIToken) {
        self.init(
            id: token.id.rawValue, user: token.user.rawValue, scope: Components.Schemas.TokenScope(token.scope),
            createdAt: Timestamps.date(token.createdAt), revokedAt: token.revokedAt.map(Timestamps.date))
    }
}

extension Components.Schemas.TokenScope {
    /// A scope as the API names it.
    init(_ scope: APIToken.Scope) {
        switch scope {
        case .readOnly: self = .readOnly
        case .readWrite: self = .readWrite
        }
    }

    /// The scope as the store keeps it.
    var model: APIToken.Scope {
        switch self {
        case .readOnly: .readOnly
        case .readWrite: .readWrite
        }
    }
}
