import Foundation
import KeyfleetCore
import SQLKit
import Testing

@testable import KeyfleetStore

@Suite("SQLStore on SQLite: settings and guards")
struct StoreSQLiteTests {
    @Test func connectionSettings() async throws {
        let f = try await Fixture(sqlite: true)
        let db = try await f.store.connection()
        #expect(try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self) == "wal")
        #expect(try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self) == 2)  // FULL
        #expect(try await db.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) == 1)
        #expect(try await db.raw("PRAGMA busy_timeout").first()?.decode(column: "timeout", as: Int.self) == 5000)
        let migrations = try await db.raw("SELECT number, name FROM schema_migrations").all()
        #expect(try migrations.map { try $0.decode(column: "number", as: Int.self) }.sorted() == Migrations.all.map(\.number))
        try await f.store.close()
    }

    @Test func filesArePrivate() async throws {
        let f = try await Fixture(sqlite: true)
        let directoryMode = try FileManager.default.attributesOfItem(atPath: f.dataDirectory)[.posixPermissions] as? Int
        let fileMode = try FileManager.default.attributesOfItem(atPath: f.dataDirectory + "/" + SQLStore.sqliteFileName)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        #expect(fileMode == 0o600)
    }
}
