import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

@Suite("Review fixes: contract conformance, atomic host creation, bounded lists")
struct ReviewFixesTests {
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
}
