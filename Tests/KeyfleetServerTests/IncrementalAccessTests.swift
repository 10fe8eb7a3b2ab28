import Testing
import TestSupport

/// A change costs what it touches: after the first load the server reads only the changed objects from the
/// store, and recomputes only the hosts the change can reach.
@Suite("Access moved forward by the change, not reloaded")
struct IncrementalAccessTests {
    @Test("a key added to one project: one read of what changed, that project's host recomputed, the other's answer reused")
    func changeReachesOnlyItsProject() async throws {
        try await TestRegistry.with { registry, client in
            let owner = try await client.apiUser(registry, "olga")
            var hosts: [String] = []
            var projects: [String] = []
            for name in ["web", "db"] {
                let project = try await client.apiProject(owner.token, name)
                _ = try await client.apiProjectKey(owner.token, "\(name)-deploy", project: project)
                hosts.append(try await client.apiHost(owner.token, "\(name)-1", project: project))
                projects.append(project)
            }
            func lines(_ host: String) async throws -> [String] {
                let answer = try await client.call(.get, "/v1/hosts/\(host)/access", token: owner.token)
                #expect(answer.status == 200)
                let logins = answer.object["logins"] as? [[String: Any]] ?? []
                return logins.flatMap { ($0["keys"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
            }
            #expect(try await lines(hosts[0]) == ["web-deploy"])
            #expect(try await lines(hosts[1]) == ["db-deploy"])
            let loaded = registry.api.access.statistics

            let added = try await client.call(
                .post, "/v1/ssh-keys", token: owner.token, json: ["name": "web-ci", "public_key": try TestKeys.ed25519Line(), "project": projects[0]])
            #expect(added.status == 201)
            #expect(Set(try await lines(hosts[0])) == ["web-deploy", "web-ci"])
            #expect(try await lines(hosts[1]) == ["db-deploy"])
            let after = registry.api.access.statistics
            #expect(after.wholeLoads == loaded.wholeLoads, "the change was applied by reading the whole registry again")
            #expect(after.changeLoads > loaded.changeLoads)
            #expect(after.hostViewsComputed == loaded.hostViewsComputed + 1, "only the changed project's host is recomputed")
        }
    }

    @Test(
        """
        the kept answer of a host's access read: byte for byte the same while nothing reaches the host, new after a rename \
        or a grant, never shown to a stranger
        """)
    func keptAnswers() async throws {
        try await TestRegistry.with { registry, client in
            let owner = try await client.apiUser(registry, "olga")
            let stranger = try await client.apiUser(registry, "sam")
            let project = try await client.apiProject(owner.token, "web")
            let keyID = try await client.apiProjectKey(owner.token, "deploy", project: project)
            let hostID = try await client.apiHost(owner.token, "web-1", project: project)
            let path = "/v1/hosts/\(hostID)/access"

            let first = try await client.call(.get, path, token: owner.token)
            let second = try await client.call(.get, path, token: owner.token)
            #expect(first.status == 200 && second.status == 200 && first.text == second.text)
            #expect(registry.api.accessAnswers.hits == 1, "the second read was encoded again")
            #expect(second.headers[.contentType] == first.headers[.contentType])
            #expect(try await client.call(.get, path, token: stranger.token).status == 404, "a kept answer was shown to a stranger")
            let oneLogin = try await client.call(.get, path + "?login=root", token: owner.token)
            #expect(oneLogin.status == 200 && (oneLogin.object["logins"] as? [[String: Any]])?.count == 1)

            #expect(try await client.call(.patch, "/v1/ssh-keys/\(keyID)", token: owner.token, json: ["name": "deploy-2"]).status == 200)
            let renamed = try await client.call(.get, path, token: owner.token)
            #expect(renamed.text.contains("deploy-2"), "the answer kept the key's old name")
            #expect(try await client.call(.get, path, token: owner.token).text == renamed.text)
            #expect(registry.api.accessAnswers.hits == 2)
            let added = try await client.call(
                .post, "/v1/ssh-keys", token: owner.token, json: ["name": "ci", "public_key": try TestKeys.ed25519Line(), "project": project])
            #expect(added.status == 201)
            let granted = try await client.call(.get, path, token: owner.token)
            #expect(granted.text.contains("keyfleet:ci"), "the answer kept the keys before the grant")
        }
    }
}
