import Foundation
import HTTPTypes
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import Testing

/// Membership by consent (issue 10.6): an owner may invite anyone, but nothing of the invited user's is
/// visible to the project or delivered to its hosts until they accept.
@Suite("Project invitations")
struct InvitationsTests {
    @Test("an owner's add-member is an invitation; the invitee's keys reach nothing until they accept")
    func consent() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let bob = try await registry.person("bob")
            let bobKey = try await registry.key("bob-laptop", owner: .user(bob.id), by: bob.id)
            let project = world.project.id.rawValue
            let host = try await client.createHost(world.owner.token, ["name": "web-1", "project": project, "logins": ["deploy"]])
            #expect(host.status == 201)
            let hostID = try #require(host.dictionary("host")["id"] as? String)

            let invited = try await client.call(.put, "/v1/projects/\(project)/members/\(bob.id)", token: world.owner.token, json: ["role": "member"])
            #expect(invited.status == 202)
            #expect(invited.object["user"] as? String == bob.id.rawValue && invited.object["role"] as? String == "member")
            #expect(invited.object["invited_by"] as? String == world.owner.id.rawValue)

            // Not a member: the project does not list bob, his key is not the owner's to see or to grant.
            let read = try await client.call(.get, "/v1/projects/\(project)", token: world.owner.token)
            #expect(!((read.object["members"] as? [[String: String]]) ?? []).contains { $0["user"] == bob.id.rawValue })
            #expect(try await client.call(.get, "/v1/ssh-keys/\(bobKey.id)", token: world.owner.token).status == 404)
            let grant = try await client.call(
                .post, "/v1/hosts/\(hostID)/keys", token: world.owner.token, json: ["ssh_key": bobKey.id.rawValue, "login": "deploy"])
            #expect(grant.status == 422 || grant.status == 404)
            #expect(!(try await accessFingerprints(client, hostID, world.owner.token)).contains(bobKey.sha256Fingerprint))
            #expect(try await client.call(.get, "/v1/projects/\(project)", token: bob.token).status == 404)

            // bob sees the invitation; the project sees it is open; asking again changes the role.
            let mine = try await client.call(.get, "/v1/invitations", token: bob.token).items
            #expect(mine.count == 1 && mine.first?["project_name"] as? String == "web")
            #expect(try await client.call(.get, "/v1/invitations", token: world.owner.token).items.isEmpty)
            #expect(try await client.call(.get, "/v1/projects/\(project)/invitations", token: world.member.token).items.count == 1)

            let joined = try await client.call(.post, "/v1/invitations/\(project)", token: bob.token)
            #expect(joined.status == 200)
            #expect(((joined.object["members"] as? [[String: String]]) ?? []).contains { $0["user"] == bob.id.rawValue && $0["role"] == "member" })
            #expect(try await client.call(.get, "/v1/invitations", token: bob.token).items.isEmpty)
            #expect(try await client.call(.post, "/v1/invitations/\(project)", token: bob.token).status == 404)
            #expect(try await accessFingerprints(client, hostID, world.owner.token).contains(bobKey.sha256Fingerprint))

            // The audit log records the invitation and its acceptance by bob himself.
            let audit = try await client.call(.get, "/v1/audit?object_id=\(project)", token: registry.adminToken).items
            let actions = audit.compactMap { $0["action"] as? String }
            #expect(actions.contains("project.invitation.create") && actions.contains("project.invitation.accept"))
            #expect(audit.first { $0["action"] as? String == "project.invitation.accept" }?["actor"] as? String == bob.id.rawValue)
        }
    }

    @Test("declined and withdrawn invitations leave nothing; administrators add members directly; a stranger cannot accept")
    func declineWithdrawAdmin() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let bob = try await registry.person("bob")
            let carol = try await registry.person("carol")
            let project = world.project.id.rawValue
            let invite = { (user: UserID) in
                try await client.call(.put, "/v1/projects/\(project)/members/\(user)", token: world.owner.token, json: ["role": "viewer"]).status
            }
            #expect(try await invite(bob.id) == 202)
            #expect(try await client.call(.post, "/v1/invitations/\(project)", token: carol.token).status == 404)
            #expect(try await client.call(.delete, "/v1/invitations/\(project)", token: bob.token).status == 204)
            #expect(try await client.call(.post, "/v1/invitations/\(project)", token: bob.token).status == 404)

            #expect(try await invite(carol.id) == 202)
            #expect(try await client.call(.delete, "/v1/projects/\(project)/members/\(carol.id)", token: world.owner.token).status == 200)
            #expect(try await client.call(.get, "/v1/invitations", token: carol.token).items.isEmpty)

            // An existing member's role changes at once; an administrator adds at once.
            #expect(
                try await client.call(.put, "/v1/projects/\(project)/members/\(world.viewer.id)", token: world.owner.token, json: ["role": "member"])
                    .status == 200)
            #expect(try await invite(carol.id) == 202)
            let direct = try await client.call(
                .put, "/v1/projects/\(project)/members/\(carol.id)", token: registry.adminToken, json: ["role": "member"])
            #expect(direct.status == 200)
            #expect(try await client.call(.get, "/v1/invitations", token: carol.token).items.isEmpty)
        }
    }

    private func accessFingerprints(_ client: some TestClientProtocol, _ host: String, _ token: String) async throws -> [String] {
        let access = try await client.call(.get, "/v1/hosts/\(host)/access", token: token)
        #expect(access.status == 200)
        let logins = access.object["logins"] as? [[String: Any]] ?? []
        return logins.flatMap { ($0["keys"] as? [[String: Any]] ?? []).compactMap { $0["fingerprint"] as? String } }
    }
}
