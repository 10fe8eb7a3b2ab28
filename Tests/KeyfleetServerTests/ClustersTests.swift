import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

@Suite("Clusters")
struct ClustersTests {
    @Test("create, get with ETag, keys, hosts; a host's own list overrides the cluster's; role rules; delete")
    func lifecycle() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let project = world.project.id.rawValue
            #expect(try await client.call(.post, "/v1/clusters", token: world.member.token, json: ["name": "c", "project": project]).status == 403)
            let foreign = try await client.call(
                .post, "/v1/clusters", token: world.owner.token, json: ["name": "c", "project": project, "keys": [world.strangerKey.id.rawValue]])
            #expect(foreign.code == "invalid-reference")
            let created = try await client.call(
                .post, "/v1/clusters", token: world.owner.token, json: ["name": "c", "project": project, "keys": [world.projectKey.id.rawValue]])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.object["id"] as? String)
            // The runtime percent-encodes the header (reported); decoded it names the cluster.
            #expect(created.headers[.location]?.removingPercentEncoding == "/v1/clusters/\(id)")
            #expect(try await client.call(.post, "/v1/clusters", token: world.owner.token, json: ["name": "c", "project": project]).status == 409)
            let got = try await client.call(.get, "/v1/clusters/\(id)", token: world.viewer.token)
            #expect(got.status == 200)
            let tag = try #require(got.headers[.eTag])
            #expect(try await client.call(.get, "/v1/clusters/\(id)", token: world.viewer.token, headers: [.ifNoneMatch: tag]).status == 304)
            #expect(try await client.call(.get, "/v1/clusters/\(id)", token: world.stranger.token).status == 404)
            #expect(try await client.call(.get, "/v1/clusters", token: world.stranger.token).items.isEmpty)
            #expect(try await client.call(.get, "/v1/clusters?name=c", token: world.viewer.token).items.count == 1)

            let added = try await client.call(
                .post, "/v1/clusters/\(id)/keys", token: world.owner.token, json: ["ssh_key": world.memberKey.id.rawValue])
            #expect(added.object["keys"] as? [String] == [world.projectKey.id.rawValue, world.memberKey.id.rawValue])
            #expect(
                try await client.call(.post, "/v1/clusters/\(id)/keys", token: world.member.token, json: ["ssh_key": world.memberKey.id.rawValue])
                    .status == 403)
            #expect(
                try await client.call(.delete, "/v1/clusters/\(id)/keys/\(world.strangerKey.id.rawValue)", token: world.owner.token).status == 404)
            _ = try await client.call(.delete, "/v1/clusters/\(id)/keys/\(world.memberKey.id.rawValue)", token: world.owner.token)

            let host = try await client.createHost(world.owner.token, ["name": "n1", "project": project, "logins": ["root", "ops"]])
            let hostID = try #require(host.dictionary("host")["id"] as? String)
            let joined = try await client.call(.post, "/v1/clusters/\(id)/hosts", token: world.owner.token, json: ["host": hostID])
            #expect(joined.status == 200)
            #expect(joined.object["cluster"] as? String == id)
            #expect(try await client.call(.get, "/v1/hosts?cluster=\(id)", token: world.viewer.token).items.count == 1)
            let other = try await client.call(.post, "/v1/clusters", token: world.owner.token, json: ["name": "d", "project": project])
            let otherID = try #require(other.object["id"] as? String)
            #expect(try await client.call(.post, "/v1/clusters/\(otherID)/hosts", token: world.owner.token, json: ["host": hostID]).status == 409)
            #expect(
                try await client.call(.post, "/v1/clusters/\(id)/hosts", token: world.owner.token, json: ["host": "nope"]).code == "invalid-reference"
            )

            _ = try await client.call(
                .post, "/v1/hosts/\(hostID)/keys", token: world.owner.token, json: ["ssh_key": world.memberKey.id.rawValue, "login": "ops"])
            let access = try await client.call(.get, "/v1/hosts/\(hostID)/access", token: world.member.token)
            let logins = try #require(access.object["logins"] as? [[String: Any]])
            #expect((logins[0]["source"] as? [String: Any])?["kind"] as? String == "cluster")
            #expect((logins[0]["source"] as? [String: Any])?["cluster"] as? String == id)
            #expect((logins[0]["keys"] as? [[String: Any]])?.map { $0["key_id"] as? String } == [world.projectKey.id.rawValue])
            #expect((logins[1]["source"] as? [String: Any])?["kind"] as? String == "host")
            #expect((logins[1]["keys"] as? [[String: Any]])?.map { $0["key_id"] as? String } == [world.memberKey.id.rawValue])

            #expect(try await client.call(.delete, "/v1/clusters/\(otherID)/hosts/\(hostID)", token: world.owner.token).status == 404)
            let left = try await client.call(.delete, "/v1/clusters/\(id)/hosts/\(hostID)", token: world.owner.token)
            #expect(left.status == 200)
            #expect(left.object["cluster"] == nil || left.object["cluster"] is NSNull)
            _ = try await client.call(.post, "/v1/clusters/\(id)/hosts", token: world.owner.token, json: ["host": hostID])

            let current = try await client.call(.get, "/v1/clusters/\(id)", token: world.owner.token)
            #expect(try await client.call(.delete, "/v1/clusters/\(id)", token: world.owner.token, headers: [.ifMatch: "\"stale\""]).status == 412)
            #expect(try await client.call(.delete, "/v1/clusters/\(id)", token: world.member.token).status == 403)
            #expect(
                try await client.call(.delete, "/v1/clusters/\(id)", token: world.owner.token, headers: [.ifMatch: current.headers[.eTag] ?? ""])
                    .status == 204)
            let fallen = try await client.call(.get, "/v1/hosts/\(hostID)/access?login=root", token: world.member.token)
            let root = try #require((fallen.object["logins"] as? [[String: Any]])?.first)
            #expect((root["source"] as? [String: Any])?["kind"] as? String == "project")
        }
    }
}
