import HummingbirdTesting
import KeyfleetCore
import Testing

@testable import KeyfleetServer

/// Rescue keys are break-glass keys per login: stored always, delivered only while the host is flagged.
@Suite("Rescue keys")
struct RescueTests {
    @Test("flagging a host for rescue delivers its logins' rescue keys within the long-poll, and ending it takes them away")
    func flagDeliversAndEndsRescue() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, credential) = try await SyncTests.enrolled(
                client, world,
                [
                    "logins": ["root", "deploy"],
                    "access": [
                        "root": ["mode": "explicit", "keys": [world.projectKey.id.rawValue]], "deploy": ["mode": "explicit", "keys": []],
                    ],
                    "rescue_keys": ["root": [world.memberKey.id.rawValue]],
                ])
            let first = try await SyncTests.sync(client, credential, version: 0, wait: 0)
            let version = try #require(first.object["version"] as? Int)
            let memberLine = world.memberKey.publicKey.openSSHLine
            #expect((first.dictionary("logins")["root"] as? [String])?.count == 1)
            #expect((first.dictionary("logins")["root"] as? [String])?.contains { $0.contains(memberLine) } == false, "not flagged: not delivered")

            // Only the project's owners flag a host.
            for token in [world.member.token, world.viewer.token] {
                #expect(try await client.call(.patch, "/v1/hosts/\(id)", token: token, json: ["rescue_active": true]).status == 403)
            }
            let (on, took) = try await SyncTests.wake(client, credential, version: version) {
                let answer = try await client.call(.patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["rescue_active": true])
                #expect(answer.status == 200 && answer.object["rescue_active"] as? Bool == true, "\(answer.text)")
            }
            #expect(took < .seconds(2))
            let rootLines = try #require(on.dictionary("logins")["root"] as? [String])
            #expect(rootLines.count == 2 && rootLines.contains { $0.contains(memberLine) }, "\(rootLines)")
            #expect((on.dictionary("logins")["deploy"] as? [String])?.contains { $0.contains(memberLine) } == false, "only the login it names")

            let access = try await client.call(.get, "/v1/hosts/\(id)/access?login=root", token: world.member.token)
            #expect(access.object["rescue_active"] as? Bool == true)
            let keys = try #require((access.object["logins"] as? [[String: Any]])?.first?["keys"] as? [[String: Any]])
            #expect(keys.filter { $0["rescue"] as? Bool == true }.map { $0["key_id"] as? String } == [world.memberKey.id.rawValue])

            let onVersion = try #require(on.object["version"] as? Int)
            let (off, _) = try await SyncTests.wake(client, credential, version: onVersion) {
                _ = try await client.call(.patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["rescue_active": false])
            }
            #expect((off.dictionary("logins")["root"] as? [String])?.count == 1)

            // Both ends are audited under their own action, with the actor.
            let audit = try await client.call(.get, "/v1/audit?object=\(id)", token: registry.adminToken)
            let actions = audit.items.compactMap { $0["action"] as? String }
            #expect(actions.contains("host.rescue.on") && actions.contains("host.rescue.off"), "\(actions)")
        }
    }

    @Test("rescue keys follow their login: a login the host drops takes its rescue keys with it; unknown logins are refused")
    func rescueKeysFollowTheirLogin() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let project = world.project.id.rawValue
            let unknown = try await client.createHost(
                world.owner.token, ["name": "a", "project": project, "rescue_keys": ["deploy": [world.projectKey.id.rawValue]]])
            #expect(unknown.status == 422 && unknown.code == "invalid-login", "\(unknown.text)")
            let created = try await client.createHost(
                world.owner.token,
                ["name": "b", "project": project, "logins": ["root", "deploy"], "rescue_keys": ["deploy": [world.projectKey.id.rawValue]]])
            let id = try #require(created.dictionary("host")["id"] as? String)
            let noLogin = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token,
                json: ["ssh_key": world.projectKey.id.rawValue, "rescue": true, "login": "ops"])
            #expect(noLogin.code == "invalid-login")
            let dropped = try await client.call(.patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["logins": ["root"]])
            #expect(dropped.status == 200 && (dropped.dictionary("rescue_keys")).isEmpty, "\(dropped.text)")
        }
    }
}
