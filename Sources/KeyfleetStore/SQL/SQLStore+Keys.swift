public import KeyfleetCore
import SQLKit

extension SQLStore {
    public func createKey(_ key: NewKey, by principal: Principal) async throws -> SSHKeyRecord {
        try await write(by: principal) { tx in try await Self.insertKey(tx, key) }
    }

    public func createKeys(_ keys: [NewKey], by principal: Principal) async throws -> [SSHKeyRecord] {
        try await write(by: principal) { tx in
            var records = [SSHKeyRecord]()
            records.reserveCapacity(keys.count)
            for key in keys { records.append(try await Self.insertKey(tx, key)) }
            return records
        }
    }

    /// Checks and inserts one key inside `tx`, with its audit entry and a version increment.
    static func insertKey(_ tx: Transaction, _ key: NewKey) async throws -> SSHKeyRecord {
        let principal = tx.principal
        guard let creator = principal.user else {
            throw StoreError.invalidReference("a key is created by a user; the change has none")
        }
        if let expiresAt = key.expiresAt { try KeyImport.checkNewExpiry(expiresAt, now: tx.now) }
        let record = try SSHKeyRecord(
            id: tx.newID(), name: key.name, owner: key.owner, publicKey: key.publicKey, comment: key.comment, labels: key.labels,
            expiresAt: key.expiresAt, createdBy: creator, createdAt: tx.now)
        try await Self.checkOwner(tx, record.owner)
        try await Self.checkKeyUnique(tx, record)
        let (userOwner, projectOwner) = Self.ownerColumns(record.owner)
        try await tx.run(
            """
            INSERT INTO ssh_keys (id, name, owner_user_id, owner_project_id, public_key, comment, key_type, bits, sha256_fingerprint, \
            md5_fingerprint, expires_at, created_by, created_at) VALUES (\(bind: record.id.rawValue), \(bind: record.name), \
            \(bind: userOwner), \(bind: projectOwner), \(bind: record.publicKey.openSSHLine), \(bind: record.comment), \
            \(bind: record.type.name), \(bind: record.bits), \(bind: record.sha256Fingerprint), \(bind: record.md5Fingerprint), \
            \(bind: Coding.time(record.expiresAt)), \(bind: creator.rawValue), \(bind: tx.nowValue))
            """)
        try await tx.setLabels("key", record.id.rawValue, record.labels)
        try await tx.audit("key.create", "key", record.id.rawValue, before: nil, after: AuditJSON.key(record))
        try await tx.bumpVersion()
        return record
    }

    public func key(_ id: KeyID) async throws -> SSHKeyRecord? {
        try await read { db in try await Self.loadKey(db, id) }
    }

    static func loadKey(_ db: any SQLDatabase, _ id: KeyID) async throws -> SSHKeyRecord? {
        try await Loaders.keys(db, try await db.raw("SELECT * FROM ssh_keys WHERE id = \(bind: id.rawValue)").all()).first
    }

    public func keys(_ filter: KeyFilter, page: PageRequest) async throws -> Page<SSHKeyRecord> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM ssh_keys WHERE id > \(bind: after)"
            switch filter.owner {
            case .user(let user)?:
                query.appendLiteral(" AND owner_user_id = ")
                query.appendInterpolation(bind: user.rawValue)
            case .project(let project)?:
                query.appendLiteral(" AND owner_project_id = ")
                query.appendInterpolation(bind: project.rawValue)
            case nil: break
            }
            if let fingerprint = filter.fingerprint {
                query.appendLiteral(" AND sha256_fingerprint = ")
                query.appendInterpolation(bind: fingerprint)
            }
            if let name = filter.name {
                query.appendLiteral(" AND name = ")
                query.appendInterpolation(bind: name)
            }
            if let keyType = filter.keyType {
                query.appendLiteral(" AND key_type = ")
                query.appendInterpolation(bind: keyType)
            }
            if let reader = filter.readableBy {
                query.appendLiteral(" AND (owner_user_id = ")
                query.appendInterpolation(bind: reader.rawValue)
                query.appendLiteral(" OR owner_project_id IN (SELECT project_id FROM project_members WHERE user_id = ")
                query.appendInterpolation(bind: reader.rawValue)
                query.appendLiteral("))")
            }
            if let label = filter.label { Self.appendLabelFilter(&query, type: "key", table: "ssh_keys", label) }
            query.appendLiteral(" ORDER BY id LIMIT \(page.limit + 1)")
            let keys = try await Loaders.keys(db, try await db.raw(query).all())
            return Coding.page(keys, limit: page.limit) { $0.id.rawValue }
        }
    }

    public func updateKey(_ id: KeyID, by principal: Principal, _ change: @Sendable (inout SSHKeyRecord, UInt64) throws -> Void) async throws
        -> SSHKeyRecord
    {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadKey(tx.database, id) else { throw StoreError.notFound("key", id.rawValue) }
            var after = before
            try change(&after, tx.now)
            if after.name != before.name { try await Self.checkKeyUnique(tx, after) }
            try await tx.run(
                """
                UPDATE ssh_keys SET name = \(bind: after.name), comment = \(bind: after.comment), \
                expires_at = \(bind: Coding.time(after.expiresAt)) WHERE id = \(bind: id.rawValue)
                """)
            try await tx.setLabels("key", id.rawValue, after.labels)
            try await tx.audit("key.update", "key", id.rawValue, before: AuditJSON.key(before), after: AuditJSON.key(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func deleteKey(_ id: KeyID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadKey(tx.database, id) else { throw StoreError.notFound("key", id.rawValue) }
            try await Self.removeKey(tx, before)
            try await tx.bumpVersion()
        }
    }

    /// Deletes `key` inside `tx` with its audit entry; it leaves every host, rescue and cluster list.
    static func removeKey(_ tx: Transaction, _ key: SSHKeyRecord) async throws {
        let id = key.id.rawValue
        try await tx.touchAll(
            "host",
            """
            SELECT host_id AS object_id FROM host_login_keys WHERE key_id = \(bind: id) \
            UNION SELECT host_id AS object_id FROM host_login_rescue_keys WHERE key_id = \(bind: id)
            """)
        try await tx.touchAll("cluster", "SELECT cluster_id AS object_id FROM cluster_keys WHERE key_id = \(bind: id)")
        try await tx.setLabels("key", key.id.rawValue, [:])
        try await tx.run("DELETE FROM ssh_keys WHERE id = \(bind: key.id.rawValue)")
        try await tx.audit("key.delete", "key", key.id.rawValue, before: AuditJSON.key(key), after: nil)
    }

    // MARK: Helpers

    static func ownerColumns(_ owner: KeyOwner) -> (user: String?, project: String?) {
        switch owner {
        case .user(let id): (id.rawValue, nil)
        case .project(let id): (nil, id.rawValue)
        }
    }

    static func checkOwner(_ tx: Transaction, _ owner: KeyOwner) async throws {
        switch owner {
        case .user(let id):
            guard try await loadUser(tx.database, id) != nil else { throw StoreError.invalidReference("owner: no user has the identifier \(id)") }
        case .project(let id):
            guard try await tx.first("SELECT id FROM projects WHERE id = \(bind: id.rawValue)") != nil else {
                throw StoreError.invalidReference("owner: no project has the identifier \(id)")
            }
        }
    }

    /// Throws a conflict naming the existing key when the owner has another key of this name or fingerprint.
    static func checkKeyUnique(_ tx: Transaction, _ record: SSHKeyRecord) async throws {
        let (user, project) = ownerColumns(record.owner)
        let column = user != nil ? "owner_user_id" : "owner_project_id"
        let rows = try await tx.all(
            """
            SELECT id, name, sha256_fingerprint FROM ssh_keys WHERE \(ident: column) = \(bind: user ?? project ?? "") \
            AND id <> \(bind: record.id.rawValue) AND (name = \(bind: record.name) OR sha256_fingerprint = \(bind: record.sha256Fingerprint)) \
            ORDER BY id
            """)
        for row in rows {
            let id = try Coding.string(row, "id")
            let name = try Coding.string(row, "name")
            if name == record.name { throw StoreError.conflict("a key with this name for this owner", id: id, name: name) }
        }
        if let row = rows.first {
            throw StoreError.conflict(
                "this key (\(record.sha256Fingerprint)) for this owner", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
        }
    }

    /// `AND EXISTS (a label of this object with this key and value)`.
    static func appendLabelFilter(_ query: inout SQLQueryString, type: String, table: String, _ label: LabelSelector) {
        query.appendLiteral(" AND EXISTS (SELECT 1 FROM labels WHERE labels.object_type = ")
        query.appendInterpolation(bind: type)
        query.appendLiteral(" AND labels.object_id = \(table).id AND labels.name = ")
        query.appendInterpolation(bind: label.key)
        query.appendLiteral(" AND labels.value = ")
        query.appendInterpolation(bind: label.value)
        query.appendLiteral(")")
    }
}
