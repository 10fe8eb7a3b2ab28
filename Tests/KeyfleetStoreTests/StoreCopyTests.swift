import Foundation
import KeyfleetCore
import SQLKit
import Synchronization
import Testing
import TestSupport

@testable import KeyfleetStore

#if canImport(Glibc)
import Glibc
#endif

/// `keyfleet server migrate` and `backup` below the command line: an embedded registry copied into a real
/// PostgreSQL database table for table, and a backup taken while the store writes.
@Suite("SQLStore copies: SQLite into PostgreSQL, and online backups")
struct StoreCopyTests {
    /// A SQLite registry in which every table holds rows, made through the store with random names, keys and
    /// times; returns what the checks need to find again.
    static func filledRegistry(_ f: Fixture) async throws -> (token: [UInt8], credential: [UInt8], retired: [UInt8]) {
        let suffix = String(UUID().uuidString.prefix(8)).lowercased()
        func later() { f.determinism.advance(by: UInt64.random(in: 1...5000)) }
        let alice = try await f.store.createUser(name: "alice-\(suffix)", role: .user, by: f.principal)
        let bob = try await f.store.createUser(name: "bob-\(suffix)", role: .user, by: f.principal)
        let carol = try await f.store.createUser(name: "carol-\(suffix)", role: .user, by: f.principal)
        later()
        let token = (0..<32).map { _ in UInt8.random(in: 0...255) }
        _ = try await f.store.createToken(user: alice.id, tokenHash: token, scope: .readWrite, by: f.principal)
        let spare = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let revoked = try await f.store.createToken(user: bob.id, tokenHash: spare, scope: .readOnly, by: f.principal)
        _ = try await f.store.revokeToken(revoked.id, by: f.principal)
        later()
        let project = try await f.store.createProject(name: "web-\(suffix)", owner: alice.id, by: f.principal)
        _ = try await f.store.setMember(bob.id, role: .member, in: project.id, by: f.principal)
        _ = try await f.store.invite(carol.id, role: .member, to: project.id, by: f.principal)
        later()
        let personal = try await f.newKey("laptop-\(suffix)", owner: .user(alice.id), labels: ["kind": "personal"])
        let deployKey = try await f.newKey("deploy-\(suffix)", owner: .project(project.id), labels: ["tier": "\(Int.random(in: 1...9))"])
        let expiry = f.determinism.now + UInt64.random(in: 1000...99_999)
        let oncall = try await f.newKey("oncall-\(suffix)", owner: .project(project.id), expiresAt: expiry)
        later()
        let cluster = try await f.store.createCluster(by: f.principal) {
            try Cluster(id: $0, project: project.id, name: "pool-\(suffix)", keys: [deployKey.id])
        }
        let deploy = try LoginName("deploy")
        let host = try await f.store.createHost(by: f.principal) {
            try Host(
                id: $0, project: project.id, name: "web-1-\(suffix)", labels: ["role": "web", "zone": suffix], logins: [.root, deploy],
                cluster: cluster.id, access: [deploy: .explicit([deployKey.id, personal.id])], rescueKeys: [.root: [oncall.id]],
                rescueActive: true)
        }
        later()
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: digest(1), expiresAt: f.determinism.now + 600, by: f.principal)
        let credential = (0..<32).map { _ in UInt8.random(in: 0...255) }
        #expect(try await f.store.enroll(tokenHash: digest(1), credentialHash: credential) == host.id)
        let report = AgentReport(
            agentVersion: "1.\(Int.random(in: 0...99))", appliedVersion: try await f.store.version(), hostKeys: ["ssh-ed25519 AAAA\(suffix)"],
            delivery: ["files", "command", "legacy"].randomElement(),
            revokedKeysOutsideBlock: [RevokedKeyLine(login: "deploy", fingerprint: "SHA256:\(suffix)", line: 3)])
        try await f.store.recordAgentReport(report, host: host.id)
        // A deleted host leaves its credential retired.
        let gone = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "old-\(suffix)") }
        try await f.store.createEnrollmentToken(host: gone.id, tokenHash: digest(2), expiresAt: f.determinism.now + 600, by: f.principal)
        let retired = (0..<32).map { _ in UInt8.random(in: 0...255) }
        #expect(try await f.store.enroll(tokenHash: digest(2), credentialHash: retired) == gone.id)
        try await f.store.deleteHost(gone.id, by: f.principal)
        return (token, credential, retired)
    }

    /// Every row of every table in `plan`, as text, sorted (the engines may order rows differently).
    static func dump(_ store: SQLStore, _ plan: [TableCopy]) async throws -> [String: [String]] {
        let database = try await store.connection()
        var tables: [String: [String]] = [:]
        for table in plan {
            let rows = try await database.raw("SELECT \(idents: table.columns.map(\.name), joinedBy: ", ") FROM \(ident: table.name)").all()
            tables[table.name] = try rows.map { row in
                try table.columns.map { column in
                    switch column.kind {
                    case .integer: try row.decode(column: column.name, as: Int64?.self).map { String($0) } ?? "NULL"
                    case .text: try row.decode(column: column.name, as: String?.self).map { "'\($0)'" } ?? "NULL"
                    }
                }.joined(separator: "|")
            }.sorted()
        }
        return tables
    }

    static func openPostgreSQL(_ url: String, _ f: Fixture) async throws -> SQLStore {
        try await SQLStore.open(databaseURL: url, clock: { f.determinism.now }, makeID: { f.determinism.makeID() })
    }

    @Test("the tables read from the migrations are the tables a migrated registry has")
    func tablesFromMigrations() async throws {
        let f = try await Fixture(sqlite: true)
        let present = try await f.store.connection().raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
        ).all().map { try $0.decode(column: "name", as: String.self) }
        #expect(Set(Migrations.tables) == Set(present).subtracting(["schema_migrations"]))
        #expect(Migrations.tables.count == Set(Migrations.tables).count)
        #expect(!Migrations.tables.contains("host_rescue_keys") && Migrations.tables.contains("host_login_rescue_keys"))
        try await f.store.close()
    }

    @Test("every table is copied row for row into PostgreSQL; the copy serves the same registry and goes on from it")
    func copyIntoPostgreSQL() async throws {
        let f = try await Fixture(sqlite: true)
        let (token, credential, retired) = try await Self.filledRegistry(f)
        let plan = try await f.store.read { try await TableCopy.plan($0, known: Migrations.tables, name: "source") }
        let source = try await Self.dump(f.store, plan)
        for table in Migrations.tables {
            #expect(source[table]?.isEmpty == false, "the filled registry has no row in \(table): fill it, or the copy of it is not tested")
        }
        let target = try await Self.openPostgreSQL(try TestPostgres.shared().newDatabase(), f)
        let copy = try await f.store.copy(into: target, from: "source", to: "target")
        #expect(Set(copy.tables.map(\.name)) == Set(Migrations.tables))
        #expect(copy.tables.allSatisfy { $0.rows == source[$0.name]?.count })
        #expect(try await Self.dump(target, plan) == source)

        // Through the store's own API: the same registry, the same secrets, the same audit log.
        #expect(try await target.version() == (try await f.store.version()))
        #expect(UInt64(copy.version) == (try await f.store.version()))
        #expect(try await target.token(hash: token) == (try await f.store.token(hash: token)))
        #expect(try await target.host(credentialHash: credential) != nil)
        #expect(try await target.host(credentialHash: credential) == (try await f.store.host(credentialHash: credential)))
        #expect(try await target.isRetiredHostCredential(retired))
        let audit = try await f.store.audit(AuditFilter(), page: .largest).items
        #expect(try await target.audit(AuditFilter(), page: .largest).items == audit)
        #expect(Int64(audit.last?.sequence ?? 0) == copy.auditSequence)
        let copied = try await target.snapshot().registry
        let original = try await f.store.snapshot().registry
        #expect(copied.users == original.users && copied.projects == original.projects && copied.keys == original.keys)
        #expect(copied.hosts == original.hosts && copied.clusters == original.clusters)

        // The next change is audited after the copied ones.
        f.determinism.advance(by: 10)
        _ = try await target.createUser(name: "dave", role: .user, by: f.principal)
        let next = try #require(try await target.audit(AuditFilter(), page: .largest).items.last)
        #expect(next.sequence == (audit.last?.sequence ?? 0) + 1 && next.action == "user.create")
        try await target.close()
        try await f.store.close()
    }

    @Test("a target that holds any row is refused in one line, and nothing is written to it")
    func nonEmptyTargetRefused() async throws {
        let f = try await Fixture(sqlite: true)
        _ = try await Self.filledRegistry(f)
        let plan = try await f.store.read { try await TableCopy.plan($0, known: Migrations.tables, name: "source") }
        let url = try TestPostgres.shared().newDatabase()
        let target = try await Self.openPostgreSQL(url, f)
        // Another registry already lives there: a server started on it made its administrator.
        _ = try await target.createUser(name: "admin", role: .admin, by: .system)
        let before = try await Self.dump(target, plan)
        let error = await #expect(throws: StoreError.self) { try await f.store.copy(into: target, from: "source", to: "the database x") }
        #expect(error?.code == .notEmpty)
        #expect(error?.reason.contains("the database x is not empty") == true && error?.reason.contains("in users") == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("\n") == false)
        #expect(try await Self.dump(target, plan) == before)

        // Only an audit entry (a user created and deleted) is data too.
        let onlyAudit = try await Self.openPostgreSQL(try TestPostgres.shared().newDatabase(), f)
        let user = try await onlyAudit.createUser(name: "temp", role: .user, by: .system)
        try await onlyAudit.deleteUser(user.id, by: .system)
        let refused = await #expect(throws: StoreError.self) { try await f.store.copy(into: onlyAudit, from: "source", to: "target") }
        #expect(refused?.code == .notEmpty && refused?.reason.contains("in audit_log") == true, "\(refused?.reason ?? "")")
        try await onlyAudit.close()
        try await target.close()
        try await f.store.close()
    }

    @Test("a table the copier does not know fails the copy before anything is written")
    func unknownTableRefused() async throws {
        let f = try await Fixture(sqlite: true)
        _ = try await Self.filledRegistry(f)
        try await f.store.connection().raw("CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT)").run()
        let target = try await Self.openPostgreSQL(try TestPostgres.shared().newDatabase(), f)
        let error = await #expect(throws: StoreError.self) { try await f.store.copy(into: target, from: "the registry r", to: "target") }
        #expect(error?.code == .database)
        #expect(error?.reason.contains("the registry r has a table this program does not know how to copy, notes") == true, "\(error?.reason ?? "")")
        #expect(try await target.users(page: .first).items.isEmpty)
        #expect(try await target.audit(AuditFilter(), page: .first).items.isEmpty)
        try await target.close()
        try await f.store.close()
    }

    @Test("a PostgreSQL sequence that numbers a copied column goes on after the largest copied number")
    func sequencesContinue() async throws {
        let f = try await Fixture(sqlite: true)
        let source = try await f.store.connection()
        try await source.raw("CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").run()
        let ids = Set((0..<5).map { _ in Int64.random(in: 10...5000) })
        for id in ids { try await source.raw("INSERT INTO widgets (id, name) VALUES (\(bind: id), \(bind: "w\(id)"))").run() }
        let target = try await Self.openPostgreSQL(try TestPostgres.shared().newDatabase(), f)
        try await target.connection().raw("CREATE TABLE widgets (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)").run()
        _ = try await f.store.copy(into: target, known: Migrations.tables + ["widgets"], from: "source", to: "target")
        let next = try await target.connection().raw("INSERT INTO widgets (name) VALUES ('new') RETURNING id").first()
        #expect(try next?.decode(column: "id", as: Int64.self) == (ids.max() ?? 0) + 1)
        try await target.close()
        try await f.store.close()
    }

    @Test("migrate's own failures: a missing or empty data directory, a bad URL, no database; one line each, nothing made")
    func migrateFailures() async throws {
        let directory = try TemporaryDirectory()
        let postgres = try TestPostgres.shared()
        let url = try postgres.newDatabase()
        let missing = directory.file("missing")
        let cases: [(String, String, StoreError.Code, String)] = [
            (missing, url, .database, "the data directory \(missing) does not exist"),
            (directory.path, url, .database, "holds no registry (no keyfleet.sqlite)"),
            (directory.path, "mysql://u@h/db", .invalidInput, "the database URL has the scheme"),
        ]
        for (data, target, code, words) in cases {
            let error = await #expect(throws: StoreError.self) {
                try await SQLStore.migrate(dataDirectory: data, toDatabaseURL: target, logger: .init(label: "t"))
            }
            #expect(error?.code == code && error?.reason.lowercased().contains(words.lowercased()) == true, "\(error?.reason ?? "")")
            #expect(error?.reason.contains("\n") == false)
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(!FileManager.default.fileExists(atPath: directory.file("keyfleet.sqlite")))

        let f = try await Fixture(sqlite: true)
        try await f.store.close()
        let port = try TestPostgres.freePort()
        let nowhere = "postgres://u:secret-\(port)@127.0.0.1:\(port)/db?sslmode=disable"
        let error = await #expect(throws: StoreError.self) {
            try await SQLStore.migrate(dataDirectory: f.dataDirectory, toDatabaseURL: nowhere, connectTimeout: .seconds(3), logger: .init(label: "t"))
        }
        #expect(error?.code == .unavailable && error?.reason.contains("127.0.0.1:\(port)") == true, "\(error?.reason ?? "")")
        #expect(error?.reason.contains("secret") == false)

        // And it works from the directory: the public entry point opens, copies and closes both.
        let copy = try await SQLStore.migrate(dataDirectory: f.dataDirectory, toDatabaseURL: url, logger: .init(label: "t"))
        #expect(copy.tables.first(where: { $0.name == "users" })?.rows == 1 && copy.auditSequence == 1)
    }

    @Test("a backup taken while the store writes is one consistent state: an audit prefix with exactly its keys")
    func backupWhileWriting() async throws {
        let f = try await Fixture(sqlite: true)
        let project = try await f.store.createProject(name: "p", by: f.principal)
        for index in 0..<20 { _ = try await f.newKey("before-\(index)", owner: .project(project.id)) }
        let output = f.directory.file("backup.sqlite")
        let writing = Atomic<Bool>(true)
        let fixture = f
        let writer = Task {
            var index = 0
            while writing.load(ordering: .relaxed) {
                _ = try await fixture.newKey("during-\(index)", owner: .project(project.id))
                index += 1
            }
            return index
        }
        try await Task.sleep(for: .milliseconds(200))
        let backup = try await SQLStore.backup(dataDirectory: f.dataDirectory, to: output, logger: .init(label: "t"))
        writing.store(false, ordering: .relaxed)
        let written = try await writer.value
        #expect(written > 0, "the store wrote nothing while the backup ran")
        #expect(backup.file == output && backup.bytes > 0)

        var info = stat()
        #expect(stat(output, &info) == 0 && info.st_mode & 0o777 == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.directory.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "\(leftovers)")

        // The copy opens as a registry: its audit log is a prefix of the live one, and it has exactly the keys
        // those entries made.
        let restored = f.directory.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: output, toPath: restored + "/keyfleet.sqlite")
        let copy = try await SQLStore.open(dataDirectory: restored, clock: { f.determinism.now }, makeID: { f.determinism.makeID() })
        var copiedAudit: [AuditEntry] = []
        var page = PageRequest.largest
        while true {
            let items = try await copy.audit(AuditFilter(), page: page)
            copiedAudit += items.items
            guard let next = items.nextCursor else { break }
            page = PageRequest(limit: PageRequest.maximumLimit, cursor: next)
        }
        var liveAudit: [AuditEntry] = []
        page = PageRequest.largest
        while true {
            let items = try await f.store.audit(AuditFilter(), page: page)
            liveAudit += items.items
            guard let next = items.nextCursor else { break }
            page = PageRequest(limit: PageRequest.maximumLimit, cursor: next)
        }
        #expect(Int64(copiedAudit.count) == backup.auditSequence)
        #expect(Array(liveAudit.prefix(copiedAudit.count)) == copiedAudit)
        let created = Set(copiedAudit.filter { $0.action == "key.create" }.map(\.objectID))
        let registry = try await copy.snapshot().registry
        #expect(Set(registry.keys.keys.map(\.rawValue)) == created)
        #expect(try await copy.version() == UInt64(backup.version))
        try await copy.close()

        // An existing file is never replaced.
        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        let error = await #expect(throws: StoreError.self) {
            try await SQLStore.backup(dataDirectory: f.dataDirectory, to: output, logger: .init(label: "t"))
        }
        #expect(error?.code == .conflict && error?.reason == "\(output) exists; a backup never replaces a file")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
        try await f.store.close()
    }
}
