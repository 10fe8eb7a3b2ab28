public import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Clusters

    public func createCluster(by principal: Principal, _ make: @Sendable (ClusterID) throws -> Cluster) async throws -> Cluster {
        try await write(by: principal) { tx in
            let cluster = try make(try tx.newID())
            guard try await Self.loadProject(tx.database, cluster.project) != nil else {
                throw StoreError.invalidReference("project: no project has the identifier \(cluster.project)")
            }
            try await Self.checkCluster(tx, cluster)
            try await tx.run(
                """
                INSERT INTO clusters (id, project_id, name, created_at) VALUES (\(bind: cluster.id.rawValue), \
                \(bind: cluster.project.rawValue), \(bind: cluster.name), \(bind: tx.nowValue))
                """)
            try await Self.writeClusterKeys(tx, cluster)
            try await tx.audit("cluster.create", "cluster", cluster.id.rawValue, before: nil, after: AuditJSON.cluster(cluster))
            try await tx.bumpVersion()
            return cluster
        }
    }

    public func cluster(_ id: ClusterID) async throws -> Cluster? {
        try await read { db in try await Self.loadCluster(db, id) }
    }

    static func loadCluster(_ db: any SQLDatabase, _ id: ClusterID) async throws -> Cluster? {
        try await Loaders.clusters(db, try await db.raw("SELECT * FROM clusters WHERE id = \(bind: id.rawValue)").all()).first
    }

    public func clusters(project: ProjectID?, page: PageRequest) async throws -> Page<Cluster> {
        try await clusters(ClusterFilter(project: project), page: page)
    }

    public func clusters(_ filter: ClusterFilter, page: PageRequest) async throws -> Page<Cluster> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM clusters WHERE id > \(bind: after)"
            if let project = filter.project {
                query.appendLiteral(" AND project_id = ")
                query.appendInterpolation(bind: project.rawValue)
            }
            if let name = filter.name {
                query.appendLiteral(" AND name = ")
                query.appendInterpolation(bind: name)
            }
            if let projects = filter.projects { Self.appendProjectsFilter(&query, projects) }
            query.appendLiteral(" ORDER BY id LIMIT \(page.limit + 1)")
            let clusters = try await Loaders.clusters(db, try await db.raw(query).all())
            return Coding.page(clusters, limit: page.limit) { $0.id.rawValue }
        }
    }

    public func updateCluster(_ id: ClusterID, by principal: Principal, _ change: @Sendable (inout Cluster) throws -> Void) async throws -> Cluster {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadCluster(tx.database, id) else { throw StoreError.notFound("cluster", id.rawValue) }
            var after = before
            try change(&after)
            try await Self.checkCluster(tx, after)
            try await tx.run("UPDATE clusters SET name = \(bind: after.name) WHERE id = \(bind: id.rawValue)")
            try await tx.run("DELETE FROM cluster_keys WHERE cluster_id = \(bind: id.rawValue)")
            try await Self.writeClusterKeys(tx, after)
            try await tx.audit("cluster.update", "cluster", id.rawValue, before: AuditJSON.cluster(before), after: AuditJSON.cluster(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func deleteCluster(_ id: ClusterID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadCluster(tx.database, id) else { throw StoreError.notFound("cluster", id.rawValue) }
            try await Self.removeCluster(tx, before)
            try await tx.bumpVersion()
        }
    }

    /// Deletes `cluster` inside `tx` with its audit entry; its hosts stay, outside any cluster.
    static func removeCluster(_ tx: Transaction, _ cluster: Cluster) async throws {
        try await tx.touchAll("host", "SELECT id AS object_id FROM hosts WHERE cluster_id = \(bind: cluster.id.rawValue)")
        try await tx.run("DELETE FROM clusters WHERE id = \(bind: cluster.id.rawValue)")
        try await tx.audit("cluster.delete", "cluster", cluster.id.rawValue, before: AuditJSON.cluster(cluster), after: nil)
    }

    static func checkCluster(_ tx: Transaction, _ cluster: Cluster) async throws {
        if let row = try await tx.first(
            """
            SELECT id, name FROM clusters WHERE project_id = \(bind: cluster.project.rawValue) AND name = \(bind: cluster.name) \
            AND id <> \(bind: cluster.id.rawValue)
            """)
        {
            throw StoreError.conflict(
                "a cluster with this name in this project", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
        }
        try await tx.requireKeys(cluster.keys, field: "keys")
    }

    static func writeClusterKeys(_ tx: Transaction, _ cluster: Cluster) async throws {
        for (position, key) in cluster.keys.uniqued.enumerated() {
            try await tx.run(
                """
                INSERT INTO cluster_keys (cluster_id, key_id, position) VALUES \
                (\(bind: cluster.id.rawValue), \(bind: key.rawValue), \(bind: position))
                """)
        }
    }
}
