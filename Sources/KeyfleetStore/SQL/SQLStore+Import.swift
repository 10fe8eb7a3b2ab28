package import KeyfleetCore
import SQLKit

/// New projects, keys and hosts written together by ``SQLStore/importObjects(_:by:)``: complete values,
/// identifiers and creation times included, as a seeding tool or an import from another system makes them.
package struct RegistryImport: Sendable {
    package var projects: [Project]
    package var keys: [SSHKeyRecord]
    package var hosts: [Host]

    package init(projects: [Project] = [], keys: [SSHKeyRecord] = [], hosts: [Host] = []) {
        self.projects = projects
        self.keys = keys
        self.hosts = hosts
    }
}

extension SQLStore {
    /// Writes new objects by multi-row inserts in one transaction and one version: each object with its audit
    /// entry, as the one-by-one writes record them, at a small part of their cost (a million keys in a minute
    /// or two rather than most of an hour). The change log records the version as changing everything
    /// (``RegistryChangeLog/everything``), so servers read the registry again rather than a million changes.
    ///
    /// What the values check themselves (names, logins, key policy) they checked when they were made. The
    /// store checks the rest by the one-by-one writes' rules: a name or key that exists for the owner is a
    /// conflict, a project, user or key that does not exist an invalid reference; either leaves nothing written.
    package func importObjects(_ objects: RegistryImport, by principal: Principal) async throws {
        // The rows are made before the transaction, on every core: the transaction only writes them.
        let rows = await ImportRows.make(objects, now: Int64(clamping: clock()))
        try await write(by: principal) { tx in
            if let bulk = tx.flavor.bulkWrite { try await tx.run(SQLQueryString(bulk.start)) }
            do {
                try await Self.checkImport(tx, objects)
                try await Self.insert(tx, rows)
            } catch {
                if let bulk = tx.flavor.bulkWrite { try? await tx.run(SQLQueryString(bulk.end)) }
                throw error
            }
            if let bulk = tx.flavor.bulkWrite { try await tx.run(SQLQueryString(bulk.end)) }
        }
    }

    private static func insert(_ tx: Transaction, _ rows: ImportRows) async throws {
        try await tx.insert("projects (id, name, created_at)", rows.projects)
        try await tx.insert("project_members (project_id, user_id, role)", rows.members)
        try await tx.insert(
            """
            ssh_keys (id, name, owner_user_id, owner_project_id, public_key, comment, key_type, bits, sha256_fingerprint, \
            md5_fingerprint, expires_at, created_by, created_at)
            """, rows.keys)
        try await tx.insert("hosts (id, project_id, name, cluster_id, address, rescue_active, created_at)", rows.hosts)
        try await tx.insert("host_logins (host_id, login, position, mode)", rows.logins)
        try await tx.insert("host_login_keys (host_id, login, key_id, position)", rows.loginKeys)
        try await tx.insert("host_login_rescue_keys (host_id, login, key_id, position)", rows.rescueKeys)
        try await tx.insert("labels (object_type, object_id, name, value)", rows.labels)
        try await tx.auditAll(rows.audit)
        tx.changed.insertEverything()
        try await tx.bumpVersion()
    }

    /// The checks the one-by-one writes make, over the whole import at once: names and keys unique for their
    /// owner (within the import and against the store), and every project, user, cluster and key named exists.
    private static func checkImport(_ tx: Transaction, _ objects: RegistryImport) async throws {
        let ids = objects.projects.map(\.id.rawValue) + objects.keys.map(\.id.rawValue) + objects.hosts.map(\.id.rawValue)
        if let repeated = ids.firstRepeated {
            throw StoreError(.invalidInput, "the import has the identifier \(repeated) twice")
        }
        // Project names.
        if let repeated = objects.projects.map(\.name).firstRepeated {
            throw StoreError(.invalidInput, "the import has two projects named \(repeated)")
        }
        for chunk in objects.projects.map(\.name).chunks(of: 500) {
            if let row = try await tx.first("SELECT id, name FROM projects WHERE name IN (\(binds: Array(chunk))) ORDER BY name") {
                throw StoreError.conflict("a project with this name", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
            }
        }
        // Projects and users named as owners, members or hosts' projects.
        let importedProjects = Set(objects.projects.map(\.id))
        var projects = Set(objects.hosts.map(\.project))
        var users = Set(objects.projects.flatMap(\.members.keys))
        for key in objects.keys {
            switch key.owner {
            case .project(let id): projects.insert(id)
            case .user(let id): users.insert(id)
            }
        }
        try await tx.requireExisting("projects", projects.subtracting(importedProjects).map(\.rawValue), field: "project", noun: "project")
        try await tx.requireExisting("users", users.map(\.rawValue), field: "owner", noun: "user")
        // Key names and fingerprints, per owner.
        var keyNames = [KeyOwner: Set<String>]()
        var fingerprints = [KeyOwner: Set<String>]()
        for key in objects.keys {
            let owner: String
            switch key.owner {
            case .user(let id): owner = "the user \(id)"
            case .project(let id): owner = "the project \(id)"
            }
            guard keyNames[key.owner, default: []].insert(key.name).inserted else {
                throw StoreError(.invalidInput, "the import has two keys named \(key.name) for \(owner)")
            }
            guard fingerprints[key.owner, default: []].insert(key.sha256Fingerprint).inserted else {
                throw StoreError(.invalidInput, "the import has the key \(key.sha256Fingerprint) twice for \(owner)")
            }
        }
        for key in objects.keys {
            if case .project(let id) = key.owner, importedProjects.contains(id) { continue }
            try await checkKeyUnique(tx, key)
        }
        // Host names per project, clusters and listed keys.
        var hostNames = [ProjectID: Set<String>]()
        for host in objects.hosts {
            guard hostNames[host.project, default: []].insert(host.name).inserted else {
                throw StoreError(.invalidInput, "the import has two hosts named \(host.name) in the project \(host.project)")
            }
            if !importedProjects.contains(host.project) || host.cluster != nil { try await checkHost(tx, host, listedKeys: false) }
        }
        let importedKeys = Set(objects.keys.map(\.id))
        try await tx.requireKeys(objects.hosts.flatMap(\.listedKeys).filter { !importedKeys.contains($0) }, field: "keys")
    }
}

/// The rows an import writes, table by table, each row its values in column order.
private struct ImportRows: Sendable {
    var projects: [SQLQueryString] = []
    var members: [SQLQueryString] = []
    var keys: [SQLQueryString] = []
    var hosts: [SQLQueryString] = []
    var logins: [SQLQueryString] = []
    var loginKeys: [SQLQueryString] = []
    var rescueKeys: [SQLQueryString] = []
    var labels: [SQLQueryString] = []
    var audit: [(action: String, objectType: String, objectID: String, after: String)] = []

    /// The rows of `objects`, made in parts in parallel and joined in order.
    static func make(_ objects: RegistryImport, now: Int64) async -> ImportRows {
        var parts = [RegistryImport(projects: objects.projects)]
        for chunk in objects.keys.chunks(of: 2000) { parts.append(RegistryImport(keys: Array(chunk))) }
        parts.append(RegistryImport(hosts: objects.hosts))
        let made = await withTaskGroup(of: (Int, ImportRows).self) { group in
            for (index, part) in parts.enumerated() { group.addTask { (index, ImportRows(part, now: now)) } }
            return await group.reduce(into: [Int: ImportRows]()) { $0[$1.0] = $1.1 }
        }
        var rows = ImportRows()
        for index in parts.indices {
            guard let part = made[index] else { continue }
            rows.projects += part.projects
            rows.members += part.members
            rows.keys += part.keys
            rows.hosts += part.hosts
            rows.logins += part.logins
            rows.loginKeys += part.loginKeys
            rows.rescueKeys += part.rescueKeys
            rows.labels += part.labels
            rows.audit += part.audit
        }
        return rows
    }

    private init() {}

    private init(_ objects: RegistryImport, now: Int64) {
        for project in objects.projects {
            let id = project.id.rawValue
            projects.append("(\(bind: id), \(bind: project.name), \(bind: now))")
            for (user, role) in project.members.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                members.append("(\(bind: id), \(bind: user.rawValue), \(bind: role.rawValue))")
            }
            audit.append(("project.create", "project", id, AuditJSON.project(project)))
        }
        for key in objects.keys {
            let (user, project) = SQLStore.ownerColumns(key.owner)
            keys.append(
                """
                (\(bind: key.id.rawValue), \(bind: key.name), \(bind: user), \(bind: project), \(bind: key.publicKey.openSSHLine), \
                \(bind: key.comment), \(bind: key.type.name), \(bind: key.bits), \(bind: key.sha256Fingerprint), \
                \(bind: key.md5Fingerprint), \(bind: Coding.time(key.expiresAt)), \(bind: key.createdBy.rawValue), \
                \(bind: Int64(clamping: key.createdAt)))
                """)
            appendLabels("key", key.id.rawValue, key.labels)
            audit.append(("key.create", "key", key.id.rawValue, AuditJSON.key(key)))
        }
        for host in objects.hosts {
            let id = host.id.rawValue
            hosts.append(
                """
                (\(bind: id), \(bind: host.project.rawValue), \(bind: host.name), \(bind: host.cluster?.rawValue), \
                \(bind: host.address), \(bind: host.rescueActive ? 1 : 0), \(bind: now))
                """)
            for (position, login) in host.logins.enumerated() {
                let access = host.access(for: login)
                logins.append("(\(bind: id), \(bind: login.rawValue), \(bind: position), \(bind: access == .inherited ? "inherited" : "explicit"))")
                if case .explicit(let list) = access {
                    for (position, key) in list.uniqued.enumerated() {
                        loginKeys.append("(\(bind: id), \(bind: login.rawValue), \(bind: key.rawValue), \(bind: position))")
                    }
                }
                for (position, key) in host.rescueKeys(for: login).uniqued.enumerated() {
                    rescueKeys.append("(\(bind: id), \(bind: login.rawValue), \(bind: key.rawValue), \(bind: position))")
                }
            }
            appendLabels("host", id, host.labels)
            audit.append(("host.create", "host", id, AuditJSON.host(host)))
        }
    }

    private mutating func appendLabels(_ type: String, _ id: String, _ values: [String: String]) {
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            labels.append("(\(bind: type), \(bind: id), \(bind: name), \(bind: value))")
        }
    }
}

extension Transaction {
    /// Inserts `rows` (each `(value, ...)`) into `table` (`name (column, ...)`), as many per statement as keeps
    /// every statement well within SQLite's and PostgreSQL's limits on bound values.
    ///
    /// Two statements are in flight at once, so that one is serialized while the engine runs the other: the
    /// connection runs them one at a time (SQLite's is opened fully serialized, PostgreSQL's pipelines), and
    /// the rows of one table may go in in any order.
    func insert(_ table: String, _ rows: [SQLQueryString]) async throws {
        let statements = rows.chunks(of: 500).map { chunk -> SQLQueryString in
            "INSERT INTO \(unsafeRaw: table) VALUES " + chunk.joined(separator: ", ")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, statement) in statements.enumerated() {
                if index >= 2 { try await group.next() }
                group.addTask { try await run(statement) }
            }
            try await group.waitForAll()
        }
    }

    /// Appends one audit entry per change, in order, with consecutive sequence numbers. Unlike
    /// ``audit(_:_:_:before:after:)`` it does not record the objects as changed: the caller says what changed.
    func auditAll(_ entries: [(action: String, objectType: String, objectID: String, after: String)]) async throws {
        guard !entries.isEmpty else { return }
        try await run("UPDATE registry_state SET audit_sequence = audit_sequence + \(bind: Int64(entries.count)) WHERE id = 1")
        guard let row = try await first("SELECT audit_sequence FROM registry_state WHERE id = 1") else {
            throw StoreError(.database, "the registry_state row is missing")
        }
        let first = try row.decode(column: "audit_sequence", as: Int64.self) - Int64(entries.count) + 1
        let user = principal.user?.rawValue
        let token = principal.token?.rawValue
        let rows = entries.enumerated().map { index, entry -> SQLQueryString in
            """
            (\(bind: first + Int64(index)), \(bind: nowValue), \(bind: user), \(bind: token), \(bind: entry.action), \
            \(bind: entry.objectType), \(bind: entry.objectID), NULL, \(bind: entry.after))
            """
        }
        try await insert("audit_log (sequence, at, user_id, token_id, action, object_type, object_id, before_json, after_json)", rows)
    }
}
