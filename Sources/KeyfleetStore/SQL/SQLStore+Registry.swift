public import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Version and snapshot

    public func version() async throws -> UInt64 {
        try await read { db in try await Self.loadVersion(db) }
    }

    static func loadVersion(_ db: any SQLDatabase) async throws -> UInt64 {
        guard let row = try await db.raw("SELECT version FROM registry_state WHERE id = 1").first() else {
            throw StoreError(.database, "the registry_state row is missing")
        }
        return UInt64(clamping: try row.decode(column: "version", as: Int64.self))
    }

    public func snapshot() async throws -> (version: UInt64, registry: RegistrySnapshot) {
        try await read { db in
            let version = try await Self.loadVersion(db)
            let users = try Loaders.users(db, try await db.raw("SELECT * FROM users ORDER BY id").all())
            let projects = try await Loaders.projects(db, try await db.raw("SELECT * FROM projects ORDER BY id").all(), all: true)
            let keys = try await Loaders.keys(db, try await db.raw("SELECT * FROM ssh_keys ORDER BY id").all(), all: true)
            let hosts = try await Loaders.hosts(db, try await db.raw("SELECT * FROM hosts ORDER BY id").all(), all: true)
            let clusters = try await Loaders.clusters(db, try await db.raw("SELECT * FROM clusters ORDER BY id").all(), all: true)
            return (version, RegistrySnapshot(users: users, projects: projects, keys: keys, hosts: hosts, clusters: clusters))
        }
    }
}
