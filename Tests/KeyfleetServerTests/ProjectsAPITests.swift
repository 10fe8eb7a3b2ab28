import Foundation
import HTTPTypes
import Testing

@Suite("Project operations")
struct ProjectsAPITests {
    @Test("the creator owns the project; members are set and removed by owners only; the last owner stays")
    func membership() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            let bob = try await client.apiUser(registry, "bob")
            let carol = try await client.apiUser(registry, "carol")
            let created = try await client.call(.post, "/v1/projects", token: alice.token, json: ["name": "web"])
            #expect(created.status == 201)
            let id = created.object["id"] as? String ?? ""
            #expect(created.headers[.location] == "/v1/projects/\(id)")
            #expect((created.object["members"] as? [[String: String]]) == [["user": alice.id, "role": "owner", "user_name": "alice"]])
            let duplicate = try await client.call(.post, "/v1/projects", token: bob.token, json: ["name": "web"])
            #expect(duplicate.status == 409 && duplicate.object["existing_id"] as? String == id)
            #expect(try await client.call(.post, "/v1/projects", token: bob.token, json: ["name": " bad"]).code == "invalid-name")

            let invited = try await client.call(.put, "/v1/projects/\(id)/members/\(bob.id)", token: alice.token, json: ["role": "viewer"])
            #expect(invited.status == 202)
            let viewer = try await client.call(.post, "/v1/invitations/\(id)", token: bob.token)
            #expect(viewer.status == 200)
            let roleChange = try await client.call(.put, "/v1/projects/\(id)/members/\(bob.id)", token: alice.token, json: ["role": "viewer"])
            #expect(roleChange.status == 200 && roleChange.headers[.eTag] != nil)
            #expect(try await client.call(.get, "/v1/projects/\(id)", token: bob.token).status == 200)
            #expect(
                try await client.call(.put, "/v1/projects/\(id)/members/\(carol.id)", token: bob.token, json: ["role": "owner"]).code == "forbidden")
            #expect(try await client.call(.delete, "/v1/projects/\(id)", token: bob.token).status == 403)
            #expect(try await client.call(.get, "/v1/projects/\(id)", token: carol.token).status == 404)
            #expect(try await client.call(.delete, "/v1/projects/\(id)", token: carol.token).status == 404)
            #expect(try await client.call(.get, "/v1/projects", token: carol.token).items.isEmpty)
            #expect(try await client.call(.get, "/v1/projects", token: bob.token).items.count == 1)
            let unknown = try await client.call(.put, "/v1/projects/\(id)/members/nobody", token: alice.token, json: ["role": "member"])
            #expect(unknown.status == 422 && unknown.code == "invalid-reference")

            let demote = try await client.call(.put, "/v1/projects/\(id)/members/\(alice.id)", token: alice.token, json: ["role": "member"])
            #expect(demote.status == 409)
            let removeLast = try await client.call(.delete, "/v1/projects/\(id)/members/\(alice.id)", token: alice.token)
            #expect(removeLast.status == 409)
            #expect(try await client.call(.delete, "/v1/projects/\(id)/members/\(carol.id)", token: alice.token).status == 404)
            let removed = try await client.call(.delete, "/v1/projects/\(id)/members/\(bob.id)", token: alice.token)
            #expect(removed.status == 200 && (removed.object["members"] as? [Any])?.count == 1)
            #expect(try await client.call(.get, "/v1/projects/\(id)", token: bob.token).status == 404)
        }
    }

    @Test("ETags and deletion: 304, 412 on a stale tag, then the project and its keys are gone")
    func entityTagsAndDelete() async throws {
        try await TestRegistry.with { registry, client in
            let id = try await client.apiProject(registry.adminToken, "p-\(Int.random(in: 0..<1_000_000))")
            let key = try await client.call(
                .post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "k", "public_key": try TestKeys.ed25519Line(), "project": id])
            #expect(key.status == 201)
            let read = try await client.call(.get, "/v1/projects/\(id)", token: registry.adminToken)
            let tag = try #require(read.headers[.eTag])
            #expect(try await client.call(.get, "/v1/projects/\(id)", token: registry.adminToken, headers: [.ifNoneMatch: tag]).status == 304)
            let bob = try await client.apiUser(registry, "bob")
            #expect(
                try await client.call(.put, "/v1/projects/\(id)/members/\(bob.id)", token: registry.adminToken, json: ["role": "member"]).status
                    == 200)
            #expect(try await client.call(.delete, "/v1/projects/\(id)", token: registry.adminToken, headers: [.ifMatch: tag]).status == 412)
            #expect(try await client.call(.delete, "/v1/projects/\(id)", token: registry.adminToken).status == 204)
            #expect(try await registry.storedKeys().isEmpty)
            #expect(try await client.call(.get, "/v1/projects/\(id)", token: registry.adminToken).status == 404)
        }
    }

    @Test("the name filter and pagination of projects")
    func listing() async throws {
        try await TestRegistry.with { registry, client in
            let names = (0..<5).map { "project-\($0)" }
            for name in names { _ = try await client.apiProject(registry.adminToken, name) }
            let page1 = try await client.call(.get, "/v1/projects?limit=2", token: registry.adminToken)
            #expect(page1.items.count == 2)
            let cursor = try #require(page1.object["next_cursor"] as? String)
            let page2 = try await client.call(.get, "/v1/projects?limit=10&cursor=\(cursor)", token: registry.adminToken)
            #expect(page2.items.count == 3)
            #expect(page2.object["next_cursor"] == nil || page2.object["next_cursor"] is NSNull, "the last page has no cursor")
            let named = try await client.call(.get, "/v1/projects?name=project-3", token: registry.adminToken)
            #expect(named.items.map { $0["name"] as? String } == ["project-3"])
        }
    }
}
