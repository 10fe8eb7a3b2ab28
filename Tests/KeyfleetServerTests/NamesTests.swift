import HummingbirdTesting
import KeyfleetCore
import Testing

@testable import KeyfleetServer

/// Answers keep identifiers and show the names of what they refer to beside them (issue 9.5).
@Suite("Names beside identifiers")
struct NamesTests {
    @Test("keys, projects, hosts, clusters, effective access, invitations and the audit log name what they refer to")
    func namesBesideIdentifiers() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry, project: "web-\(UInt32.random(in: 0...UInt32.max))")
            let owner = world.owner.token
            let projectName = world.project.name
            let ownerName = try #require(try await registry.store.user(world.owner.id)?.name)
            let memberName = try #require(try await registry.store.user(world.member.id)?.name)

            // A key: its owner and creator by name.
            let key = try await client.call(.get, "/v1/ssh-keys/\(world.memberKey.id.rawValue)", token: world.member.token)
            #expect(key.dictionary("owner")["name"] as? String == memberName)
            #expect(key.object["created_by_name"] as? String == memberName)
            let listed = try await client.call(.get, "/v1/ssh-keys?project=\(world.project.id.rawValue)", token: owner)
            #expect(listed.items.first?["owner"].flatMap { ($0 as? [String: Any])?["name"] as? String } == projectName, "\(listed.text)")

            // A project: each member by name.
            let project = try await client.call(.get, "/v1/projects/\(world.project.id.rawValue)", token: owner)
            let members = try #require(project.object["members"] as? [[String: Any]])
            #expect(Set(members.compactMap { $0["user_name"] as? String }).isSuperset(of: [ownerName, memberName]), "\(project.text)")

            // A cluster and a host in it: project, cluster and listed keys by name.
            let cluster = try await client.call(
                .post, "/v1/clusters", token: owner,
                json: ["name": "pool", "project": world.project.id.rawValue, "keys": [world.projectKey.id.rawValue]])
            #expect(cluster.object["project_name"] as? String == projectName, "\(cluster.text)")
            #expect(cluster.dictionary("key_names") as? [String: String] == [world.projectKey.id.rawValue: world.projectKey.name])
            let clusterID = try #require(cluster.object["id"] as? String)
            let created = try await client.createHost(
                owner,
                [
                    "name": "web-1", "project": world.project.id.rawValue, "logins": ["root", "deploy"], "cluster": clusterID,
                    "access": ["deploy": ["mode": "explicit", "keys": [world.memberKey.id.rawValue]]],
                ])
            let host = created.dictionary("host")
            #expect(host["project_name"] as? String == projectName && host["cluster_name"] as? String == "pool", "\(created.text)")
            #expect(host["key_names"] as? [String: String] == [world.memberKey.id.rawValue: world.memberKey.name])
            let hostID = try #require(host["id"] as? String)

            // Effective access: the cluster of the rule and each key's owner by name.
            let access = try await client.call(.get, "/v1/hosts/\(hostID)/access", token: owner)
            let logins = try #require(access.object["logins"] as? [[String: Any]])
            #expect((logins[0]["source"] as? [String: Any])?["cluster_name"] as? String == "pool")
            let deployOwner = ((logins[1]["keys"] as? [[String: Any]])?.first?["owner"] as? [String: Any])?["name"] as? String
            #expect(deployOwner == memberName, "\(access.text)")

            // The audit log: the actor by name, the object by the name it had.
            let audit = try await client.call(.get, "/v1/audit?object=\(hostID)", token: registry.adminToken)
            let entry = try #require(audit.items.first)
            #expect(entry["actor_name"] as? String == ownerName && entry["object_name"] as? String == "web-1", "\(audit.text)")

            // An invitation: the invited and the inviting user by name.
            let carol = try await registry.person("carol-\(UInt32.random(in: 0...UInt32.max))")
            let invited = try await client.call(
                .put, "/v1/projects/\(world.project.id.rawValue)/members/\(carol.id.rawValue)", token: owner, json: ["role": "member"])
            #expect(invited.status == 202)
            let carolName = try #require(try await registry.store.user(carol.id)?.name)
            #expect(invited.object["user_name"] as? String == carolName && invited.object["invited_by_name"] as? String == ownerName)
        }
    }
}
