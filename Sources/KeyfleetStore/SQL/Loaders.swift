import KeyfleetCore
import SQLKit
import SSHKeys

/// Reading objects back from rows; used inside read and write transactions alike.
///
/// `ids` limits the child rows read to those objects; nil reads them all (for a snapshot).
enum Loaders {
    static func users(_ db: any SQLDatabase, _ rows: [any SQLRow]) throws -> [User] {
        try rows.map { row in
            let roleText = try Coding.string(row, "role")
            guard let role = User.Role(rawValue: roleText) else { throw StoreError(.invalidInput, "the stored user role \"\(roleText)\" is unknown") }
            return try User(id: Coding.id(row, "id"), name: Coding.string(row, "name"), role: role)
        }
    }

    static func token(_ row: any SQLRow) throws -> APIToken {
        let scopeText = try Coding.string(row, "scope")
        guard let scope = APIToken.Scope(rawValue: scopeText) else {
            throw StoreError(.invalidInput, "the stored token scope \"\(scopeText)\" is unknown")
        }
        return try APIToken(
            id: Coding.id(row, "id"), user: Coding.id(row, "user_id"), scope: scope, createdAt: Coding.time(row, "created_at") ?? 0,
            revokedAt: Coding.time(row, "revoked_at"))
    }

    static func projects(_ db: any SQLDatabase, _ rows: [any SQLRow], all: Bool = false) async throws -> [Project] {
        let ids = try rows.map { try Coding.string($0, "id") }
        guard !ids.isEmpty else { return [] }
        let memberRows =
            all
            ? try await db.raw("SELECT project_id, user_id, role FROM project_members").all()
            : try await db.raw("SELECT project_id, user_id, role FROM project_members WHERE project_id IN (\(binds: ids))").all()
        var members = [String: [UserID: Project.Role]]()
        for row in memberRows {
            let roleText = try Coding.string(row, "role")
            guard let role = Project.Role(rawValue: roleText) else { throw StoreError(.invalidInput, "the stored role \"\(roleText)\" is unknown") }
            members[try Coding.string(row, "project_id"), default: [:]][try Coding.id(row, "user_id")] = role
        }
        return try rows.map { row in
            let id = try Coding.string(row, "id")
            return try Project(id: Coding.id(row, "id"), name: Coding.string(row, "name"), members: members[id] ?? [:])
        }
    }

    static func labels(_ db: any SQLDatabase, type: String, ids: [String]?) async throws -> [String: [String: String]] {
        let rows: [any SQLRow]
        if let ids {
            guard !ids.isEmpty else { return [:] }
            rows = try await db.raw("SELECT object_id, name, value FROM labels WHERE object_type = \(bind: type) AND object_id IN (\(binds: ids))")
                .all()
        } else {
            rows = try await db.raw("SELECT object_id, name, value FROM labels WHERE object_type = \(bind: type)").all()
        }
        var out = [String: [String: String]]()
        for row in rows {
            out[try Coding.string(row, "object_id"), default: [:]][try Coding.string(row, "name")] = try Coding.string(row, "value")
        }
        return out
    }

    /// The keys of `rows`, with their labels. A whole registry's keys are read by ``allKeys(_:pageSize:)``.
    static func keys(_ db: any SQLDatabase, _ rows: [any SQLRow]) async throws -> [SSHKeyRecord] {
        let labels = try await labels(db, type: "key", ids: try rows.map { try Coding.string($0, "id") })
        var identifiers = IdentifierTable()
        return try rows.map { try key($0, labels: labels, identifiers: &identifiers) }
    }

    /// The columns a key is read from.
    static let keyColumns = "id, name, owner_user_id, owner_project_id, public_key, comment, expires_at, created_by, created_at"

    /// Every key, read a page at a time in the order of their identifiers: the rows of one page are made
    /// into records while the next page is read, so that the rows of a million keys are never all in memory
    /// at once and the engine and the decoding run side by side. The owners' and creators' identifiers are
    /// kept once each, not once per key.
    static func allKeys(_ db: any SQLDatabase, pageSize: Int = 20_000) async throws -> [SSHKeyRecord] {
        let labels = try await labels(db, type: "key", ids: nil)
        func page(after last: String?) async throws -> [any SQLRow] {
            try await db.raw(
                """
                SELECT \(unsafeRaw: keyColumns) FROM ssh_keys WHERE id > \(bind: last ?? "") ORDER BY id LIMIT \(unsafeRaw: String(pageSize))
                """
            ).all()
        }
        var keys = [SSHKeyRecord]()
        var identifiers = IdentifierTable()
        var rows = try await page(after: nil)
        while !rows.isEmpty {
            let last = try Coding.string(rows[rows.count - 1], "id")
            let more = rows.count == pageSize
            async let next = more ? page(after: last) : []
            keys.reserveCapacity(keys.count + rows.count)
            for row in rows { keys.append(try key(row, labels: labels, identifiers: &identifiers)) }
            rows = try await next
        }
        return keys
    }

    private static func key(_ row: any SQLRow, labels: [String: [String: String]], identifiers: inout IdentifierTable) throws -> SSHKeyRecord {
        let id = try Coding.string(row, "id")
        let owner: KeyOwner
        if let user: UserID = try Coding.optionalID(row, "owner_user_id") {
            owner = .user(identifiers.intern(user))
        } else {
            owner = .project(identifiers.intern(try Coding.id(row, "owner_project_id")))
        }
        let line = try Coding.string(row, "public_key")
        let publicKey: PublicKey
        do {
            publicKey = try PublicKey(openSSHLine: line)
        } catch {
            throw StoreError(.invalidInput, "the stored key \(id) cannot be read: \(error)")
        }
        return try SSHKeyRecord(
            id: Coding.id(row, "id"), name: Coding.string(row, "name"), owner: owner, publicKey: publicKey,
            comment: Coding.string(row, "comment"), labels: labels[id] ?? [:], expiresAt: Coding.time(row, "expires_at"),
            createdBy: identifiers.intern(Coding.id(row, "created_by")), createdAt: Coding.time(row, "created_at") ?? 0)
    }

    static func clusters(_ db: any SQLDatabase, _ rows: [any SQLRow], all: Bool = false) async throws -> [Cluster] {
        let ids = try rows.map { try Coding.string($0, "id") }
        guard !ids.isEmpty else { return [] }
        let keyRows =
            all
            ? try await db.raw("SELECT cluster_id, key_id FROM cluster_keys ORDER BY cluster_id, position").all()
            : try await db.raw("SELECT cluster_id, key_id FROM cluster_keys WHERE cluster_id IN (\(binds: ids)) ORDER BY cluster_id, position").all()
        var keys = [String: [KeyID]]()
        for row in keyRows { keys[try Coding.string(row, "cluster_id"), default: []].append(try Coding.id(row, "key_id")) }
        return try rows.map { row in
            let id = try Coding.string(row, "id")
            return try Cluster(
                id: Coding.id(row, "id"), project: Coding.id(row, "project_id"), name: Coding.string(row, "name"), keys: keys[id] ?? [])
        }
    }

    static func hosts(_ db: any SQLDatabase, _ rows: [any SQLRow], all: Bool = false) async throws -> [Host] {
        let ids = try rows.map { try Coding.string($0, "id") }
        guard !ids.isEmpty else { return [] }
        let loginRows: [any SQLRow]
        let loginKeyRows: [any SQLRow]
        let rescueRows: [any SQLRow]
        if all {
            loginRows = try await db.raw("SELECT host_id, login, mode FROM host_logins ORDER BY host_id, position").all()
            loginKeyRows = try await db.raw("SELECT host_id, login, key_id FROM host_login_keys ORDER BY host_id, login, position").all()
            rescueRows = try await db.raw("SELECT host_id, login, key_id FROM host_login_rescue_keys ORDER BY host_id, login, position").all()
        } else {
            loginRows = try await db.raw("SELECT host_id, login, mode FROM host_logins WHERE host_id IN (\(binds: ids)) ORDER BY host_id, position")
                .all()
            loginKeyRows = try await db.raw(
                "SELECT host_id, login, key_id FROM host_login_keys WHERE host_id IN (\(binds: ids)) ORDER BY host_id, login, position"
            ).all()
            rescueRows = try await db.raw(
                "SELECT host_id, login, key_id FROM host_login_rescue_keys WHERE host_id IN (\(binds: ids)) ORDER BY host_id, login, position"
            ).all()
        }
        let labels = try await labels(db, type: "host", ids: all ? nil : ids)
        var logins = [String: [(LoginName, String)]]()
        for row in loginRows {
            logins[try Coding.string(row, "host_id"), default: []].append(
                (try Coding.login(try Coding.string(row, "login")), try Coding.string(row, "mode")))
        }
        var loginKeys = [String: [LoginName: [KeyID]]]()
        for row in loginKeyRows {
            loginKeys[try Coding.string(row, "host_id"), default: [:]][try Coding.login(try Coding.string(row, "login")), default: []].append(
                try Coding.id(row, "key_id"))
        }
        var rescue = [String: [LoginName: [KeyID]]]()
        for row in rescueRows {
            rescue[try Coding.string(row, "host_id"), default: [:]][try Coding.login(try Coding.string(row, "login")), default: []].append(
                try Coding.id(row, "key_id"))
        }
        return try rows.map { row in
            let id = try Coding.string(row, "id")
            let hostLogins = logins[id] ?? []
            var access = [LoginName: Host.LoginAccess]()
            for (login, mode) in hostLogins where mode == "explicit" {
                access[login] = .explicit(loginKeys[id]?[login] ?? [])
            }
            return try Host(
                id: Coding.id(row, "id"), project: Coding.id(row, "project_id"), name: Coding.string(row, "name"), labels: labels[id] ?? [:],
                logins: hostLogins.map(\.0), cluster: Coding.optionalID(row, "cluster_id"), access: access, rescueKeys: rescue[id] ?? [:],
                rescueActive: row.decode(column: "rescue_active", as: Int.self) != 0, address: row.decode(column: "address", as: String?.self))
        }
    }
}

/// One copy of each identifier read: the keys of a large registry name a few thousand owners and creators
/// a million times, and each text read from a row is its own allocation.
struct IdentifierTable {
    private var seen: [String: String] = [:]

    /// `id`, as the first identifier with the same text.
    mutating func intern<Subject>(_ id: Identifier<Subject>) -> Identifier<Subject> {
        if let text = seen[id.rawValue] { return Identifier(rawValue: text) ?? id }
        seen[id.rawValue] = id.rawValue
        return id
    }
}
