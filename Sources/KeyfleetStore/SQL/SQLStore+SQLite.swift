import Foundation
import SQLKit
public import SQLiteKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SQLStore {
    /// The database file's name inside the data directory.
    public static let sqliteFileName = "keyfleet.sqlite"

    /// Opens (creating on first use) the SQLite registry in `dataDirectory` and migrates it.
    ///
    /// The directory is made mode 0700 and the database file 0600 before SQLite opens it (SQLite gives its
    /// `-wal` and `-shm` files the same mode). The connection runs with `journal_mode=WAL`,
    /// `synchronous=FULL` (an acknowledged write survives a crash or power loss), `foreign_keys=ON`, a
    /// 64 MiB page cache and a busy timeout. Queries are not logged: their binds include token hashes.
    ///
    /// - Parameters:
    ///   - clock: the time now, in seconds since 1970 UTC.
    ///   - makeID: a new unique identifier each call; `UUID().uuidString.lowercased()` in production.
    public static func open(
        dataDirectory: String, clock: @escaping @Sendable () -> UInt64, makeID: @escaping @Sendable () -> String,
        logger: Logger = Logger(label: "keyfleet.store")
    ) async throws -> SQLStore {
        let path = try prepareFiles(dataDirectory: dataDirectory)
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let database = connection.sql(queryLogLevel: nil)
        do {
            _ = try await database.raw("PRAGMA journal_mode = WAL").all()
            try await database.raw("PRAGMA synchronous = FULL").run()
            try await database.raw("PRAGMA foreign_keys = ON").run()
            try await database.raw(SQLQueryString(SQLFlavor.sqliteCacheSize)).run()
            _ = try await database.raw("PRAGMA busy_timeout = 5000").all()
            return try await SQLStore(link: SQLiteLink(connection: connection, database: database), clock: clock, makeID: makeID)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Makes the directory (0700) and the empty file (0600) if missing; returns the file's path.
    static func prepareFiles(dataDirectory: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StoreError(.database, "the data directory \(dataDirectory) is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StoreError(.database, "the data directory \(dataDirectory) cannot be created: \(error)")
            }
        }
        guard chmod(dataDirectory, 0o700) == 0 else {
            throw StoreError(.database, "the data directory \(dataDirectory) cannot be made private (mode 0700): errno \(errno)")
        }
        let path = dataDirectory + "/" + sqliteFileName
        let descriptor = Foundation.open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError(.database, "the database \(path) cannot be opened: errno \(errno)") }
        defer { _ = Foundation.close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else {
            throw StoreError(.database, "the database \(path) cannot be made private (mode 0600): errno \(errno)")
        }
        return path
    }
}

/// The one SQLite connection: it is a file, so it is never lost; every error is the error it is.
struct SQLiteLink: DatabaseLink {
    let connection: SQLiteConnection
    let database: any SQLDatabase

    var flavor: SQLFlavor { .sqlite }
    func database() async throws -> any SQLDatabase { database }
    func classify(_ error: any Error) -> DatabaseFailure { .error(error) }
    func close() async throws { try await connection.close() }
    // SQLiteNIO's close is not idempotent (a second one dereferences the freed handle): the store calls
    // this only when close() did not run.
    func closeWhenReleased() { _ = connection.close() as EventLoopFuture<Void> }
}
