import Foundation
import KeyfleetCore
import KeyfleetStore
import SSHKeys
import Testing

@Suite("SQLStore: create, read, update, delete")
struct StoreCRUDTests {
    @Test func usersAndTokens() async throws {
        let f = try await Fixture()
        let alice = try await f.store.createUser(name: "alice", role: .user, by: f.principal)
        #expect(try await f.store.user(alice.id) == alice)
        let renamed = try await f.store.updateUser(alice.id, by: f.principal) { try $0.rename("Alice A.") }
        #expect(try await f.store.user(alice.id)?.name == "Alice A.")
        #expect(renamed.name == "Alice A.")
        #expect(try await f.store.users(page: .first).items.map(\.name) == ["admin", "Alice A."])

        let token = try await f.store.createToken(user: alice.id, tokenHash: digest(1), scope: .readOnly, by: f.principal)
        #expect(try await f.store.token(hash: digest(1)) == token)
        #expect(try await f.store.token(hash: digest(2)) == nil)
        #expect(token.isActive && token.scope == .readOnly && token.createdAt == f.determinism.now)
        f.determinism.advance(by: 5)
        let revoked = try await f.store.revokeToken(token.id, by: f.principal)
        #expect(revoked.revokedAt == f.determinism.now)
        #expect(try await f.store.token(hash: digest(1))?.isActive == false)
        #expect(try await f.store.tokens(of: alice.id).map(\.id) == [token.id])
        await #expect(throws: StoreError(.conflict, "")) {
            _ = try await f.store.createToken(user: alice.id, tokenHash: digest(1), scope: .readWrite, by: f.principal)
        }
        await #expect(throws: StoreError(.invalidInput, "")) { _ = try await f.store.token(hash: [1, 2, 3]) }

        try await f.store.deleteUser(alice.id, by: f.principal)
        #expect(try await f.store.user(alice.id) == nil)
        #expect(try await f.store.token(hash: digest(1)) == nil)
        await #expect(throws: StoreError(.notFound, "")) { try await f.store.deleteUser(alice.id, by: f.principal) }
    }

    @Test func projectsAndMembers() async throws {
        let f = try await Fixture()
        let bob = try await f.store.createUser(name: "bob", role: .user, by: f.principal)
        let project = try await f.store.createProject(name: "web", by: f.principal)
        #expect(try await f.store.project(project.id) == project)
        #expect(try await f.store.project(named: "web") == project)
        _ = try await f.store.setMember(bob.id, role: .member, in: project.id, by: f.principal)
        _ = try await f.store.setMember(f.admin.id, role: .owner, in: project.id, by: f.principal)
        #expect(try await f.store.project(project.id)?.members == [bob.id: .member, f.admin.id: .owner])
        #expect(try await f.store.projects(member: bob.id, page: .first).items.map(\.id) == [project.id])
        let other = try await f.store.createProject(name: "db", by: f.principal)
        #expect(try await f.store.projects(member: nil, page: .first).items.map(\.id) == [project.id, other.id])
        #expect(try await f.store.projects(member: bob.id, page: .first).items.map(\.id) == [project.id])
        _ = try await f.store.removeMember(bob.id, from: project.id, by: f.principal)
        #expect(try await f.store.project(project.id)?.members == [f.admin.id: .owner])
        await #expect(throws: StoreError(.notFound, "")) { _ = try await f.store.removeMember(bob.id, from: project.id, by: f.principal) }
        await #expect(throws: StoreError(.invalidReference, "")) {
            _ = try await f.store.setMember(try UserID("nobody"), role: .member, in: project.id, by: f.principal)
        }
        let renamed = try await f.store.updateProject(project.id, by: f.principal) { try $0.rename("web-2") }
        #expect(try await f.store.project(project.id) == renamed)
        // Name conflict names the existing project.
        do {
            _ = try await f.store.createProject(name: "db", by: f.principal)
            Issue.record("expected a conflict")
        } catch let error as StoreError {
            #expect(error.code == .conflict && error.existingID == other.id.rawValue && error.existingName == "db")
        }
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.store.updateProject(project.id, by: f.principal) { try $0.rename("db") } }
        try await f.store.deleteProject(other.id, by: f.principal)
        #expect(try await f.store.project(other.id) == nil)
    }

    @Test func keysWithFiltersAndPagination() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let personal = try await f.newKey("laptop", owner: .user(f.admin.id), labels: ["env": "prod"])
        let projectKey = try await f.newKey("deploy", owner: .project(project.id), labels: ["env": "dev"], expiresAt: f.determinism.now + 3600)
        #expect(try await f.store.key(personal.id) == personal)
        #expect(try await f.store.key(projectKey.id) == projectKey)
        #expect(personal.createdBy == f.admin.id && personal.createdAt == f.determinism.now)
        #expect(try await f.store.keys(KeyFilter(owner: .project(project.id)), page: .first).items == [projectKey])
        #expect(try await f.store.keys(KeyFilter(owner: .user(f.admin.id)), page: .first).items == [personal])
        #expect(try await f.store.keys(KeyFilter(label: LabelSelector(key: "env", value: "prod")), page: .first).items == [personal])
        #expect(try await f.store.keys(KeyFilter(fingerprint: projectKey.sha256Fingerprint), page: .first).items == [projectKey])
        #expect(try await f.store.keys(KeyFilter(fingerprint: "SHA256:nothing"), page: .first).items.isEmpty)

        var more = [personal, projectKey]
        for index in 0..<5 { more.append(try await f.newKey("k\(index)", owner: .user(f.admin.id))) }
        var seen = [SSHKeyRecord]()
        var request = PageRequest(limit: 3)
        while true {
            let page = try await f.store.keys(KeyFilter(), page: request)
            seen += page.items
            guard let next = page.nextCursor else { break }
            request = PageRequest(limit: 3, cursor: next)
        }
        #expect(seen.map(\.id) == more.map(\.id).sorted())
        await #expect(throws: StoreError(.invalidInput, "")) { _ = try await f.store.keys(KeyFilter(), page: PageRequest(cursor: "bogus")) }

        let updated = try await f.store.updateKey(personal.id, by: f.principal) { key, now in
            try key.rename("laptop-2")
            try key.setLabels(["env": "staging"])
            try key.setExpiry(now + 60, now: now)
        }
        #expect(try await f.store.key(personal.id) == updated)
        #expect(updated.name == "laptop-2" && updated.labels == ["env": "staging"])
        try await f.store.deleteKey(personal.id, by: f.principal)
        #expect(try await f.store.key(personal.id) == nil)
        #expect(try await f.store.keys(KeyFilter(label: LabelSelector(key: "env", value: "staging")), page: .first).items.isEmpty)
    }

    @Test func keyConflictsNameTheExistingKey() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let material = try TestKey.ed25519()
        let first = try await f.store.createKey(NewKey(name: "laptop", owner: .user(f.admin.id), publicKey: material), by: f.principal)
        // The same name for the same owner.
        do {
            _ = try await f.newKey("laptop", owner: .user(f.admin.id))
            Issue.record("expected a conflict")
        } catch let error as StoreError {
            #expect(error.code == .conflict && error.existingID == first.id.rawValue && error.existingName == "laptop")
        }
        // The same key under another name for the same owner.
        do {
            _ = try await f.store.createKey(NewKey(name: "again", owner: .user(f.admin.id), publicKey: material), by: f.principal)
            Issue.record("expected a conflict")
        } catch let error as StoreError {
            #expect(error.code == .conflict && error.existingID == first.id.rawValue && error.existingName == "laptop")
        }
        // Renaming onto an existing name.
        let second = try await f.newKey("desktop", owner: .user(f.admin.id))
        await #expect(throws: StoreError(.conflict, "")) {
            _ = try await f.store.updateKey(second.id, by: f.principal) { key, _ in try key.rename("laptop") }
        }
        // Another owner may use the same name and the same key.
        let shared = try await f.store.createKey(NewKey(name: "laptop", owner: .project(project.id), publicKey: material), by: f.principal)
        #expect(shared.sha256Fingerprint == first.sha256Fingerprint)
        // Policy still applies; nothing stored on refusal.
        await #expect(throws: PolicyError(.expiryInPast, "")) {
            _ = try await f.newKey("old", owner: .user(f.admin.id), expiresAt: f.determinism.now - 10)
        }
        await #expect(throws: StoreError(.invalidReference, "")) { _ = try await f.newKey("x", owner: .project(try ProjectID("nope"))) }
        #expect(try await f.store.keys(KeyFilter(), page: .first).items.count == 3)
    }

    @Test func hostsAndClusters() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let other = try await f.store.createProject(name: "db", by: f.principal)
        let k1 = try await f.newKey("k1", owner: .project(project.id))
        let k2 = try await f.newKey("k2", owner: .project(project.id))
        let cluster = try await f.store.createCluster(by: f.principal) { try Cluster(id: $0, project: project.id, name: "c1", keys: [k2.id, k1.id]) }
        #expect(try await f.store.cluster(cluster.id) == cluster)
        let deploy = try LoginName("deploy")
        let host = try await f.store.createHost(by: f.principal) {
            try Host(
                id: $0, project: project.id, name: "web-1", labels: ["role": "web"], logins: [.root, deploy], cluster: cluster.id,
                access: [deploy: .explicit([k2.id, k1.id])], rescueKeys: [deploy: [k1.id, k2.id], .root: [k1.id]], rescueActive: true)
        }
        #expect(try await f.store.host(host.id) == host)
        let bare = try await f.store.createHost(by: f.principal) {
            try Host(id: $0, project: project.id, name: "web-2", access: [.root: .explicit([])])
        }
        #expect(try await f.store.host(bare.id) == bare)
        #expect(try await f.store.hosts(HostFilter(cluster: cluster.id), page: .first).items == [host])
        #expect(try await f.store.hosts(HostFilter(label: LabelSelector(key: "role", value: "web")), page: .first).items == [host])
        #expect(try await f.store.hosts(HostFilter(project: project.id), page: .first).items.count == 2)
        #expect(try await f.store.hosts(HostFilter(project: other.id), page: .first).items.isEmpty)

        // Conflicts and bad references.
        do {
            _ = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "web-1") }
            Issue.record("expected a conflict")
        } catch let error as StoreError {
            #expect(error.code == .conflict && error.existingID == host.id.rawValue && error.existingName == "web-1")
        }
        _ = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: other.id, name: "web-1") }
        await #expect(throws: StoreError(.invalidReference, "")) {
            _ = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: other.id, name: "x", cluster: cluster.id) }
        }
        await #expect(throws: StoreError(.invalidReference, "")) {
            _ = try await f.store.createHost(by: f.principal) {
                try Host(id: $0, project: project.id, name: "y", rescueKeys: [.root: [try KeyID("missing")]])
            }
        }
        await #expect(throws: StoreError(.conflict, "")) {
            _ = try await f.store.createCluster(by: f.principal) { try Cluster(id: $0, project: project.id, name: "c1") }
        }

        // Update: host leaves the cluster, a login goes inherited.
        let changed = try await f.store.updateHost(host.id, by: f.principal) { host in
            host.cluster = nil
            try host.setAccess(.inherited, for: deploy)
            try host.setLabels(["role": "db"])
        }
        #expect(try await f.store.host(host.id) == changed)
        let clusterChanged = try await f.store.updateCluster(cluster.id, by: f.principal) { $0.keys = [k1.id] }
        #expect(try await f.store.cluster(cluster.id) == clusterChanged)

        // Deleting a key removes it from every list; deleting a cluster frees its hosts.
        _ = try await f.store.updateHost(host.id, by: f.principal) { $0.cluster = cluster.id }
        try await f.store.deleteKey(k1.id, by: f.principal)
        #expect(try await f.store.host(host.id)?.rescueKeys == [deploy: [k2.id]])
        #expect(try await f.store.cluster(cluster.id)?.keys == [])
        try await f.store.deleteCluster(cluster.id, by: f.principal)
        #expect(try await f.store.host(host.id)?.cluster == nil)
        #expect(try await f.store.clusters(project: project.id, page: .first).items.isEmpty)
        try await f.store.deleteHost(host.id, by: f.principal)
        #expect(try await f.store.host(host.id) == nil)
        await #expect(throws: StoreError(.notFound, "")) { try await f.store.deleteHost(host.id, by: f.principal) }
    }

    @Test func enrollmentAndCredentials() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "web", by: f.principal)
        let host = try await f.store.createHost(by: f.principal) { try Host(id: $0, project: project.id, name: "web-1") }
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: digest(7), expiresAt: f.determinism.now + 600, by: f.principal)
        #expect(try await f.store.enroll(tokenHash: digest(8), credentialHash: digest(9)) == nil)
        #expect(try await f.store.enroll(tokenHash: digest(7), credentialHash: digest(9)) == host.id)
        #expect(try await f.store.enroll(tokenHash: digest(7), credentialHash: digest(10)) == nil)
        #expect(try await f.store.host(credentialHash: digest(9)) == host.id)
        #expect(try await f.store.host(credentialHash: digest(10)) == nil)
        // Expiry.
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: digest(11), expiresAt: f.determinism.now + 10, by: f.principal)
        f.determinism.advance(by: 10)
        #expect(try await f.store.enroll(tokenHash: digest(11), credentialHash: digest(12)) == nil)
        // Deleting the host drops its credentials.
        try await f.store.deleteHost(host.id, by: f.principal)
        #expect(try await f.store.host(credentialHash: digest(9)) == nil)
    }
}
