import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

/// What deleting a host, a project or a user tells the hosts' agents and the audit log.
@Suite("Deleting hosts, projects and users")
struct DeletionTests {
    /// A host of `world`'s project with an enrolled agent; returns the host and its credential.
    static func enrolledHost(_ client: some TestClientProtocol, _ world: HostWorld) async throws -> (id: String, credential: String) {
        let (id, token) = try await AgentTests.host(client, world)
        let credential = try #require(try await client.enroll(token).object["credential"] as? String)
        return (id, credential)
    }

    /// The actions of the audit entries about `object`.
    static func actions(_ client: some TestClientProtocol, _ registry: TestRegistry, object: String) async throws -> [String] {
        try await client.call(.get, "/v1/audit?object=\(object)", token: registry.adminToken).items.compactMap { $0["action"] as? String }
    }

    @Test("a deleted host's agent is told 410 host-deleted on sync and report; unknown and revoked credentials stay 401")
    func deletedHostIsGone() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, credential) = try await Self.enrolledHost(client, world)
            let (otherID, _) = try await AgentTests.host(client, world)
            let revoking = try await client.call(
                .post, "/v1/hosts/\(otherID)/enroll-token", token: world.owner.token, json: ["revoke_credential": true])
            #expect(revoking.status == 201)
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential).status == 200)

            #expect(try await client.call(.delete, "/v1/hosts/\(id)", token: world.owner.token).status == 204)
            let sync = try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential)
            #expect(sync.status == 410, "\(sync.text)")
            #expect(sync.code == "host-deleted")
            #expect(sync.headers[.contentType] == "application/problem+json")
            let report = try await client.call(.post, "/v1/agent/report", token: credential, json: ["agent_version": "0.4.0"])
            #expect(report.status == 410)
            // An unknown credential is no instruction.
            let unknown = try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: Secrets.make(.hostCredential))
            #expect(unknown.status == 401)
            #expect(unknown.code == "unauthorized")
        }
    }

    @Test("a long-poll waiting when its host is deleted ends with 410")
    func deletedWhileWaiting() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, credential) = try await Self.enrolledHost(client, world)
            let first = try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential)
            let version = try #require(first.object["version"] as? Int)
            async let waiting = client.call(.get, "/v1/agent/sync?version=\(version)&wait=20", token: credential)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await client.call(.delete, "/v1/hosts/\(id)", token: world.owner.token).status == 204)
            let answer = try await waiting
            #expect(answer.status == 410, "\(answer.text)")
            #expect(answer.code == "host-deleted")
        }
    }

    @Test("a project with hosts is deleted only with If-Match; each key, host and cluster removed with it is audited")
    func projectDeletion() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (host, credential) = try await Self.enrolledHost(client, world)
            let cluster = try await client.call(
                .post, "/v1/clusters", token: world.owner.token, json: ["name": "pool", "project": world.project.id.rawValue])
            let clusterID = try #require(cluster.object["id"] as? String)
            let path = "/v1/projects/\(world.project.id.rawValue)"

            let refused = try await client.call(.delete, path, token: world.owner.token)
            #expect(refused.status == 428, "\(refused.text)")
            #expect(refused.code == "precondition-required")
            #expect(try await client.call(.get, "/v1/hosts/\(host)", token: world.owner.token).status == 200, "nothing was deleted")
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential).status == 200)

            let tag = try #require(try await client.call(.get, path, token: world.owner.token).headers[.eTag])
            let deleted = try await client.call(.delete, path, token: world.owner.token, headers: [.ifMatch: tag])
            #expect(deleted.status == 204, "\(deleted.text)")
            #expect(try await Self.actions(client, registry, object: host).last == "host.delete")
            #expect(try await Self.actions(client, registry, object: clusterID).last == "cluster.delete")
            #expect(try await Self.actions(client, registry, object: world.projectKey.id.rawValue).last == "key.delete")
            #expect(try await client.call(.get, "/v1/agent/sync?version=0&wait=0", token: credential).code == "host-deleted")
        }
    }

    @Test("a project without hosts is deleted without If-Match")
    func emptyProjectDeletion() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            #expect(try await client.call(.delete, "/v1/projects/\(world.project.id.rawValue)", token: world.owner.token).status == 204)
        }
    }

    @Test("deleting a user audits each personal key, token and membership removed with them")
    func userDeletion() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let tokens = try await registry.store.tokens(of: world.member.id, page: .first).items
            #expect(!tokens.isEmpty)
            #expect(try await client.call(.delete, "/v1/users/\(world.member.id.rawValue)", token: registry.adminToken).status == 204)
            #expect(try await Self.actions(client, registry, object: world.memberKey.id.rawValue).last == "key.delete")
            for token in tokens {
                #expect(try await Self.actions(client, registry, object: token.id.rawValue).last == "token.delete")
            }
            let membership = try await client.call(.get, "/v1/audit?object=\(world.project.id.rawValue)", token: registry.adminToken).items.last
            #expect(membership?["action"] as? String == "project.member.remove")
        }
    }
}
