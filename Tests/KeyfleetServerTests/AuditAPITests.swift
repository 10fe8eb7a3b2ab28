import Foundation
import HTTPTypes
import Testing

@Suite("Audit log operations")
struct AuditAPITests {
    @Test("entries carry actor, token, before and after in the API's shape; filters and pages work")
    func entries() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            let me = try await client.call(.get, "/v1/users/me", token: alice.token)
            let tokenID = (me.object["token"] as? [String: Any])?["id"] as? String
            let created = try await client.call(
                .post, "/v1/ssh-keys", token: alice.token, json: ["name": "k", "public_key": try TestKeys.ed25519Line()])
            let keyID = (created.object["key"] as? [String: Any])?["id"] as? String ?? ""
            _ = try await client.call(.patch, "/v1/ssh-keys/\(keyID)", token: alice.token, json: ["name": "renamed"])

            let entries = try await client.call(.get, "/v1/audit?object=\(keyID)", token: registry.adminToken)
            #expect(entries.items.map { $0["action"] as? String } == ["key.create", "key.update"])
            let update = try #require(entries.items.last)
            #expect(update["actor"] as? String == alice.id && update["token"] as? String == tokenID)
            #expect(update["object_type"] as? String == "key")
            #expect((update["before"] as? [String: Any])?["name"] as? String == "k")
            #expect((update["after"] as? [String: Any])?["name"] as? String == "renamed")
            #expect((update["after"] as? [String: Any])?["created_at"] is String)
            #expect(((update["after"] as? [String: Any])?["owner"] as? [String: Any])?["kind"] as? String == "user")
            #expect(entries.items.first?["before"] == nil || entries.items.first?["before"] is NSNull)

            // A user sees only their own entries; another actor is forbidden.
            let own = try await client.call(.get, "/v1/audit", token: alice.token)
            #expect(!own.items.isEmpty && own.items.allSatisfy { $0["actor"] as? String == alice.id })
            let admin = try await client.call(.get, "/v1/users/me", token: registry.adminToken)
            let adminID = (admin.object["user"] as? [String: Any])?["id"] as? String ?? ""
            #expect(try await client.call(.get, "/v1/audit?actor=\(adminID)", token: alice.token).code == "forbidden")
            #expect(try await client.call(.get, "/v1/audit?object_type=key", token: registry.adminToken).items.count == 2)
            // By action, exactly or by a prefix that ends in a dot; anything else is refused.
            let actions = { (filter: String) in
                try await client.call(.get, "/v1/audit?action=" + filter, token: registry.adminToken).items.compactMap { $0["action"] as? String }
            }
            #expect(try await actions("key.update") == ["key.update"])
            #expect(try await actions("key.") == ["key.create", "key.update"])
            #expect(try await actions("key").isEmpty)
            #expect(Set(try await actions("user.")) == ["user.create"])
            for bad in ["KEY.create", "key..create", ".key", "key.%25", "key_update", "-key"] {
                #expect(try await client.call(.get, "/v1/audit?action=" + bad, token: registry.adminToken).code == "bad-request", "\(bad)")
            }

            // Pages, oldest first, each entry once.
            var sequences = [Int]()
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/v1/audit?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), token: registry.adminToken)
                sequences += page.items.compactMap { $0["sequence"] as? Int }
                cursor = page.object["next_cursor"] as? String
            } while cursor != nil && sequences.count < 100
            #expect(sequences.count > 2 && sequences == sequences.sorted() && Set(sequences).count == sequences.count)

            registry.clock.now += 3600
            _ = try await client.call(.patch, "/v1/ssh-keys/\(keyID)", token: alice.token, json: ["comment": "later"])
            let since = try await client.call(.get, "/v1/audit?since=2027-01-15T09:00:00Z", token: registry.adminToken)
            #expect(since.items.map { $0["action"] as? String } == ["key.update"])
        }
    }
}
