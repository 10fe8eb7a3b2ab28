import KeyfleetCore
@testable import KeyfleetStore
import SSHKeys
import Testing

/// Bulk imports (``SQLStore/importObjects(_:by:)``): what they write is what the one-by-one writes would
/// have written, in the registry, the audit log and the change log; a refused import writes nothing.
@Suite("Bulk imports")
struct StoreImportTests {
    /// A store before an import: a project `existing` with one key, a user `member`, the registry and the
    /// number of audit entries.
    struct Existing {
        let f: Fixture
        let owner: Project
        let key: SSHKeyRecord
        let member: User
        let before: VersionedRegistry
        let auditCount: Int

        init() async throws {
            f = try await Fixture()
            owner = try await f.store.createProject(name: "existing", by: f.principal)
            key = try await f.newKey("existing", owner: .project(owner.id))
            member = try await f.store.createUser(name: "member", role: .user, by: f.principal)
            before = try await f.store.snapshot()
            auditCount = try await f.store.audit(AuditFilter(), page: PageRequest(limit: 1000)).items.count
        }
    }

    @Test("the whole read takes the keys a page at a time: every key once, as one query reads them, whatever the page size")
    func keysReadByPages() async throws {
        let existing = try await Existing()
        let f = existing.f
        try await f.store.importObjects(try Self.randomImport(f, existing: existing.key, member: existing.member.id), by: f.principal)
        let db = try await f.store.connection()
        let whole = try await Loaders.keys(db, try await db.raw("SELECT * FROM ssh_keys ORDER BY id").all())
        for pageSize in [1, 2, 7, whole.count, whole.count + 1] {
            #expect(try await Loaders.allKeys(db, pageSize: pageSize) == whole, "pages of \(pageSize)")
        }
        #expect(try await f.store.snapshot().registry.keys.count == whole.count)
        try await f.store.close()
    }

    /// A random import of 1 to 4 projects, each with up to 30 keys and up to 5 hosts; some hosts list keys on a
    /// login (one of them `existing`, made before), some have rescue keys, labels or a member.
    static func randomImport(_ f: Fixture, existing: SSHKeyRecord, member: UserID) throws -> RegistryImport {
        var objects = RegistryImport()
        let deploy = try LoginName("deploy")
        for p in 0..<Int.random(in: 1...4) {
            var members = [UserID: Project.Role]()
            if Bool.random() { members[member] = .member }
            let project = try Project(id: ProjectID(rawValue: f.determinism.makeID())!, name: "imported-\(p)", members: members)
            objects.projects.append(project)
            var keys = [SSHKeyRecord]()
            for k in 0..<Int.random(in: 0...30) {
                keys.append(
                    try SSHKeyRecord(
                        id: KeyID(rawValue: f.determinism.makeID())!, name: "key-\(k)", owner: .project(project.id),
                        publicKey: try TestKey.ed25519(), comment: "imported \(k)", labels: Bool.random() ? ["team": "t\(k % 3)"] : [:],
                        expiresAt: Bool.random() ? f.determinism.now + 86_400 : nil, createdBy: f.admin.id, createdAt: f.determinism.now))
            }
            objects.keys += keys
            for h in 0..<Int.random(in: 0...5) {
                let listed = ([existing.id] + keys.map(\.id)).shuffled().prefix(Int.random(in: 1...3))
                objects.hosts.append(
                    try Host(
                        id: HostID(rawValue: f.determinism.makeID())!, project: project.id, name: "host-\(h)",
                        labels: Bool.random() ? ["env": "prod"] : [:], logins: [.root, deploy],
                        access: Bool.random() ? [deploy: .explicit(Array(listed))] : [:],
                        rescueKeys: Bool.random() ? [.root: [existing.id]] : [:], address: Bool.random() ? "10.0.0.\(h)" : nil))
            }
        }
        return objects
    }

    @Test("an import is in the registry and in the audit log, one entry per object; readers past it read everything again", arguments: 0..<3)
    func importWrites(round: Int) async throws {
        let start = try await Existing()
        let (f, existing, before, auditBefore) = (start.f, start.key, start.before, start.auditCount)
        let objects = try Self.randomImport(f, existing: existing, member: start.member.id)

        try await f.store.importObjects(objects, by: f.principal)

        let after = try await f.store.snapshot()
        #expect(after.version == before.version + 1)
        for project in objects.projects { #expect(after.registry.projects[project.id] == project) }
        for key in objects.keys { #expect(after.registry.keys[key.id] == key) }
        for host in objects.hosts { #expect(after.registry.hosts[host.id] == host) }
        #expect(after.registry.projects.count == before.registry.projects.count + objects.projects.count)
        #expect(after.registry.keys.count == before.registry.keys.count + objects.keys.count)
        #expect(after.registry.hosts.count == before.registry.hosts.count + objects.hosts.count)

        // One entry per object, numbered on from the entries before, by the importer.
        let audit = try await f.store.audit(AuditFilter(), page: PageRequest(limit: 1000)).items.sorted { $0.sequence < $1.sequence }
        let added = audit.dropFirst(auditBefore)
        let expected =
            objects.projects.map { "project.create project \($0.id)" } + objects.keys.map { "key.create key \($0.id)" }
            + objects.hosts.map { "host.create host \($0.id)" }
        #expect(added.map { "\($0.action) \($0.objectType) \($0.objectID)" } == expected)
        #expect(added.map(\.sequence) == Array((UInt64(auditBefore) + 1)...(UInt64(audit.count))))
        #expect(added.allSatisfy { $0.user == f.admin.id && $0.after != nil && $0.before == nil })

        // A server holding the registry before the import reads it whole again; one holding it after the import
        // moves on by the change log.
        let beforeMark = try #require(before.mark)
        let afterMark = try #require(after.mark)
        #expect(try await f.store.changes(after: before.version, mark: beforeMark) == nil)
        let renamed = try await f.store.updateKey(existing.id, by: f.principal) { key, _ in try key.rename("renamed") }
        let delta = try #require(try await f.store.changes(after: after.version, mark: afterMark))
        #expect(delta.changes.keys.count == 1 && delta.changes.keys[existing.id] == renamed)
    }

    @Test("a refused import writes nothing: a name the owner has, a key the owner has, a project or key that does not exist")
    func refusedImport() async throws {
        let start = try await Existing()
        let (f, owner, existing, before, auditBefore) = (start.f, start.owner, start.key, start.before, start.auditCount)

        var objects = try Self.randomImport(f, existing: existing, member: start.member.id)
        let base = objects
        objects.projects[0] = try Project(id: objects.projects[0].id, name: "existing")
        let sameName = objects
        objects = base
        objects.keys.append(
            try SSHKeyRecord(
                id: KeyID(rawValue: f.determinism.makeID())!, name: "existing", owner: .project(owner.id), publicKey: try TestKey.ed25519(),
                createdBy: f.admin.id, createdAt: f.determinism.now))
        let keyName = objects
        objects = base
        objects.keys.append(
            try SSHKeyRecord(
                id: KeyID(rawValue: f.determinism.makeID())!, name: "copy", owner: .project(owner.id), publicKey: existing.publicKey,
                createdBy: f.admin.id, createdAt: f.determinism.now))
        let sameKey = objects
        objects = base
        objects.hosts.append(try Host(id: HostID(rawValue: f.determinism.makeID())!, project: ProjectID(rawValue: "id-999999")!, name: "orphan"))
        let noProject = objects
        objects = base
        objects.hosts.append(
            try Host(
                id: HostID(rawValue: f.determinism.makeID())!, project: owner.id, name: "listing",
                access: [.root: .explicit([KeyID(rawValue: "id-999998")!])]))
        let noKey = objects

        for (refused, code) in [
            (sameName, StoreError.Code.conflict), (keyName, .conflict), (sameKey, .conflict), (noProject, .invalidReference),
            (noKey, .invalidReference),
        ] {
            let error = await #expect(throws: StoreError.self) { try await f.store.importObjects(refused, by: f.principal) }
            #expect(error?.code == code)
            let now = try await f.store.snapshot()
            #expect(now.version == before.version)
            #expect(StoreChangesTests.differences(now.registry, before.registry).isEmpty)
            #expect(try await f.store.audit(AuditFilter(), page: PageRequest(limit: 1000)).items.count == auditBefore)
        }
    }
}
