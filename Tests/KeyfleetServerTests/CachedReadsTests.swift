import Testing
import TestSupport

@Suite("Single-key reads from the registry in memory")
struct CachedReadsTests {
    @Test("with the access cache loaded, a key read is current after a rename and a delete, and still hides keys from strangers")
    func cachedKeyRead() async throws {
        try await TestRegistry.with { registry, client in
            let owner = try await client.apiUser(registry, "olga")
            let stranger = try await client.apiUser(registry, "sam")
            let project = try await client.apiProject(owner.token, "web")
            let keyID = try await client.apiProjectKey(owner.token, "deploy", project: project)
            let hostID = try await client.apiHost(owner.token, "web-1", project: project)
            // Loads the registry into memory.
            #expect(try await client.call(.get, "/v1/hosts/\(hostID)/access", token: owner.token).status == 200)

            let first = try await client.call(.get, "/v1/ssh-keys/\(keyID)", token: owner.token)
            #expect(first.status == 200 && first.object["name"] as? String == "deploy")
            #expect(try await client.call(.get, "/v1/ssh-keys/\(keyID)", token: stranger.token).status == 404)
            let renamed = try await client.call(.patch, "/v1/ssh-keys/\(keyID)", token: owner.token, json: ["name": "deploy-2"])
            #expect(renamed.status == 200)
            let second = try await client.call(.get, "/v1/ssh-keys/\(keyID)", token: owner.token)
            #expect(second.object["name"] as? String == "deploy-2")
            #expect(second.headers[.eTag] == renamed.headers[.eTag])
            #expect(second.headers[.eTag] != first.headers[.eTag])
            #expect(try await client.call(.delete, "/v1/ssh-keys/\(keyID)", token: owner.token).status == 204)
            #expect(try await client.call(.get, "/v1/ssh-keys/\(keyID)", token: owner.token).status == 404)
        }
    }
}
