import KeyfleetCore
import SQLKit

/// The log of what each version changed, so that a server holding the registry at one version can move to
/// the next by reading what changed instead of everything.
///
/// - Every transaction that changes an object effective access reads (a user, project, key, host or
///   cluster) records it in `registry_changes` at the version its ``Transaction/bumpVersion()`` gives: the
///   audit entry records it for the object it names, and a cascade that changes other objects (a key leaving
///   host and cluster lists, a cluster's hosts leaving it) records those before it runs.
/// - Every version has a random mark in `registry_versions`. A database restored from a backup, or failed
///   over to a copy that lost the last commits, gives the same version numbers to other changes; their marks
///   differ, so a reader holding the old history reads everything again instead of applying the wrong changes.
/// - The last ``kept`` versions are kept; a reader further behind reads everything.
/// - A bulk import (``SQLStore/importObjects(_:by:)``) records one row, ``everything``, instead of its objects:
///   a reader past it reads everything, which costs less than applying a million changes one by one.
enum RegistryChangeLog {
    /// The object types recorded, as the audit log names them.
    static let objectTypes: Set<String> = ["user", "project", "key", "host", "cluster"]
    /// How many versions of changes are kept.
    static let kept: UInt64 = 8192
    /// Older changes are removed once every this many versions.
    static let pruneEvery: UInt64 = 1024
    /// The object type of the row that says a version changed too much to list.
    static let everything = "*"
}

extension SQLStore {
    // MARK: Version, snapshot and changes

    public func version() async throws -> UInt64 {
        try await read { db in try await Self.loadVersion(db) }
    }

    static func loadVersion(_ db: any SQLDatabase) async throws -> UInt64 {
        guard let row = try await db.raw("SELECT version FROM registry_state WHERE id = 1").first() else {
            throw StoreError(.database, "the registry_state row is missing")
        }
        return UInt64(clamping: try row.decode(column: "version", as: Int64.self))
    }

    static func loadMark(_ db: any SQLDatabase, _ version: UInt64) async throws -> Int64? {
        try await db.raw("SELECT mark FROM registry_versions WHERE version = \(bind: Int64(clamping: version))").first()?
            .decode(column: "mark", as: Int64.self)
    }

    public func snapshot() async throws -> VersionedRegistry {
        try await read { db in
            let version = try await Self.loadVersion(db)
            let mark = try await Self.loadMark(db, version)
            let users = try Loaders.users(db, try await db.raw("SELECT * FROM users ORDER BY id").all())
            let projects = try await Loaders.projects(db, try await db.raw("SELECT * FROM projects ORDER BY id").all(), all: true)
            let keys = try await Loaders.allKeys(db)
            let hosts = try await Loaders.hosts(db, try await db.raw("SELECT * FROM hosts ORDER BY id").all(), all: true)
            let clusters = try await Loaders.clusters(db, try await db.raw("SELECT * FROM clusters ORDER BY id").all(), all: true)
            return VersionedRegistry(
                version: version, mark: mark,
                registry: RegistrySnapshot(users: users, projects: projects, keys: keys, hosts: hosts, clusters: clusters))
        }
    }

    public func changes(after version: UInt64, mark: Int64) async throws -> RegistryDelta? {
        try await read { db in
            guard try await Self.loadMark(db, version) == mark else { return nil }
            let current = try await Self.loadVersion(db)
            let currentMark = try await Self.loadMark(db, current)
            guard current > version else {
                return current == version ? RegistryDelta(version: current, mark: currentMark, changes: RegistryChanges()) : nil
            }
            let rows = try await db.raw(
                """
                SELECT DISTINCT object_type, object_id FROM registry_changes \
                WHERE version > \(bind: Int64(clamping: version)) AND version <= \(bind: Int64(clamping: current))
                """
            ).all()
            var ids = [String: [String]]()
            for row in rows { ids[try Coding.string(row, "object_type"), default: []].append(try Coding.string(row, "object_id")) }
            guard ids[RegistryChangeLog.everything] == nil else { return nil }
            var changes = RegistryChanges()
            for (id, user) in try await Self.load(db, "users", ids["user"], Loaders.users) { changes.users.updateValue(user, forKey: id) }
            for (id, project) in try await Self.load(db, "projects", ids["project"], { try await Loaders.projects($0, $1) }) {
                changes.projects.updateValue(project, forKey: id)
            }
            for (id, key) in try await Self.load(db, "ssh_keys", ids["key"], { try await Loaders.keys($0, $1) }) {
                changes.keys.updateValue(key, forKey: id)
            }
            for (id, host) in try await Self.load(db, "hosts", ids["host"], { try await Loaders.hosts($0, $1) }) {
                changes.hosts.updateValue(host, forKey: id)
            }
            for (id, cluster) in try await Self.load(db, "clusters", ids["cluster"], { try await Loaders.clusters($0, $1) }) {
                changes.clusters.updateValue(cluster, forKey: id)
            }
            return RegistryDelta(version: current, mark: currentMark, changes: changes)
        }
    }

    /// The objects of `table` with the identifiers `ids` as they are now, nil for those that are gone.
    private static func load<Value: Identifiable>(
        _ db: any SQLDatabase, _ table: String, _ ids: [String]?,
        _ loader: (any SQLDatabase, [any SQLRow]) async throws -> [Value]
    ) async throws -> [(Value.ID, Value?)] where Value.ID == Identifier<Value> {
        guard let ids, !ids.isEmpty else { return [] }
        var found = [String: Value]()
        // In batches, within every database's limit on bound parameters.
        for batch in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let rows = try await db.raw("SELECT * FROM \(ident: table) WHERE id IN (\(binds: batch))").all()
            for value in try await loader(db, rows) { found[value.id.rawValue] = value }
        }
        return ids.compactMap { text in Identifier<Value>(rawValue: text).map { ($0, found[text]) } }
    }
}
