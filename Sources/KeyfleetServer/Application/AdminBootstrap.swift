internal import KeyfleetCore
public import KeyfleetStore

/// The administrator of a new registry.
public enum AdminBootstrap {
    /// On first start, makes the administrator `admin` with a read-write token and returns the token's
    /// text, to be shown once; it is `token` when one is given (`KEYFLEET_ADMIN_TOKEN`). On later starts a
    /// given token the store does not know yet is added to the first administrator; nothing is returned.
    ///
    /// Several servers may start at once on one new database: the one that loses the race to make the
    /// administrator or add the token finds it made and goes on as on a later start.
    public static func ensureAdministrator(store: any Store, token: String?) async throws -> String? {
        if let token, !SecretText.isWellFormed(token, length: 32...512) {
            throw ServerStartError("KEYFLEET_ADMIN_TOKEN must be 32 to 512 characters of A-Z a-z 0-9 - _ . ~")
        }
        for _ in 1..<3 {
            do {
                return try await ensure(store: store, token: token)
            } catch let error as StoreError where error.code == .conflict {
                continue
            }
        }
        return try await ensure(store: store, token: token)
    }

    private static func ensure(store: any Store, token: String?) async throws -> String? {
        let existing = try await store.users(page: .largest).items
        if let admin = existing.first(where: { $0.role == .admin }) {
            if let token, try await store.token(hash: Secrets.hash(token)) == nil {
                _ = try await store.createToken(user: admin.id, tokenHash: Secrets.hash(token), scope: .readWrite, by: .system)
            }
            return nil
        }
        guard existing.isEmpty else {
            throw ServerStartError("the registry has users but no administrator; restore the database from a backup")
        }
        let admin = try await store.createUser(name: "admin", role: .admin, by: .system)
        let secret = token ?? Secrets.make(.apiToken)
        _ = try await store.createToken(user: admin.id, tokenHash: Secrets.hash(secret), scope: .readWrite, by: .system)
        return token == nil ? secret : nil
    }
}
