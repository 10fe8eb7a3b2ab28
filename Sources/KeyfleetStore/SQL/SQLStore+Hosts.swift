public import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Hosts

    public func createHost(by principal: Principal, _ make: @Sendable (HostID) throws -> Host) async throws -> Host {
        try await write(by: principal) { tx in try await Self.insertHost(tx, make) }
    }

    public func createHost(
        enrollmentTokenHash tokenHash: [UInt8], expiresAt: UInt64, by principal: Principal, _ make: @Sendable (HostID) throws -> Host
    ) async throws -> Host {
        let hash = try Coding.digest(tokenHash, field: "the enrollment token hash")
        return try await write(by: principal) { tx in
            let host = try await Self.insertHost(tx, make)
            try await Self.insertEnrollmentToken(tx, host: host.id, hash: hash, expiresAt: expiresAt)
            return host
        }
    }

    /// Checks and inserts one host inside `tx`, with its audit entry and a version increment.
    static func insertHost(_ tx: Transaction, _ make: @Sendable (HostID) throws -> Host) async throws -> Host {
        let host = try make(try tx.newID())
        guard try await Self.loadProject(tx.database, host.project) != nil else {
            throw StoreError.invalidReference("project: no project has the identifier \(host.project)")
        }
        try await Self.checkHost(tx, host)
        try await tx.run(
            """
            INSERT INTO hosts (id, project_id, name, cluster_id, address, rescue_active, created_at) VALUES (\(bind: host.id.rawValue), \
            \(bind: host.project.rawValue), \(bind: host.name), \(bind: host.cluster?.rawValue), \(bind: host.address), \
            \(bind: host.rescueActive ? 1 : 0), \(bind: tx.nowValue))
            """)
        try await Self.writeHostDetails(tx, host)
        try await tx.audit("host.create", "host", host.id.rawValue, before: nil, after: AuditJSON.host(host))
        try await tx.bumpVersion()
        return host
    }

    public func host(_ id: HostID) async throws -> Host? {
        try await read { db in try await Self.loadHost(db, id) }
    }

    static func loadHost(_ db: any SQLDatabase, _ id: HostID) async throws -> Host? {
        try await Loaders.hosts(db, try await db.raw("SELECT * FROM hosts WHERE id = \(bind: id.rawValue)").all()).first
    }

    public func hosts(_ filter: HostFilter, page: PageRequest) async throws -> Page<Host> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM hosts WHERE id > \(bind: after)"
            if let project = filter.project {
                query.appendLiteral(" AND project_id = ")
                query.appendInterpolation(bind: project.rawValue)
            }
            if let cluster = filter.cluster {
                query.appendLiteral(" AND cluster_id = ")
                query.appendInterpolation(bind: cluster.rawValue)
            }
            if let label = filter.label { Self.appendLabelFilter(&query, type: "host", table: "hosts", label) }
            if let name = filter.name {
                query.appendLiteral(" AND name = ")
                query.appendInterpolation(bind: name)
            }
            if let projects = filter.projects { Self.appendProjectsFilter(&query, projects) }
            query.appendLiteral(" ORDER BY id LIMIT \(page.limit + 1)")
            let hosts = try await Loaders.hosts(db, try await db.raw(query).all())
            return Coding.page(hosts, limit: page.limit) { $0.id.rawValue }
        }
    }

    public func updateHost(_ id: HostID, by principal: Principal, _ change: @Sendable (inout Host) throws -> Void) async throws -> Host {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadHost(tx.database, id) else { throw StoreError.notFound("host", id.rawValue) }
            var after = before
            try change(&after)
            try await Self.checkHost(tx, after)
            try await tx.run(
                """
                UPDATE hosts SET name = \(bind: after.name), cluster_id = \(bind: after.cluster?.rawValue), address = \(bind: after.address), \
                rescue_active = \(bind: after.rescueActive ? 1 : 0) WHERE id = \(bind: id.rawValue)
                """)
            try await tx.run("DELETE FROM host_login_rescue_keys WHERE host_id = \(bind: id.rawValue)")
            try await tx.run("DELETE FROM host_logins WHERE host_id = \(bind: id.rawValue)")
            try await Self.writeHostDetails(tx, after)
            // Flagging a host for rescue is break-glass: its own action, so the audit log can be searched for it.
            let action = before.rescueActive == after.rescueActive ? "host.update" : after.rescueActive ? "host.rescue.on" : "host.rescue.off"
            try await tx.audit(action, "host", id.rawValue, before: AuditJSON.host(before), after: AuditJSON.host(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func deleteHost(_ id: HostID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadHost(tx.database, id) else { throw StoreError.notFound("host", id.rawValue) }
            try await Self.removeHost(tx, before)
            try await tx.bumpVersion()
        }
    }

    /// Deletes `host` inside `tx` with its audit entry, retiring its unrevoked credentials first so that its
    /// agent is told the host is gone.
    static func removeHost(_ tx: Transaction, _ host: Host) async throws {
        try await tx.run(
            """
            INSERT INTO retired_host_credentials (credential_hash, host_id, retired_at) \
            SELECT credential_hash, host_id, \(bind: tx.nowValue) FROM host_credentials \
            WHERE host_id = \(bind: host.id.rawValue) AND revoked_at IS NULL
            """)
        try await tx.setLabels("host", host.id.rawValue, [:])
        try await tx.run("DELETE FROM hosts WHERE id = \(bind: host.id.rawValue)")
        try await tx.announce(.credentials)
        try await tx.audit("host.delete", "host", host.id.rawValue, before: AuditJSON.host(host), after: nil)
    }

    /// `AND project_id IN (...)`, or nothing matches for an empty set.
    static func appendProjectsFilter(_ query: inout SQLQueryString, _ projects: Set<ProjectID>) {
        guard !projects.isEmpty else {
            query.appendLiteral(" AND 1 = 0")
            return
        }
        query.appendLiteral(" AND project_id IN (")
        query.appendInterpolation(binds: projects.map(\.rawValue).sorted())
        query.appendLiteral(")")
    }

    /// Name unique in the project, cluster of the same project, and (with `listedKeys`) every key it lists present.
    static func checkHost(_ tx: Transaction, _ host: Host, listedKeys: Bool = true) async throws {
        if let row = try await tx.first(
            """
            SELECT id, name FROM hosts WHERE project_id = \(bind: host.project.rawValue) AND name = \(bind: host.name) \
            AND id <> \(bind: host.id.rawValue)
            """)
        {
            throw StoreError.conflict("a host with this name in this project", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
        }
        if let cluster = host.cluster {
            guard let row = try await tx.first("SELECT project_id FROM clusters WHERE id = \(bind: cluster.rawValue)") else {
                throw StoreError.invalidReference("cluster: no cluster has the identifier \(cluster)")
            }
            guard try Coding.string(row, "project_id") == host.project.rawValue else {
                throw StoreError.invalidReference("cluster: the cluster \(cluster) belongs to another project than the host")
            }
        }
        guard listedKeys else { return }
        try await tx.requireKeys(host.listedKeys, field: "keys")
    }

    static func writeHostDetails(_ tx: Transaction, _ host: Host) async throws {
        let id = host.id.rawValue
        for (position, login) in host.logins.enumerated() {
            let access = host.access(for: login)
            let mode = access == .inherited ? "inherited" : "explicit"
            try await tx.run(
                """
                INSERT INTO host_logins (host_id, login, position, mode) VALUES \
                (\(bind: id), \(bind: login.rawValue), \(bind: position), \(bind: mode))
                """)
            if case .explicit(let keys) = access {
                for (keyPosition, key) in keys.uniqued.enumerated() {
                    try await tx.run(
                        """
                        INSERT INTO host_login_keys (host_id, login, key_id, position) VALUES \
                        (\(bind: id), \(bind: login.rawValue), \(bind: key.rawValue), \(bind: keyPosition))
                        """)
                }
            }
        }
        for login in host.logins {
            for (position, key) in host.rescueKeys(for: login).uniqued.enumerated() {
                try await tx.run(
                    """
                    INSERT INTO host_login_rescue_keys (host_id, login, key_id, position) VALUES \
                    (\(bind: id), \(bind: login.rawValue), \(bind: key.rawValue), \(bind: position))
                    """)
            }
        }
        try await tx.setLabels("host", id, host.labels)
    }
}
