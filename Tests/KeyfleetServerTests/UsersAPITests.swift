import Foundation
import HTTPTypes
import Testing

@Suite("User and token operations")
struct UsersAPITests {
    @Test("only administrators create and delete users; the last administrator stays")
    func users() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            #expect(try await client.call(.post, "/v1/users", token: alice.token, json: ["name": "mallory"]).code == "forbidden")
            #expect(try await client.call(.post, "/v1/users", token: registry.adminToken, json: ["name": "alice"]).status == 409)
            #expect(try await client.call(.post, "/v1/users", token: registry.adminToken, json: ["name": "a\nb"]).status == 422)
            let me = try await client.call(.get, "/v1/users/me", token: alice.token)
            #expect((me.object["user"] as? [String: Any])?["id"] as? String == alice.id)
            #expect((me.object["token"] as? [String: Any])?["scope"] as? String == "read-write")
            #expect(try await client.call(.get, "/v1/users/\(alice.id)", token: alice.token).object["name"] as? String == "alice")
            #expect(try await client.call(.get, "/v1/users?name=alice", token: alice.token).items.count == 1)
            let admin = try await client.call(.get, "/v1/users/me", token: registry.adminToken)
            let adminID = (admin.object["user"] as? [String: Any])?["id"] as? String ?? ""
            #expect(try await client.call(.delete, "/v1/users/\(adminID)", token: registry.adminToken).status == 409)
            #expect(try await client.call(.delete, "/v1/users/\(alice.id)", token: alice.token).status == 403)
            // An owner of a project with no other owner cannot be deleted.
            let project = try await client.apiProject(alice.token, "solo")
            #expect(try await client.call(.delete, "/v1/users/\(alice.id)", token: registry.adminToken).status == 409)
            #expect(try await client.call(.delete, "/v1/projects/\(project)", token: alice.token).status == 204)
            _ = try await client.call(.post, "/v1/ssh-keys", token: alice.token, json: ["name": "k", "public_key": try TestKeys.ed25519Line()])
            #expect(try await client.call(.delete, "/v1/users/\(alice.id)", token: registry.adminToken).status == 204)
            #expect(try await registry.storedKeys().isEmpty)
            #expect(try await client.call(.get, "/v1/users/me", token: alice.token).status == 401)
            #expect(try await client.call(.get, "/v1/users/\(alice.id)", token: registry.adminToken).status == 404)
        }
    }

    @Test("tokens: shown once, stored hashed, scoped; revoking makes them 401 at once")
    func tokens() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            let bob = try await client.apiUser(registry, "bob")
            let made = try await client.call(.post, "/v1/tokens", token: alice.token, json: ["scope": "read-only"])
            #expect(made.status == 201 && made.headers[.cacheControl] == "no-store")
            let secret = try #require(made.object["secret"] as? String)
            let tokenID = (made.object["token"] as? [String: Any])?["id"] as? String ?? ""
            #expect(made.headers[.location] == "/v1/tokens/\(tokenID)")
            let listed = try await client.call(.get, "/v1/tokens", token: alice.token)
            #expect(listed.items.count == 2 && !listed.text.contains(secret))
            #expect(try await client.call(.get, "/v1/tokens?user=\(bob.id)", token: alice.token).code == "forbidden")
            #expect(try await client.call(.get, "/v1/tokens?user=\(alice.id)", token: registry.adminToken).items.count == 2)
            #expect(try await client.call(.post, "/v1/tokens", token: alice.token, json: ["user": bob.id]).code == "forbidden")
            #expect(try await client.call(.post, "/v1/tokens", token: registry.adminToken, json: ["user": "nobody"]).code == "invalid-reference")

            // Read-only: reads, creates only read-only tokens, revokes only itself.
            #expect(try await client.call(.get, "/v1/ssh-keys", token: secret).status == 200)
            #expect(try await client.call(.post, "/v1/projects", token: secret, json: ["name": "x"]).code == "read-only-token")
            #expect(try await client.call(.post, "/v1/tokens", token: secret, json: ["scope": "read-write"]).code == "read-only-token")
            let child = try await client.call(.post, "/v1/tokens", token: secret, json: [String: Any]())
            #expect(child.status == 201 && (child.object["token"] as? [String: Any])?["scope"] as? String == "read-only")
            let aliceMain = try await client.call(.get, "/v1/users/me", token: alice.token)
            let mainID = (aliceMain.object["token"] as? [String: Any])?["id"] as? String ?? ""
            #expect(try await client.call(.delete, "/v1/tokens/\(mainID)", token: secret).code == "read-only-token")
            #expect(try await client.call(.delete, "/v1/tokens/\(tokenID)", token: bob.token).status == 404)
            let revoked = try await client.call(.delete, "/v1/tokens/\(tokenID)", token: secret)
            #expect(revoked.status == 200 && revoked.object["revoked_at"] is String)
            let unauthorized = try await client.call(.get, "/v1/ssh-keys", token: secret)
            #expect(unauthorized.status == 401 && unauthorized.code == "unauthorized")
            let again = try await client.call(.delete, "/v1/tokens/\(tokenID)", token: alice.token)
            #expect(again.status == 200 && again.object["revoked_at"] as? String == revoked.object["revoked_at"] as? String)
        }
    }

    @Test("token listing pages")
    func tokenPages() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            for _ in 0..<4 { #expect(try await client.call(.post, "/v1/tokens", token: alice.token, json: [String: Any]()).status == 201) }
            let first = try await client.call(.get, "/v1/tokens?limit=3", token: alice.token)
            let cursor = try #require(first.object["next_cursor"] as? String)
            let second = try await client.call(.get, "/v1/tokens?limit=3&cursor=\(cursor)", token: alice.token)
            let ids = (first.items + second.items).compactMap { $0["id"] as? String }
            #expect(ids.count == 5 && Set(ids).count == 5 && ids == ids.sorted())
        }
    }
}
