import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import SSHKeys
import Testing

@Suite("Agent enrollment, credentials and reports")
struct AgentTests {
    /// A host of `world`'s project and its enrollment token.
    static func host(_ client: some TestClientProtocol, _ world: HostWorld, _ body: [String: Any] = [:]) async throws -> (id: String, token: String) {
        var request: [String: Any] = ["name": "h-\(UInt32.random(in: 0...UInt32.max))", "project": world.project.id.rawValue]
        request.merge(body) { $1 }
        let created = try await client.createHost(world.owner.token, request)
        try #require(created.status == 201, "\(created.text)")
        return (try #require(created.dictionary("host")["id"] as? String), try #require(created.dictionary("enrollment")["token"] as? String))
    }

    @Test("enrollment works once; an unknown or expired token is 401 without saying why; malformed is 422")
    func enrollOnce() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, token) = try await Self.host(client, world, ["enrollment_ttl_seconds": 60])
            let first = try await client.enroll(token)
            #expect(first.status == 200)
            #expect(first.headers[.cacheControl] == "no-store")
            #expect(first.object["host"] as? String == id)
            #expect((first.object["credential"] as? String)?.hasPrefix("kfh_") == true)
            let second = try await client.enroll(token)
            #expect(second.status == 401)
            #expect(second.code == "unauthorized")
            #expect(try await client.enroll("kfe_" + String(repeating: "x", count: 43)).status == 401)
            #expect(try await client.enroll("bad token!").code == "invalid-enrollment")

            let (_, late) = try await Self.host(client, world, ["enrollment_ttl_seconds": 60])
            registry.clock.now += 61
            let expired = try await client.enroll(late)
            #expect(expired.status == 401)
            #expect(expired.object["detail"] as? String == second.object["detail"] as? String, "which failure is not said")
        }
    }

    @Test("concurrent enrolls with one token: exactly one succeeds")
    func concurrentEnroll() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (_, token) = try await Self.host(client, world)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<16 { group.addTask { try await client.enroll(token).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 401 }.count == 15)
        }
    }

    @Test("a host credential cannot use user routes; a user token cannot sync; a revoked credential is 401")
    func credentialScopes() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, token) = try await Self.host(client, world)
            let credential = try #require(try await client.enroll(token).object["credential"] as? String)
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential).status == 200)
            #expect(try await client.call(.get, "/v1/hosts/\(id)", token: credential).status == 401)
            #expect(try await client.call(.get, "/v1/hosts", token: credential).status == 401)
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: registry.adminToken).status == 401)
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=61", token: credential).status == 400)

            let fresh = try await client.call(.post, "/v1/hosts/\(id)/enroll-token", token: world.member.token, json: [:] as [String: Any])
            #expect(fresh.status == 403)
            let revoking = try await client.call(.post, "/v1/hosts/\(id)/enroll-token", token: world.owner.token, json: ["revoke_credential": true])
            #expect(revoking.status == 201, "\(revoking.text)")
            #expect(revoking.headers[.cacheControl] == "no-store")
            #expect((revoking.object["user_data"] as? String)?.hasPrefix("#cloud-config") == true)
            let revoked = try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential)
            #expect(revoked.status == 401)
            let newToken = try #require(revoking.dictionary("enrollment")["token"] as? String)
            let newCredential = try #require(try await client.enroll(newToken).object["credential"] as? String)
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: newCredential).status == 200)
        }
    }

    @Test("reports: host keys stored canonically and shown in Host.agent; bad keys refused")
    func report() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, token) = try await Self.host(client, world)
            let before = try await client.call(.get, "/v1/hosts/\(id)", token: world.owner.token)
            #expect(before.object["agent"] == nil)
            let credential = try #require(try await client.enroll(token).object["credential"] as? String)
            let hostKey = try PrivateKey.generate(.ed25519).publicKey
            let sent = hostKey.openSSHLine + "   root@web-1\n"
            let answer = try await client.call(
                .post, "/v1/agent/report", token: credential, json: ["agent_version": "1.0.0", "applied_version": 7, "host_keys": [sent]])
            #expect(answer.status == 204, "\(answer.text)")
            let after = try await client.call(.get, "/v1/hosts/\(id)", token: world.owner.token)
            let agent = after.dictionary("agent")
            #expect(agent["enrolled"] as? Bool == true)
            #expect(agent["agent_version"] as? String == "1.0.0")
            #expect(agent["applied_version"] as? Int == 7)
            #expect(agent["host_keys"] as? [String] == [hostKey.openSSHLine])
            #expect(after.headers[.eTag] == before.headers[.eTag], "reports do not change the ETag")
            let two = try await client.call(
                .post, "/v1/agent/report", token: credential,
                json: ["agent_version": "1.0.0", "host_keys": [hostKey.openSSHLine + "\n" + hostKey.openSSHLine]])
            #expect(two.code == "multiple-keys")
            let junk = try await client.call(
                .post, "/v1/agent/report", token: credential, json: ["agent_version": "1.0.0", "host_keys": ["ssh-ed25519 AAAA"]])
            #expect(junk.status == 422)
            #expect(try await client.call(.post, "/v1/agent/report", token: registry.adminToken, json: ["agent_version": "1"]).status == 401)
        }
    }
}
