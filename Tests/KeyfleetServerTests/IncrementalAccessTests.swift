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
                _ = try await client.call(
                    .post, "/v1/ssh-keys", token: owner.token,
                    json: ["name": "\(name)-deploy", "public_key": try TestKeys.ed25519Line(), "project": project])
                let host = try await client.call(.post, "/v1/hosts", token: owner.token, json: ["name": "\(name)-1", "project": project])
                hosts.append(try #require((host.object["host"] as? [String: Any])?["id"] as? String))
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
}
