public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    public func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        _ = try currentUser()
        let page = try PageRequest.fromQuery(limit: input.query.limit, cursor: input.query.cursor)
        let users = try await store.users(named: try nameFromQuery(input.query.name), page: page)
        return .ok(.init(body: .json(.init(items: users.items.map(Components.Schemas.User.init), nextCursor: users.nextCursor))))
    }

    public func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        try requireAdmin()
        let role: User.Role = body.role == .admin ? .admin : .user
        let user = try await store.createUser(name: body.name, role: role, by: principal)
        logger.info("user created", metadata: ["user.id": "\(user.id)"])
        return .created(.init(headers: .init(location: "/v1/users/\(user.id.rawValue)"), body: .json(.init(user))))
    }

    public func getCurrentUser(_ input: Operations.GetCurrentUser.Input) async throws -> Operations.GetCurrentUser.Output {
        let (user, token) = try currentUser()
        return .ok(.init(body: .json(.init(user: .init(user), token: .init(token)))))
    }

    public func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        _ = try currentUser()
        let id: UserID = try identifier(input.path.userId, "user")
        guard let user = try await store.user(id) else { throw APIProblem.notFound("user", id.rawValue) }
        return .ok(.init(body: .json(.init(user))))
    }

    public func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        try requireAdmin()
        let id: UserID = try identifier(input.path.userId, "user")
        try await store.deleteUser(id, by: principal)
        logger.info("user deleted", metadata: ["user.id": "\(id)"])
        return .noContent(.init())
    }

    public func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let caller = try currentUser().user
        let page = try PageRequest.fromQuery(limit: input.query.limit, cursor: input.query.cursor)
        var owner = caller.id
        if let text = input.query.user {
            guard let id = UserID(rawValue: text) else { throw APIProblem.badRequest("the query parameter user is not an identifier", field: "user") }
            guard id == caller.id || caller.role == .admin else {
                throw APIProblem.forbidden("only administrators may list the tokens of another user")
            }
            owner = id
        }
        let tokens = try await store.tokens(of: owner, page: page)
        return .ok(.init(body: .json(.init(items: tokens.items.map(Components.Schemas.Token.init), nextCursor: tokens.nextCursor))))
    }

    public func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let (caller, callerToken) = try currentUser()
        let scope = body.scope?.model ?? callerToken.scope
        if callerToken.scope == .readOnly, scope != .readOnly {
            throw APIProblem.readOnly("a read-only token may create only read-only tokens")
        }
        var owner = caller.id
        if let text = body.user, text != caller.id.rawValue {
            guard caller.role == .admin else { throw APIProblem.forbidden("only administrators may create a token for another user") }
            guard let id = UserID(rawValue: text) else {
                throw StoreError(.invalidReference, "user: no user has the identifier \(text.prefix(64))")
            }
            owner = id
        }
        let secret = Secrets.make(.apiToken)
        let token = try await store.createToken(user: owner, tokenHash: Secrets.hash(secret), scope: scope, by: principal)
        logger.info("token created", metadata: ["token.id": "\(token.id)", "user.id": "\(owner)"])
        return .created(
            .init(
                headers: .init(location: "/v1/tokens/\(token.id.rawValue)", cacheControl: .noStore),
                body: .json(.init(token: .init(token), secret: secret))))
    }

    public func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let (caller, callerToken) = try currentUser()
        let id: TokenID = try identifier(input.path.tokenId, "token")
        guard let token = try await store.token(id), token.user == caller.id || caller.role == .admin else {
            throw APIProblem.notFound("token", id.rawValue)
        }
        if callerToken.scope == .readOnly, token.id != callerToken.id {
            throw APIProblem.readOnly("a read-only token may revoke only itself")
        }
        let revoked = try await store.revokeToken(id, by: principal)
        logger.info("token revoked", metadata: ["token.id": "\(id)"])
        return .ok(.init(body: .json(.init(revoked))))
    }
}
