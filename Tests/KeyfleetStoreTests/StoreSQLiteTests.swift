import KeyfleetCore
import SQLKit
import Testing

@testable import KeyfleetStore

@Suite("SQLStore on SQLite: settings and guards")
struct StoreSQLiteTests {
    @Test func connectionSettings() async throws {
        let f = try await Fixture()
        let db = f.store.database
        #expect(try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self) == "wal")
        #expect(try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self) == 2)  // FULL
        #expect(try await db.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self) == 1)
        #expect(try await db.raw("PRAGMA busy_timeout").first()?.decode(column: "timeout", as: Int.self) == 5000)
        let migrations = try await db.raw("SELECT number, name FROM schema_migrations").all()
        #expect(try migrations.map { try $0.decode(column: "number", as: Int.self) }.sorted() == Migrations.all.map(\.number))
        try await f.store.close()
    }

    @Test func auditLogIsAppendOnly() async throws {
        let f = try await Fixture()
        let db = f.store.database
        await #expect(throws: (any Error).self) { try await db.raw("UPDATE audit_log SET action = 'x'").run() }
        await #expect(throws: (any Error).self) { try await db.raw("DELETE FROM audit_log").run() }
        #expect(try await f.store.audit(AuditFilter(), page: .first).items.count == 1)
        try await f.store.close()
    }
}
