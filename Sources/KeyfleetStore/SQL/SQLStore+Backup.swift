import Foundation
public import Logging
import SQLKit
import SQLiteKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What ``SQLStore/backup(dataDirectory:to:logger:)`` wrote.
public struct RegistryBackup: Sendable, Hashable {
    /// The file written.
    public let file: String
    /// Its size in bytes.
    public let bytes: Int
    /// The change version of the registry in it.
    public let version: Int64
    /// The number of the last audit entry in it.
    public let auditSequence: Int64
}

extension SQLStore {
    /// Writes a consistent copy of the embedded registry in `dataDirectory` to `file`, while its server runs.
    ///
    /// SQLite's `VACUUM INTO` reads one state of the database in a read transaction, which does not hold up
    /// the server's writes, into a temporary file made beside `file` (mode 0600, `O_EXCL`, no link followed);
    /// the copy is synced, checked (`PRAGMA quick_check`), and only then linked to `file`, which must not exist
    /// yet: an existing file is never replaced, even one made meanwhile. A failure leaves no file behind. The
    /// registry is neither migrated nor otherwise changed; the copy is a registry a server opens as
    /// `keyfleet.sqlite` in its data directory.
    ///
    /// - Throws: ``StoreError`` in one line: code `.conflict` when `file` exists, `.database` otherwise.
    public static func backup(dataDirectory: String, to file: String, logger: Logger) async throws -> RegistryBackup {
        let source = try existingRegistry(dataDirectory: dataDirectory)
        var info = stat()
        if lstat(file, &info) == 0 { throw StoreError(.conflict, "\(file) exists; a backup never replaces a file") }
        let slash = file.lastIndex(of: "/")
        let directory = slash.map { $0 == file.startIndex ? "/" : String(file[..<$0]) } ?? "."
        let base = slash.map { String(file[file.index(after: $0)...]) } ?? file
        guard !base.isEmpty else { throw StoreError(.database, "the backup file \(file) names a directory, not a file") }
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw StoreError(.database, "the directory of the backup file \(file) does not exist")
        }
        // Relative paths start with ./ so that SQLite never reads one as a file: URI.
        let place = directory.hasPrefix("/") ? directory : "./" + directory
        let temporary = place + "/." + base + ".tmp-" + UUID().uuidString.lowercased()
        let descriptor = Foundation.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.database, "the backup cannot be written in \(directory): \(String(cString: strerror(errno)))")
        }
        let madePrivate = fchmod(descriptor, 0o600) == 0
        _ = Foundation.close(descriptor)
        do {
            guard madePrivate else { throw StoreError(.database, "the backup file \(temporary) cannot be made private (mode 0600)") }
            try await vacuum(source, into: temporary, logger: logger)
            let (version, auditSequence) = try await check(temporary, logger: logger)
            try sync(temporary)
            guard hardLink(temporary, file) == 0 else {
                if errno == EEXIST { throw StoreError(.conflict, "\(file) exists; a backup never replaces a file") }
                throw StoreError(.database, "the backup cannot be named \(file): \(String(cString: strerror(errno)))")
            }
            _ = unlink(temporary)
            try sync(directory)
            guard stat(file, &info) == 0 else {
                throw StoreError(.database, "the backup \(file) cannot be read back: \(String(cString: strerror(errno)))")
            }
            return RegistryBackup(file: file, bytes: Int(info.st_size), version: version, auditSequence: auditSequence)
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    /// `VACUUM INTO` from the registry at `path` (opened without migrating it) into the empty file `temporary`.
    private static func vacuum(_ path: String, into temporary: String, logger: Logger) async throws {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let result: Result<Void, any Error>
        do {
            let database = connection.sql(queryLogLevel: nil)
            // The server may be writing: wait for its lock rather than fail at once.
            _ = try await database.raw("PRAGMA busy_timeout = 10000").all()
            let tables = try await database.raw(
                "SELECT COUNT(*) AS count FROM sqlite_master WHERE type = 'table' AND name IN ('registry_state', \(bind: migrationsTable))"
            ).first().map { try $0.decode(column: "count", as: Int.self) }
            guard tables == 2 else { throw StoreError(.database, "\(path) is an SQLite database but not a keyfleet registry") }
            try await database.raw("VACUUM INTO \(bind: temporary)").run()
            result = .success(())
        } catch let error as StoreError {
            result = .failure(error)
        } catch {
            let reason = String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
            result = .failure(StoreError(.database, "the registry \(path) cannot be copied: \(reason)"))
        }
        // Closed once, whatever happened: SQLiteNIO's close is not idempotent.
        try await connection.close()
        try result.get()
    }

    /// Checks the copy at `path` as SQLite reads it and returns its change version and last audit number.
    private static func check(_ path: String, logger: Logger) async throws -> (Int64, Int64) {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let result: Result<(Int64, Int64), any Error>
        do {
            let database = connection.sql(queryLogLevel: nil)
            let verdict = try await database.raw("PRAGMA quick_check").all().map { try $0.decode(column: "quick_check", as: String.self) }
            guard verdict == ["ok"] else {
                throw StoreError(.database, "the backup failed SQLite's check: \(verdict.prefix(3).joined(separator: "; "))")
            }
            guard let state = try await database.raw("SELECT version, audit_sequence FROM registry_state WHERE id = 1").first() else {
                throw StoreError(.database, "the backup has no registry_state row")
            }
            result = .success((try state.decode(column: "version", as: Int64.self), try state.decode(column: "audit_sequence", as: Int64.self)))
        } catch {
            result = .failure(error)
        }
        // Closed once, whatever happened: SQLiteNIO's close is not idempotent.
        try await connection.close()
        return try result.get()
    }

    /// fsync of the file or directory at `path`.
    private static func sync(_ path: String) throws {
        let descriptor = Foundation.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0, fsync(descriptor) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { _ = Foundation.close(descriptor) }
            throw StoreError(.database, "\(path) cannot be synced to disk: \(reason)")
        }
        _ = Foundation.close(descriptor)
    }
}

/// link(2): a second name for a file, refused with EEXIST when the name is taken.
private func hardLink(_ existing: String, _ new: String) -> Int32 {
    #if canImport(Glibc)
    Glibc.link(existing, new)
    #else
    Darwin.link(existing, new)
    #endif
}
