import KeyfleetCore
import KeyfleetStore
import SSHKeys
import Testing

@Suite("Store rules the API relies on")
struct StoreRulesTests {
    @Test("createKeys stores all keys or, when one clashes, none")
    func createKeysIsAllOrNothing() async throws {
        let f = try await Fixture()
        let owner = KeyOwner.user(f.admin.id)
        let keys = try (0..<3).map { NewKey(name: "k\($0)", owner: owner, publicKey: try TestKey.ed25519()) }
        var clashing = keys
        clashing.append(NewKey(name: "k0", owner: owner, publicKey: try TestKey.ed25519()))
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.store.createKeys(clashing, by: f.principal) }
        #expect(try await f.store.keys(KeyFilter(), page: .largest).items.isEmpty)
        let created = try await f.store.createKeys(keys, by: f.principal)
        #expect(created.map(\.name) == ["k0", "k1", "k2"])
        #expect(try await f.store.keys(KeyFilter(name: "k1"), page: .first).items.map(\.id) == [created[1].id])
    }

    @Test("a project keeps an owner, and the last owner or administrator cannot be deleted")
    func lastOwnerAndAdministrator() async throws {
        let f = try await Fixture()
        let alice = try await f.store.createUser(name: "alice", role: .user, by: f.principal)
        let project = try await f.store.createProject(name: "web", owner: alice.id, by: f.principal)
        #expect(project.members == [alice.id: .owner])
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.store.setMember(alice.id, role: .viewer, in: project.id, by: f.principal) }
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.store.removeMember(alice.id, from: project.id, by: f.principal) }
        await #expect(throws: StoreError(.conflict, "")) { try await f.store.deleteUser(alice.id, by: f.principal) }
        await #expect(throws: StoreError(.conflict, "")) { try await f.store.deleteUser(f.admin.id, by: f.principal) }
        _ = try await f.store.setMember(f.admin.id, role: .owner, in: project.id, by: f.principal)
        try await f.store.deleteUser(alice.id, by: f.principal)
        #expect(try await f.store.project(project.id)?.members == [f.admin.id: .owner])
        await #expect(throws: StoreError(.conflict, "")) { _ = try await f.store.createUser(name: "admin", role: .user, by: f.principal) }
    }

    @Test("name filters, keys readable by a user, and token pages")
    func filtersAndPages() async throws {
        let f = try await Fixture()
        let bob = try await f.store.createUser(name: "bob", role: .user, by: f.principal)
        let project = try await f.store.createProject(name: "web", owner: f.admin.id, by: f.principal)
        _ = try await f.store.createProject(name: "other", by: f.principal)
        _ = try await f.store.setMember(bob.id, role: .viewer, in: project.id, by: f.principal)
        let projectKey = try await f.newKey("deploy", owner: .project(project.id))
        _ = try await f.newKey("admin-laptop", owner: .user(f.admin.id))
        #expect(try await f.store.keys(KeyFilter(readableBy: bob.id), page: .first).items == [projectKey])
        #expect(try await f.store.users(named: "bob", page: .first).items == [bob])
        #expect(try await f.store.projects(member: nil, named: "web", page: .first).items.map(\.id) == [project.id])
        #expect(try await f.store.projects(member: bob.id, named: "other", page: .first).items.isEmpty)
        var made = [TokenID]()
        for index in 0..<5 {
            made.append(
                try await f.store.createToken(user: bob.id, tokenHash: Array(repeating: UInt8(index), count: 32), scope: .readOnly, by: f.principal)
                    .id)
        }
        let first = try await f.store.tokens(of: bob.id, page: PageRequest(limit: 2))
        let rest = try await f.store.tokens(of: bob.id, page: PageRequest(limit: 10, cursor: first.nextCursor))
        #expect((first.items + rest.items).map(\.id) == made.sorted())
        #expect(rest.nextCursor == nil)
        #expect(try await f.store.token(made[2])?.user == bob.id)
    }
}
