public import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Users

    public func createUser(name: String, role: User.Role, by principal: Principal) async throws -> User {
        try await write(by: principal) { tx in
            let user = try User(id: tx.newID(), name: name, role: role)
            if let row = try await tx.first("SELECT id, name FROM users WHERE name = \(bind: user.name)") {
                throw StoreError.conflict("a user with this name", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
            }
            try await tx.run(
                """
                INSERT INTO users (id, name, role, created_at) VALUES \
                (\(bind: user.id.rawValue), \(bind: user.name), \(bind: user.role.rawValue), \(bind: tx.nowValue))
                """)
            try await tx.audit("user.create", "user", user.id.rawValue, before: nil, after: AuditJSON.user(user))
            try await tx.bumpVersion()
            return user
        }
    }

    public func user(_ id: UserID) async throws -> User? {
        try await read { db in try await Self.loadUser(db, id) }
    }

    static func loadUser(_ db: any SQLDatabase, _ id: UserID) async throws -> User? {
        try Loaders.users(db, try await db.raw("SELECT * FROM users WHERE id = \(bind: id.rawValue)").all()).first
    }

    public func users(page: PageRequest) async throws -> Page<User> {
        try await users(named: nil, page: page)
    }

    public func users(named name: String?, page: PageRequest) async throws -> Page<User> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM users WHERE id > \(bind: after)"
            if let name {
                query.appendLiteral(" AND name = ")
                query.appendInterpolation(bind: name)
            }
            query.appendLiteral(" ORDER BY id LIMIT \(page.limit + 1)")
            let rows = try await db.raw(query).all()
            return Coding.page(try Loaders.users(db, rows), limit: page.limit) { $0.id.rawValue }
        }
    }

    public func updateUser(_ id: UserID, by principal: Principal, _ change: @Sendable (inout User) throws -> Void) async throws -> User {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadUser(tx.database, id) else { throw StoreError.notFound("user", id.rawValue) }
            var after = before
            try change(&after)
            try await tx.run("UPDATE users SET name = \(bind: after.name), role = \(bind: after.role.rawValue) WHERE id = \(bind: id.rawValue)")
            try await tx.audit("user.update", "user", id.rawValue, before: AuditJSON.user(before), after: AuditJSON.user(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func deleteUser(_ id: UserID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadUser(tx.database, id) else { throw StoreError.notFound("user", id.rawValue) }
            try await Self.checkUserRemovable(tx, before)
            // What goes with the user, each with its own audit entry: memberships, tokens, personal keys.
            let user = id.rawValue
            let memberships = try await tx.all("SELECT project_id FROM project_members WHERE user_id = \(bind: user) ORDER BY project_id")
            for row in memberships {
                let projectID: ProjectID = try Coding.id(row, "project_id")
                guard let project = try await Self.loadProject(tx.database, projectID) else { continue }
                var after = project
                after.members[id] = nil
                try await tx.audit(
                    "project.member.remove", "project", project.id.rawValue, before: AuditJSON.project(project), after: AuditJSON.project(after))
            }
            for token in try await tx.all("SELECT * FROM api_tokens WHERE user_id = \(bind: user) ORDER BY id").map(Loaders.token) {
                try await tx.audit("token.delete", "token", token.id.rawValue, before: AuditJSON.token(token), after: nil)
            }
            for key in try await Loaders.keys(tx.database, try await tx.all("SELECT * FROM ssh_keys WHERE owner_user_id = \(bind: user) ORDER BY id"))
            {
                try await Self.removeKey(tx, key)
            }
            try await tx.run("DELETE FROM users WHERE id = \(bind: user)")
            try await tx.announce(.credentials)
            try await tx.audit("user.delete", "user", id.rawValue, before: AuditJSON.user(before), after: nil)
            try await tx.bumpVersion()
        }
    }

    /// Throws a conflict when deleting `user` would remove the last administrator or leave a project without an owner.
    static func checkUserRemovable(_ tx: Transaction, _ user: User) async throws {
        if user.role == .admin {
            let others = try await tx.first(
                "SELECT id FROM users WHERE role = 'admin' AND id <> \(bind: user.id.rawValue) LIMIT 1")
            if others == nil {
                throw StoreError.conflict("the last administrator, which must remain,", id: user.id.rawValue, name: user.name)
            }
        }
        let orphaned = try await tx.first(
            """
            SELECT p.id, p.name FROM projects p JOIN project_members m ON m.project_id = p.id \
            WHERE m.user_id = \(bind: user.id.rawValue) AND m.role = 'owner' AND NOT EXISTS \
            (SELECT 1 FROM project_members o WHERE o.project_id = p.id AND o.role = 'owner' AND o.user_id <> \(bind: user.id.rawValue)) \
            ORDER BY p.id LIMIT 1
            """)
        if let orphaned {
            throw StoreError(
                .conflict, "the user is the last owner of the project \"\(try Coding.string(orphaned, "name"))\"; give it another owner first",
                existingID: try Coding.string(orphaned, "id"), existingName: try Coding.string(orphaned, "name"))
        }
    }

    // MARK: Tokens

    public func createToken(user: UserID, tokenHash: [UInt8], scope: APIToken.Scope, by principal: Principal) async throws -> APIToken {
        let hash = try Coding.digest(tokenHash, field: "the token hash")
        return try await write(by: principal) { tx in
            guard try await Self.loadUser(tx.database, user) != nil else {
                throw StoreError.invalidReference("user: no user has the identifier \(user)")
            }
            if let existing = try await tx.first("SELECT id FROM api_tokens WHERE token_hash = \(bind: hash)") {
                let id = try Coding.string(existing, "id")
                throw StoreError.conflict("a token with this hash", id: id, name: id)
            }
            let token = APIToken(id: try tx.newID(), user: user, scope: scope, createdAt: tx.now, revokedAt: nil)
            try await tx.run(
                """
                INSERT INTO api_tokens (id, user_id, token_hash, scope, created_at, revoked_at) VALUES \
                (\(bind: token.id.rawValue), \(bind: user.rawValue), \(bind: hash), \(bind: scope.rawValue), \(bind: tx.nowValue), NULL)
                """)
            try await tx.audit("token.create", "token", token.id.rawValue, before: nil, after: AuditJSON.token(token))
            return token
        }
    }

    public func token(hash tokenHash: [UInt8]) async throws -> APIToken? {
        let hash = try Coding.digest(tokenHash, field: "the token hash")
        return try await read { db in
            try await db.raw("SELECT * FROM api_tokens WHERE token_hash = \(bind: hash)").first().map(Loaders.token)
        }
    }

    public func tokens(of user: UserID) async throws -> [APIToken] {
        try await read { db in
            try await db.raw("SELECT * FROM api_tokens WHERE user_id = \(bind: user.rawValue) ORDER BY id").all().map(Loaders.token)
        }
    }

    public func tokens(of user: UserID, page: PageRequest) async throws -> Page<APIToken> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            let rows = try await db.raw(
                "SELECT * FROM api_tokens WHERE user_id = \(bind: user.rawValue) AND id > \(bind: after) ORDER BY id LIMIT \(literal: page.limit + 1)"
            ).all()
            return Coding.page(try rows.map(Loaders.token), limit: page.limit) { $0.id.rawValue }
        }
    }

    public func token(_ id: TokenID) async throws -> APIToken? {
        try await read { db in
            try await db.raw("SELECT * FROM api_tokens WHERE id = \(bind: id.rawValue)").first().map(Loaders.token)
        }
    }

    public func revokeToken(_ id: TokenID, by principal: Principal) async throws -> APIToken {
        try await write(by: principal) { tx in
            guard let before = try await tx.first("SELECT * FROM api_tokens WHERE id = \(bind: id.rawValue)").map(Loaders.token) else {
                throw StoreError.notFound("token", id.rawValue)
            }
            guard before.revokedAt == nil else { return before }
            try await tx.run("UPDATE api_tokens SET revoked_at = \(bind: tx.nowValue) WHERE id = \(bind: id.rawValue)")
            try await tx.announce(.credentials)
            let after = APIToken(id: id, user: before.user, scope: before.scope, createdAt: before.createdAt, revokedAt: tx.now)
            try await tx.audit("token.revoke", "token", id.rawValue, before: AuditJSON.token(before), after: AuditJSON.token(after))
            return after
        }
    }
}
