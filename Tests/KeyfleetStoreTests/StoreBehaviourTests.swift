import Foundation
import KeyfleetCore
import KeyfleetStore
import SSHKeys
import Testing

@Suite("SQLStore: concurrency, durability, audit, version, snapshot")
struct StoreBehaviourTests {
    @Test func enrollmentTokenIsConsumedExactlyOnceUnder50Tasks() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let host = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "web-1") }
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: digest(1), expiresAt: f.determinism.now + 600, by: f.principal)
        let store = f.store
        let winners = try await withThrowingTaskGroup(of: HostID?.self) { group in
            for index in 0..<50 {
                group.addTask { try await store.enroll(tokenHash: digest(1), credentialHash: digest(UInt8(100 + index))) }
            }
            var winners = [HostID]()
            for try await result in group { if let result { winners.append(result) } }
            return winners
        }
        #expect(winners == [host.id])
        let enrollments = try await f.store.audit(AuditFilter(objectID: host.id.rawValue), page: .first).items.filter { $0.action == "host.enroll" }
        #expect(enrollments.count == 1)
    }

    @Test func hundredConcurrentCreatesOfDistinctNamesAllLand() async throws {
        let f = try await Fixture()
        let keys = try (0..<100).map { _ in try TestKey.ed25519() }
        let store = f.store
        let principal = f.principal
        let owner = KeyOwner.user(f.admin.id)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, key) in keys.enumerated() {
                group.addTask { _ = try await store.createKey(NewKey(name: "key-\(index)", owner: owner, publicKey: key), by: principal) }
            }
            try await group.waitForAll()
        }
        let stored = try await f.store.keys(KeyFilter(), page: .largest).items
        #expect(stored.count == 100)
        #expect(Set(stored.map(\.name)) == Set((0..<100).map { "key-\($0)" }))
        #expect(Set(stored.map(\.id)).count == 100)
        #expect(Set(stored.map(\.sha256Fingerprint)) == Set(keys.map { $0.fingerprint(.sha256) }))
    }

    @Test func hundredConcurrentCreatesOfOneNameGiveOneKey() async throws {
        let f = try await Fixture()
        let keys = try (0..<100).map { _ in try TestKey.ed25519() }
        let store = f.store
        let principal = f.principal
        let owner = KeyOwner.user(f.admin.id)
        let outcomes = await withTaskGroup(of: Result<SSHKeyRecord, StoreError>.self) { group in
            for key in keys {
                group.addTask {
                    do {
                        return .success(try await store.createKey(NewKey(name: "same", owner: owner, publicKey: key), by: principal))
                    } catch let error as StoreError {
                        return .failure(error)
                    } catch {
                        return .failure(StoreError(.database, "\(error)"))
                    }
                }
            }
            var outcomes = [Result<SSHKeyRecord, StoreError>]()
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let successes = outcomes.compactMap { try? $0.get() }
        let conflicts = outcomes.compactMap { outcome -> StoreError? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        #expect(successes.count == 1)
        #expect(conflicts.count == 99)
        #expect(conflicts.allSatisfy { $0.code == .conflict && $0.existingID == successes.first?.id.rawValue && $0.existingName == "same" })
        #expect(try await f.store.keys(KeyFilter(), page: .largest).items.map(\.id) == successes.map(\.id))
    }

    @Test func everythingSurvivesARestart() async throws {
        let f = try await Fixture()
        let bob = try await f.store.createUser(name: "bob", role: .user, by: f.principal)
        let token = try await f.store.createToken(user: bob.id, tokenHash: digest(3), scope: .readWrite, by: f.principal)
        let project = try await f.store.setMember(
            bob.id, role: .member, in: try await f.store.createProject(name: "web", by: f.principal).id, by: f.principal)
        let key = try await f.newKey("bob-laptop", owner: .user(bob.id), labels: ["a": "b"], expiresAt: f.determinism.now + 86_400)
        let cluster = try await f.store.createCluster(by: f.principal) { try Cluster(id: $0, project: project.id, name: "c", keys: [key.id]) }
        let host = try await f.store.createHost(by: f.principal) {
            try Host(
                id: $0, project: project.id, name: "h", labels: ["x": "y"], cluster: cluster.id, rescueKeys: [.root: [key.id]], rescueActive: true)
        }
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: digest(4), expiresAt: f.determinism.now + 600, by: f.principal)
        let before = try await f.store.snapshot()
        let auditBefore = try await f.store.audit(AuditFilter(), page: .largest).items

        let reopened = try await f.reopen()
        #expect(try await reopened.user(bob.id) == bob)
        #expect(try await reopened.token(hash: digest(3)) == token)
        #expect(try await reopened.project(project.id) == project)
        #expect(try await reopened.key(key.id) == key)
        #expect(try await reopened.cluster(cluster.id) == cluster)
        #expect(try await reopened.host(host.id) == host)
        #expect(try await reopened.audit(AuditFilter(), page: .largest).items == auditBefore)
        let after = try await reopened.snapshot()
        #expect(after.version == before.version)
        #expect(after.registry.keys == before.registry.keys && after.registry.hosts == before.registry.hosts)
        #expect(try await reopened.enroll(tokenHash: digest(4), credentialHash: digest(5)) == host.id)
        try await reopened.close()
    }

    @Test func auditHasOneEntryPerChangeWithBeforeAndAfter() async throws {
        let f = try await Fixture()
        let token = try await f.store.createToken(user: f.admin.id, tokenHash: digest(1), scope: .readWrite, by: f.principal)
        let actor = Principal(user: f.admin.id, token: token.id)
        let project = try await f.store.createProject(name: "web", by: actor)
        let key = try await f.newKey("laptop", owner: .project(project.id))
        f.determinism.advance(by: 100)
        let since = f.determinism.now
        let renamed = try await f.store.updateKey(key.id, by: actor) { key, _ in try key.rename("desk") }
        try await f.store.deleteKey(key.id, by: actor)
        // A refused change leaves no entry.
        await #expect(throws: StoreError(.notFound, "")) { try await f.store.deleteKey(key.id, by: actor) }

        let all = try await f.store.audit(AuditFilter(), page: .largest).items
        #expect(all.map(\.action) == ["user.create", "token.create", "project.create", "key.create", "key.update", "key.delete"])
        #expect(all.map(\.sequence) == Array(1...6))
        let keyEntries = try await f.store.audit(AuditFilter(objectType: "key", objectID: key.id.rawValue), page: .first).items
        #expect(keyEntries.count == 3)
        let create = keyEntries[0]
        let update = keyEntries[1]
        let delete = keyEntries[2]
        #expect(create.before == nil && json(create.after)?["name"] as? String == "laptop")
        #expect(json(update.before)?["name"] as? String == "laptop" && json(update.after)?["name"] as? String == "desk")
        #expect(json(update.after)?["sha256Fingerprint"] as? String == renamed.sha256Fingerprint)
        #expect(json(delete.before)?["name"] as? String == "desk" && delete.after == nil)
        #expect(update.user == f.admin.id && update.token == token.id && update.at == since)
        #expect(try await f.store.audit(AuditFilter(since: since), page: .first).items.map(\.action) == ["key.update", "key.delete"])
        #expect(try await f.store.audit(AuditFilter(actor: f.admin.id), page: .largest).items.count == 5)
        // Pagination by cursor.
        let first = try await f.store.audit(AuditFilter(), page: PageRequest(limit: 4))
        let second = try await f.store.audit(AuditFilter(), page: PageRequest(limit: 4, cursor: first.nextCursor))
        #expect(first.items + second.items == all && second.nextCursor == nil)
    }

    @Test func versionGrowsOnAccessChangesOnly() async throws {
        let f = try await Fixture()
        var last = try await f.store.version()
        func expectGrew(_ comment: Comment) async throws {
            let now = try await f.store.version()
            #expect(now == last + 1, comment)
            last = now
        }
        func expectSame(_ comment: Comment) async throws {
            #expect(try await f.store.version() == last, comment)
        }
        let project = try await f.store.createProject(name: "web", by: f.principal)
        try await expectGrew("project create")
        _ = try await f.store.setMember(f.admin.id, role: .member, in: project.id, by: f.principal)
        try await expectGrew("member set")
        let key = try await f.newKey("k", owner: .user(f.admin.id))
        try await expectGrew("key create")
        let host = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "h") }
        try await expectGrew("host create")
        _ = try await f.store.updateHost(host.id, by: f.principal) { try $0.setAccess(.explicit([key.id]), for: .root) }
        try await expectGrew("host update")
        _ = try await f.store.key(key.id)
        _ = try await f.store.keys(KeyFilter(), page: .first)
        _ = try await f.store.host(host.id)
        _ = try await f.store.snapshot()
        _ = try await f.store.audit(AuditFilter(), page: .first)
        try await expectSame("reads")
        _ = try await f.store.createToken(user: f.admin.id, tokenHash: digest(9), scope: .readOnly, by: f.principal)
        try await expectSame("token create")
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.newKey("k", owner: .user(f.admin.id)) }
        try await expectSame("refused change")
        try await f.store.deleteKey(key.id, by: f.principal)
        try await expectGrew("key delete")
        _ = try await f.store.removeMember(f.admin.id, from: project.id, by: f.principal)
        try await expectGrew("member remove")
        #expect(try await f.store.snapshot().version == last)
    }

    @Test func snapshotDrivesEffectiveAccess() async throws {
        let f = try await Fixture()
        let alice = try await f.store.createUser(name: "alice", role: .user, by: f.principal)
        let bob = try await f.store.createUser(name: "bob", role: .user, by: f.principal)
        let project = try await f.store.createProject(name: "web", by: f.principal)
        _ = try await f.store.setMember(alice.id, role: .owner, in: project.id, by: f.principal)
        let aliceKey = try await f.newKey("alice-laptop", owner: .user(alice.id))
        let bobKey = try await f.newKey("bob-laptop", owner: .user(bob.id))
        let projectKey = try await f.newKey("deploy", owner: .project(project.id))
        let deploy = try LoginName("deploy")
        let host = try await f.store.createHost(by: f.principal) {
            try Host(id: $0, project: project.id, name: "h", logins: [.root, deploy], access: [deploy: .explicit([projectKey.id, bobKey.id])])
        }
        func access(_ login: LoginName) async throws -> Set<String> {
            let registry = try await f.store.snapshot().registry
            let stored = try #require(registry.hosts[host.id])
            return EffectiveAccess.compute(host: stored, login: login, registry: registry, now: f.determinism.now).keyNames
        }
        #expect(try await access(.root) == ["alice-laptop", "deploy"])
        #expect(try await access(deploy) == ["deploy"])  // bob is not a member yet
        _ = try await f.store.setMember(bob.id, role: .member, in: project.id, by: f.principal)
        #expect(try await access(.root) == ["alice-laptop", "bob-laptop", "deploy"])
        #expect(try await access(deploy) == ["bob-laptop", "deploy"])
        _ = try await f.store.setMember(bob.id, role: .viewer, in: project.id, by: f.principal)
        #expect(try await access(.root) == ["alice-laptop", "deploy"])
        _ = try await f.store.setMember(bob.id, role: .member, in: project.id, by: f.principal)
        _ = try await f.store.removeMember(bob.id, from: project.id, by: f.principal)
        #expect(try await access(.root) == ["alice-laptop", "deploy"])
        #expect(try await access(deploy) == ["deploy"])
        try await f.store.deleteKey(projectKey.id, by: f.principal)
        #expect(try await access(.root) == ["alice-laptop"])
        #expect(try await access(deploy) == [])
        try await f.store.deleteKey(aliceKey.id, by: f.principal)
        #expect(try await access(.root) == [])
    }
}

private func json(_ text: String?) -> [String: Any]? {
    guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
    return object as? [String: Any]
}
