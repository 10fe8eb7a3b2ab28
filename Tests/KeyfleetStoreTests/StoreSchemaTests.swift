import KeyfleetCore
import SQLKit
import Testing

@testable import KeyfleetStore

@Suite("SQLStore schema: the audit log's guard and migrations, on the engine the suite runs on")
struct StoreSchemaTests {
    @Test func auditLogIsAppendOnly() async throws {
        let f = try await Fixture()
        let db = try await f.store.connection()
        await #expect(throws: (any Error).self) { try await db.raw("UPDATE audit_log SET action = 'x'").run() }
        await #expect(throws: (any Error).self) { try await db.raw("DELETE FROM audit_log").run() }
        if f.databaseURL != nil {
            await #expect(throws: (any Error).self) { try await db.raw("TRUNCATE audit_log").run() }
        }
        #expect(try await f.store.audit(AuditFilter(), page: .first).items.count == 1)
        try await f.store.close()
    }

    @Test("migration 7 moves a host-wide rescue key to root, or to the first login of a host without root")
    func rescueKeysMigrateToALogin() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let key = try await f.newKey("oncall", owner: .project(project.id))
        let deploy = try LoginName("deploy")
        let withRoot = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "a", logins: [deploy, .root]) }
        let withoutRoot = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "b", logins: [deploy]) }
        // Back to schema 6 as an older release left it: one host-wide list, no flag.
        let db = try await f.store.connection()
        try await db.raw("DROP TABLE host_login_rescue_keys").run()
        try await db.raw("ALTER TABLE hosts DROP COLUMN rescue_active").run()
        try await db.raw(
            """
            CREATE TABLE host_rescue_keys (host_id TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE, \
            key_id TEXT NOT NULL REFERENCES ssh_keys(id) ON DELETE CASCADE, position INTEGER NOT NULL, PRIMARY KEY (host_id, key_id))
            """
        ).run()
        for host in [withRoot, withoutRoot] {
            try await db.raw(
                "INSERT INTO host_rescue_keys (host_id, key_id, position) VALUES (\(bind: host.id.rawValue), \(bind: key.id.rawValue), 0)"
            ).run()
        }
        try await db.raw("DELETE FROM schema_migrations WHERE number = 7").run()

        let reopened = try await f.reopen()
        let a = try #require(try await reopened.host(withRoot.id))
        let b = try #require(try await reopened.host(withoutRoot.id))
        #expect(a.rescueKeys == [.root: [key.id]] && !a.rescueActive)
        #expect(b.rescueKeys == [deploy: [key.id]] && !b.rescueActive)
        try await reopened.close()
    }
}
