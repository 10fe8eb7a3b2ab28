import Foundation
public import Logging
import SQLKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StoreError.Code {
    /// The database a registry is to be copied into already holds data (HTTP 409 were it ever served).
    public static let notEmpty = StoreError.Code(rawValue: "not-empty")
}

/// What ``SQLStore/migrate(dataDirectory:toDatabaseURL:connectTimeout:logger:)`` copied, as verified after the
/// copy and before its commit.
public struct RegistryCopy: Sendable, Hashable {
    /// One table and its rows, the same number in both databases.
    public struct Table: Sendable, Hashable {
        /// The table's name.
        public let name: String
        /// How many rows it holds.
        public let rows: Int
    }

    /// Every table copied, in the order copied: a table before those whose rows refer to its rows.
    public let tables: [Table]
    /// The registry's change version, carried over.
    public let version: Int64
    /// The number of the last audit entry, carried over: the next change is audited as the one after.
    public let auditSequence: Int64

    /// The rows of every table together.
    public var rows: Int { tables.reduce(0) { $0 + $1.rows } }
}

extension SQLStore {
    /// Copies the embedded registry in `dataDirectory` into the PostgreSQL database `databaseURL` names, which
    /// must hold no registry: every table the migrations make, row for row (users, hashed tokens, projects,
    /// members and invitations, keys, hosts with their logins, labels, rescue keys, enrollment and agent state,
    /// clusters, host credentials, the audit log with its sequence numbers and times, the change version).
    ///
    /// Both databases are opened as a server opens them, so both are migrated to this program's schema first.
    /// The registry is read in one transaction (one consistent state) and written in one PostgreSQL transaction,
    /// which checks that the target holds nothing yet and, before it commits, that every table holds as many
    /// rows as the registry's. Any failure leaves the target as it was. Stop the servers of the registry first:
    /// what they change after the copy's read began is not copied.
    ///
    /// - Throws: ``StoreError`` in one line: code `.notEmpty` when the target holds data; `.invalidInput` for
    ///   a malformed URL; `.unavailable` when the database cannot be reached; `.database` for a data directory
    ///   without a readable registry, a table this program does not know, or counts that disagree.
    public static func migrate(
        dataDirectory: String, toDatabaseURL databaseURL: String, connectTimeout: Duration = .seconds(10), logger: Logger
    ) async throws -> RegistryCopy {
        let url = try DatabaseURL(databaseURL)
        let sourceFile = try existingRegistry(dataDirectory: dataDirectory)
        let clock: @Sendable () -> UInt64 = { UInt64(max(0, Date().timeIntervalSince1970)) }
        let makeID: @Sendable () -> String = { UUID().uuidString.lowercased() }
        let source = try await open(dataDirectory: dataDirectory, clock: clock, makeID: makeID, logger: logger)
        do {
            let target = try await open(databaseURL: databaseURL, clock: clock, makeID: makeID, connectTimeout: connectTimeout, logger: logger)
            do {
                let copy = try await source.copy(
                    into: target, from: "the registry \(sourceFile)", to: "the database \(url.database) at \(url.host):\(url.port)")
                try await target.close()
                try await source.close()
                return copy
            } catch {
                try? await target.close()
                throw error
            }
        } catch {
            try? await source.close()
            throw error
        }
    }

    /// The tables whose rows the migrations make (`registry_state`'s one row, the mark of the version at
    /// migration): the copy replaces them.
    static let seededTables: Set<String> = ["registry_state", "registry_versions"]
    /// The table that records the migrations applied: compared, not copied (each database keeps its own times).
    static let migrationsTable = "schema_migrations"

    /// Copies everything in this SQLite store into `target`, which must hold no registry, in one transaction
    /// of each; see ``migrate(dataDirectory:toDatabaseURL:connectTimeout:logger:)``.
    ///
    /// - Parameters:
    ///   - known: the tables the copier knows; a table of this database not among them fails the copy.
    ///   - sourceName: the registry, as errors name it.
    ///   - targetName: the target, as errors name it.
    func copy(
        into target: SQLStore, known: [String] = Migrations.tables, from sourceName: String, to targetName: String
    ) async throws -> RegistryCopy {
        guard flavor.name == SQLFlavor.sqlite.name else {
            throw StoreError(.database, "\(sourceName) is on \(flavor.name); registries are copied only from SQLite")
        }
        return try await read { source in
            let plan = try await TableCopy.plan(source, known: known, name: sourceName)
            let applied = try await TableCopy.migrations(source)
            var counts: [String: Int] = [:]
            for table in plan { counts[table.name] = try await TableCopy.count(source, table.name) }
            guard let state = try await source.raw("SELECT version, audit_sequence FROM registry_state WHERE id = 1").first() else {
                throw StoreError(.database, "\(sourceName) has no registry_state row")
            }
            let version = try state.decode(column: "version", as: Int64.self)
            let auditSequence = try state.decode(column: "audit_sequence", as: Int64.self)

            return try await target.write(by: .system) { transaction in
                let database = transaction.database
                let targetApplied = try await TableCopy.migrations(database)
                guard targetApplied == applied else {
                    throw StoreError(
                        .database,
                        "\(targetName) has the migrations \(targetApplied.sorted()) but \(sourceName) has \(applied.sorted()); nothing was copied")
                }
                var held: [String] = []
                for table in plan where !Self.seededTables.contains(table.name) {
                    let rows = try await TableCopy.count(database, table.name)
                    if rows > 0 { held.append("\(rows) in \(table.name)") }
                }
                guard held.isEmpty else {
                    throw StoreError(
                        .notEmpty,
                        "\(targetName) is not empty (it holds rows: \(held.prefix(4).joined(separator: ", "))); "
                            + "a registry is copied only into an empty database, and nothing was written")
                }
                var copied: [String: Int] = [:]
                for table in plan {
                    if Self.seededTables.contains(table.name) { try await database.raw("DELETE FROM \(ident: table.name)").run() }
                    copied[table.name] = try await table.copy(from: source, to: database, name: sourceName)
                }
                if target.flavor.name == SQLFlavor.postgres.name {
                    try await TableCopy.continueSequences(database, tables: plan.map(\.name))
                }
                var tables: [RegistryCopy.Table] = []
                for table in plan {
                    let read = counts[table.name] ?? 0
                    let written = try await TableCopy.count(database, table.name)
                    guard copied[table.name] == read, written == read else {
                        throw StoreError(
                            .database,
                            "table \(table.name): \(read) rows in \(sourceName), \(copied[table.name] ?? 0) copied, \(written) in \(targetName); "
                                + "nothing was written")
                    }
                    tables.append(RegistryCopy.Table(name: table.name, rows: read))
                }
                return RegistryCopy(tables: tables, version: version, auditSequence: auditSequence)
            }
        }
    }

    /// The path of the registry's database file in `dataDirectory`, after checking that it exists and can be
    /// read as an SQLite database; nothing is made or changed.
    static func existingRegistry(dataDirectory: String) throws -> String {
        var info = stat()
        guard stat(dataDirectory, &info) == 0 else {
            if errno == ENOENT { throw StoreError(.database, "the data directory \(dataDirectory) does not exist") }
            throw StoreError(.database, "the data directory \(dataDirectory) cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw StoreError(.database, "the data directory \(dataDirectory) is not a directory") }
        let path = (dataDirectory.hasPrefix("/") ? "" : "./") + dataDirectory + "/" + sqliteFileName
        let descriptor = Foundation.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw StoreError(.database, "the data directory \(dataDirectory) holds no registry (no \(sqliteFileName))") }
            throw StoreError(.database, "the registry \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { _ = Foundation.close(descriptor) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = header.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, 16) }
        guard count >= 0 else { throw StoreError(.database, "the registry \(path) cannot be read: \(String(cString: strerror(errno)))") }
        guard count > 0 else { throw StoreError(.database, "the data directory \(dataDirectory) holds no registry (\(sqliteFileName) is empty)") }
        guard count == 16, header == Array("SQLite format 3\0".utf8) else {
            throw StoreError(.database, "the registry \(path) is not an SQLite database")
        }
        return path
    }
}

extension Migrations {
    /// The tables the migrations leave, in the order they are made: PostgreSQL makes a table only after those
    /// it refers to, so this order copies referenced rows first. Read from the statements themselves, so that
    /// a table a later migration adds is copied without anyone listing it.
    static var tables: [String] {
        var tables: [String] = []
        for migration in all {
            for statement in migration.statements(.sqlite) {
                let words = statement.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).map { $0.replacingOccurrences(of: "\"", with: "") }
                guard words.count >= 3, words[1].uppercased() == "TABLE" else { continue }
                let conditional = words.count > 3 && words[2].uppercased() == "IF"
                switch words[0].uppercased() {
                case "CREATE":
                    let index = conditional ? 5 : 2
                    if index < words.count, !tables.contains(words[index]) { tables.append(words[index]) }
                case "DROP":
                    let index = conditional ? 4 : 2
                    if index < words.count { tables.removeAll { $0 == words[index] } }
                case "ALTER" where words.count >= 6 && words[3].uppercased() == "RENAME" && words[4].uppercased() == "TO":
                    if let index = tables.firstIndex(of: words[2]) { tables[index] = words[5] }
                default:
                    continue
                }
            }
        }
        return tables
    }
}

/// One table to copy: its columns as the registry declares them, read and written as integers or text.
struct TableCopy {
    enum Kind { case integer, text }

    let name: String
    let columns: [(name: String, kind: Kind)]

    /// The registry's tables in the order to copy them: `known`'s order, except that a table comes after every
    /// table its foreign keys name. A table not in `known` (or in `known` but missing) fails the copy.
    static func plan(_ source: any SQLDatabase, known: [String], name: String) async throws -> [TableCopy] {
        let present = try await source.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name"
        ).all().map { try $0.decode(column: "name", as: String.self) }
        if let unknown = present.first(where: { !known.contains($0) && $0 != SQLStore.migrationsTable }) {
            throw StoreError(.database, "\(name) has a table this program does not know how to copy, \(unknown); nothing was copied")
        }
        if let missing = known.first(where: { !present.contains($0) }) {
            throw StoreError(.database, "\(name) has no table \(missing), which its schema should have; nothing was copied")
        }
        var parents: [String: Set<String>] = [:]
        var tables: [String: TableCopy] = [:]
        for table in known {
            let references = try await source.raw("SELECT \"table\" AS parent FROM pragma_foreign_key_list(\(bind: table))").all()
            parents[table] = Set(try references.map { try $0.decode(column: "parent", as: String.self) }).subtracting([table])
            var columns: [(name: String, kind: Kind)] = []
            for row in try await source.raw("SELECT name, type FROM pragma_table_info(\(bind: table)) ORDER BY cid").all() {
                let column = try row.decode(column: "name", as: String.self)
                let type = try row.decode(column: "type", as: String.self).uppercased()
                if type.contains("INT") {
                    columns.append((column, .integer))
                } else if type.contains("TEXT") || type.contains("CHAR") || type.contains("CLOB") {
                    columns.append((column, .text))
                } else {
                    throw StoreError(
                        .database, "\(name): column \(table).\(column) has the type \"\(type)\", which the copier cannot carry; nothing was copied")
                }
            }
            tables[table] = TableCopy(name: table, columns: columns)
        }
        var ordered: [TableCopy] = []
        var placed = Set<String>()
        while ordered.count < known.count {
            guard let next = known.first(where: { !placed.contains($0) && (parents[$0] ?? []).isSubset(of: placed) }), let table = tables[next] else {
                let left = known.filter { !placed.contains($0) }
                throw StoreError(
                    .database, "\(name): the foreign keys of \(left.joined(separator: ", ")) refer to each other in a cycle; nothing was copied")
            }
            ordered.append(table)
            placed.insert(next)
        }
        return ordered
    }

    /// The numbers of the migrations a database has applied.
    static func migrations(_ database: any SQLDatabase) async throws -> Set<Int> {
        let rows = try await database.raw("SELECT number FROM \(ident: SQLStore.migrationsTable)").all()
        return Set(try rows.map { try $0.decode(column: "number", as: Int.self) })
    }

    /// The number of rows of `table`.
    static func count(_ database: any SQLDatabase, _ table: String) async throws -> Int {
        guard let row = try await database.raw("SELECT COUNT(*) AS count FROM \(ident: table)").first() else { return 0 }
        return Int(try row.decode(column: "count", as: Int64.self))
    }

    /// Copies every row of this table from `source` (SQLite) to `target` in pages, in the order SQLite keeps
    /// them (`rowid`, which is the order they were written); returns how many.
    func copy(from source: any SQLDatabase, to target: any SQLDatabase, name: String) async throws -> Int {
        let names = columns.map(\.name)
        // PostgreSQL takes at most 65,535 parameters in one statement.
        let pageSize = max(1, min(1000, 30_000 / max(1, columns.count)))
        let rowid = "keyfleet_copy_rowid"
        var after = Int64.min
        var copied = 0
        while true {
            let rows = try await source.raw(
                """
                SELECT rowid AS \(ident: rowid), \(idents: names, joinedBy: ", ") FROM \(ident: self.name) \
                WHERE rowid > \(bind: after) ORDER BY rowid LIMIT \(literal: pageSize)
                """
            ).all()
            guard let last = rows.last else { return copied }
            let insert = target.insert(into: self.name).columns(names)
            for row in rows {
                insert.values(try values(row, name: name))
            }
            try await insert.run()
            copied += rows.count
            after = try last.decode(column: rowid, as: Int64.self)
            if rows.count < pageSize { return copied }
        }
    }

    /// One row's values, typed as the columns are declared.
    private func values(_ row: any SQLRow, name: String) throws -> [any Encodable & Sendable] {
        try columns.map { column in
            do {
                switch column.kind {
                case .integer: return try row.decode(column: column.name, as: Int64?.self)
                case .text: return try row.decode(column: column.name, as: String?.self)
                }
            } catch {
                let rowid = (try? row.decode(column: "keyfleet_copy_rowid", as: Int64.self)).map(String.init) ?? "?"
                let kind = column.kind == .integer ? "an integer" : "text"
                throw StoreError(.database, "\(name): \(self.name).\(column.name) of row \(rowid) is not \(kind); nothing was copied")
            }
        }
    }

    /// Moves each PostgreSQL sequence that fills a column of `tables` (`SERIAL`, `IDENTITY`) past the largest
    /// value copied into it, so that the next row the database numbers does not take a copied row's number.
    static func continueSequences(_ database: any SQLDatabase, tables: [String]) async throws {
        let rows = try await database.raw(
            """
            SELECT table_name::text AS table_name, column_name::text AS column_name, \
            pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence_name \
            FROM information_schema.columns WHERE table_schema = current_schema()
            """
        ).all()
        for row in rows {
            let table = try row.decode(column: "table_name", as: String.self)
            guard tables.contains(table), let sequence = try row.decode(column: "sequence_name", as: String?.self) else { continue }
            let column = try row.decode(column: "column_name", as: String.self)
            try await database.raw(
                """
                SELECT setval(CAST(\(bind: sequence) AS regclass), largest) \
                FROM (SELECT MAX(\(ident: column)) AS largest FROM \(ident: table)) AS copied WHERE largest IS NOT NULL
                """
            ).run()
        }
    }
}
