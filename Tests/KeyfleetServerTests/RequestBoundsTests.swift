import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

@Suite("Requests within the contract: cursors, atomic host creation, bounded lists")
struct RequestBoundsTests {
    @Test("next_cursor holds only the characters the contract's pattern allows, and is taken back")
    func cursorMatchesContractPattern() async throws {
        try await TestRegistry.with { registry, client in
            let first = try await client.call(.get, "/v1/audit?limit=1", token: registry.adminToken)
            #expect(first.status == 200)
            let cursor = try #require(first.object["next_cursor"] as? String)
            let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            #expect(!cursor.isEmpty && cursor.allSatisfy { allowed.contains($0) }, "\(cursor)")
            let second = try await client.call(.get, "/v1/audit?limit=1&cursor=\(cursor)", token: registry.adminToken)
            #expect(second.status == 200)
            #expect(second.items.first?["sequence"] as? Int != first.items.first?["sequence"] as? Int)
        }
    }

    @Test("a host whose enrollment cannot be made is not stored, and leaves nothing in the audit log")
    func hostCreationIsAtomic() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let auditBefore = try await registry.store.audit(AuditFilter(), page: .largest).items.count
            // A server that does not know its URL yet cannot make an enrollment.
            registry.endpoint.value = ServerEndpoint(url: "", caCertHash: nil)
            let refused = try await client.createHost(world.owner.token, ["name": "web-1", "project": world.project.id.rawValue])
            #expect(refused.status >= 400, "\(refused.text)")
            #expect(try await registry.store.hosts(HostFilter(), page: .largest).items.isEmpty)
            let actions = try await registry.store.audit(AuditFilter(), page: .largest).items.dropFirst(auditBefore).map(\.action)
            #expect(actions.isEmpty, "\(actions)")

            registry.endpoint.value = ServerEndpoint(url: "https://keys.example.test:8443", caCertHash: nil)
            let created = try await client.createHost(world.owner.token, ["name": "web-1", "project": world.project.id.rawValue])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.dictionary("host")["id"] as? String)
            let entries = try await registry.store.audit(AuditFilter(objectID: id), page: .largest).items
            #expect(entries.map(\.action) == ["host.create", "host.enrollment-token.create"])
            #expect(entries.allSatisfy { $0.user == world.owner.id })
        }
    }

    @Test("lists over the contract's maxItems and hosts without logins are refused before any lookup")
    func listBounds() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let project = world.project.id.rawValue
            let many = Array(repeating: world.projectKey.id.rawValue, count: 10_001)

            let noLogins = try await client.createHost(world.owner.token, ["name": "a", "project": project, "logins": [String]()])
            #expect(noLogins.status == 400 && noLogins.object["field"] as? String == "logins", "\(noLogins.text)")
            let tooManyLogins = (0..<65).map { "user\($0)" }
            let wide = try await client.createHost(world.owner.token, ["name": "a", "project": project, "logins": tooManyLogins])
            #expect(wide.status == 400 && wide.object["field"] as? String == "logins", "\(wide.text)")
            let keys = try await client.createHost(world.owner.token, ["name": "a", "project": project, "ssh_keys": many])
            #expect(keys.status == 400 && keys.object["field"] as? String == "ssh_keys", "\(keys.text)")
            let rescue = try await client.createHost(world.owner.token, ["name": "a", "project": project, "rescue_keys": ["root": many]])
            #expect(rescue.status == 400 && rescue.object["field"] as? String == "rescue_keys", "\(rescue.text)")
            let cluster = try await client.call(
                .post, "/v1/clusters", token: world.owner.token, json: ["name": "c", "project": project, "keys": many])
            #expect(cluster.status == 400 && cluster.object["field"] as? String == "keys", "\(cluster.text)")
            #expect(try await registry.store.hosts(HostFilter(), page: .largest).items.isEmpty)

            let host = try await client.createHost(world.owner.token, ["name": "ok", "project": project])
            let id = try #require(host.dictionary("host")["id"] as? String)
            let explicit = try await client.call(
                .put, "/v1/hosts/\(id)/logins/root/access", token: world.owner.token, json: ["mode": "explicit", "keys": many])
            #expect(explicit.status == 400, "\(explicit.text)")
            let emptied = try await client.call(.patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["logins": [String]()])
            #expect(emptied.status == 400 && emptied.object["field"] as? String == "logins", "\(emptied.text)")
        }
    }
}
