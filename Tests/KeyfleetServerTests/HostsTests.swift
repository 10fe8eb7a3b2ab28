import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing
import TestSupport

@Suite("Hosts")
struct HostsTests {
    @Test("create: the host, schema-valid cloud-init with the effective keys, a one-time enrollment; get with ETag and 304")
    func createAndGet() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let created = try await client.createHost(
                world.owner.token, ["name": "web-1", "project": world.project.id.rawValue, "logins": ["root", "deploy"], "labels": ["env": "prod"]])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.headers[.cacheControl] == "no-store")
            let host = created.dictionary("host")
            let id = try #require(host["id"] as? String)
            // The runtime percent-encodes the header (reported); decoded it names the host.
            #expect(created.headers[.location]?.removingPercentEncoding == "/v1/hosts/\(id)")
            #expect(host["logins"] as? [String] == ["root", "deploy"])
            let enrollment = created.dictionary("enrollment")
            let token = try #require(enrollment["token"] as? String)
            #expect(token.hasPrefix("kfe_"))
            #expect(enrollment["server_url"] as? String == "https://keys.example.test:8443")
            let userData = try #require(created.object["user_data"] as? String)
            #expect(userData.hasPrefix("#cloud-config\n"))
            #expect(userData.contains(token))
            // Inherited: the project's key and the member's personal key, never the stranger's.
            for key in [world.projectKey, world.memberKey] { #expect(userData.contains(key.publicKey.openSSHLine.split(separator: " ")[1])) }
            #expect(!userData.contains(world.strangerKey.publicKey.openSSHLine.split(separator: " ")[1]))
            let directory = try TemporaryDirectory()
            let file = try directory.write("user-data.yaml", userData)
            let check = try ExternalTool.run("cloud-init", ["schema", "--config-file", file])
            #expect(check.status == 0, "cloud-init schema: \(check.text) \(check.stderr)")
            #expect(check.text.contains("Valid cloud-config"))

            let got = try await client.call(.get, "/v1/hosts/\(id)", token: world.viewer.token)
            #expect(got.status == 200)
            let tag = try #require(got.headers[.eTag])
            #expect(tag == created.headers[.eTag])
            #expect(got.dictionary("access")["root"] as? [String: String] == ["mode": "inherited"])
            let again = try await client.call(.get, "/v1/hosts/\(id)", token: world.viewer.token, headers: [.ifNoneMatch: tag])
            #expect(again.status == 304)
            let hidden = try await client.call(.get, "/v1/hosts/\(id)", token: world.stranger.token)
            #expect(hidden.status == 404)
        }
    }

    @Test("create refusals: bad login, reserved login, foreign key, other project's cluster, name taken, not an owner")
    func createRefusals() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let other = try await HostWorld.make(registry, project: "other")
            let otherCluster = try await client.call(
                .post, "/v1/clusters", token: registry.adminToken, json: ["name": "c", "project": other.project.id.rawValue])
            #expect(otherCluster.status == 201)
            let project = world.project.id.rawValue
            let cases: [([String: Any], Int, String)] = [
                (["name": "a", "project": project, "logins": ["Root"]], 422, "invalid-login"),
                (["name": "a", "project": project, "logins": ["default"]], 422, "reserved-login"),
                (["name": "a", "project": project, "ssh_keys": [world.strangerKey.id.rawValue]], 422, "invalid-reference"),
                (["name": "a", "project": project, "cluster": otherCluster.object["id"] as? String ?? ""], 422, "invalid-reference"),
                (["name": "a", "project": "nope"], 422, "invalid-reference"),
                (["name": "a\nb", "project": project], 422, "forbidden-character"),
                (["name": " a", "project": project], 422, "invalid-name"),
                (["name": "a", "project": project, "access": ["root": ["mode": "inherited", "keys": []]]], 400, "bad-request"),
            ]
            for (body, status, code) in cases {
                let answer = try await client.createHost(world.owner.token, body)
                #expect(answer.status == status, "\(body) \(answer.text)")
                #expect(answer.code == code, "\(body)")
            }
            #expect(try await client.createHost(world.member.token, ["name": "a", "project": project]).status == 403)
            #expect(try await client.createHost(world.stranger.token, ["name": "a", "project": project]).code == "invalid-reference")
            #expect(try await client.createHost(world.owner.token, ["name": "a", "project": project]).status == 201)
            let taken = try await client.createHost(world.owner.token, ["name": "a", "project": project])
            #expect(taken.status == 409)
            #expect(taken.code == "conflict")
            let list = try await client.call(.get, "/v1/hosts", token: registry.adminToken)
            #expect(list.items.count == 1, "nothing stored by the refusals")
        }
    }

    @Test("list: only visible projects, filters by project, name, label; pagination")
    func list() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let other = try await HostWorld.make(registry, project: "other")
            for index in 0..<3 {
                let answer = try await client.createHost(
                    registry.adminToken, ["name": "h\(index)", "project": world.project.id.rawValue, "labels": ["n": "\(index)"]])
                #expect(answer.status == 201)
            }
            #expect(try await client.createHost(registry.adminToken, ["name": "x", "project": other.project.id.rawValue]).status == 201)
            #expect(try await client.call(.get, "/v1/hosts", token: registry.adminToken).items.count == 4)
            #expect(try await client.call(.get, "/v1/hosts", token: world.viewer.token).items.count == 3)
            #expect(try await client.call(.get, "/v1/hosts", token: world.stranger.token).items.isEmpty)
            #expect(try await client.call(.get, "/v1/hosts?name=h1", token: world.member.token).items.count == 1)
            #expect(try await client.call(.get, "/v1/hosts?label=n%3D2", token: world.member.token).items.count == 1)
            #expect(try await client.call(.get, "/v1/hosts?project=\(other.project.id.rawValue)", token: world.member.token).items.isEmpty)
            let first = try await client.call(.get, "/v1/hosts?limit=2", token: world.member.token)
            #expect(first.items.count == 2)
            let cursor = try #require(first.object["next_cursor"] as? String)
            let second = try await client.call(.get, "/v1/hosts?limit=2&cursor=\(cursor)", token: world.member.token)
            #expect(second.items.count == 1)
            #expect(second.object["next_cursor"] == nil || second.object["next_cursor"] is NSNull)
            #expect(try await client.call(.get, "/v1/hosts?limit=0", token: world.member.token).status == 400)
            #expect(try await client.call(.get, "/v1/hosts?cursor=zzzz", token: world.member.token).status == 400)
        }
    }

    @Test("update with If-Match, keys per login and rescue, login access, effective access with sources, delete")
    func changeAndAccess() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let created = try await client.createHost(
                world.owner.token, ["name": "web", "project": world.project.id.rawValue, "logins": ["root", "deploy"]])
            let id = try #require(created.dictionary("host")["id"] as? String)
            let tag = try #require(created.headers[.eTag])
            let renamed = try await client.call(
                .patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["name": "web-2"], headers: [.ifMatch: tag])
            #expect(renamed.status == 200)
            let stale = try await client.call(.patch, "/v1/hosts/\(id)", token: world.owner.token, json: ["name": "web-3"], headers: [.ifMatch: tag])
            #expect(stale.status == 412)
            #expect(stale.code == "precondition-failed")
            #expect(try await client.call(.patch, "/v1/hosts/\(id)", token: world.member.token, json: ["name": "x"]).status == 403)

            var access = try await client.call(.get, "/v1/hosts/\(id)/access", token: world.member.token)
            #expect(access.status == 200)
            let logins = try #require(access.object["logins"] as? [[String: Any]])
            #expect(logins.map { $0["login"] as? String } == ["root", "deploy"])
            #expect((logins[0]["source"] as? [String: Any])?["kind"] as? String == "project")
            #expect((logins[0]["keys"] as? [[String: Any]])?.count == 2)

            let added = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token, json: ["ssh_key": world.projectKey.id.rawValue, "login": "deploy"])
            #expect(added.status == 200, "\(added.text)")
            #expect((added.dictionary("access")["deploy"] as? [String: Any])?["keys"] as? [String] == [world.projectKey.id.rawValue])
            let rescue = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token, json: ["ssh_key": world.memberKey.id.rawValue, "rescue": true])
            #expect(rescue.dictionary("rescue_keys") as? [String: [String]] == ["root": [world.memberKey.id.rawValue]], "root by default")
            let rescueDeploy = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token,
                json: ["ssh_key": world.memberKey.id.rawValue, "rescue": true, "login": "deploy"])
            #expect(
                rescueDeploy.dictionary("rescue_keys") as? [String: [String]] == [
                    "root": [world.memberKey.id.rawValue], "deploy": [world.memberKey.id.rawValue],
                ])
            #expect(rescueDeploy.object["rescue_active"] as? Bool == false)
            let foreign = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token, json: ["ssh_key": world.strangerKey.id.rawValue])
            #expect(foreign.code == "invalid-reference")
            let noLogin = try await client.call(
                .post, "/v1/hosts/\(id)/keys", token: world.owner.token, json: ["ssh_key": world.projectKey.id.rawValue, "login": "nobody"])
            #expect(noLogin.code == "invalid-login")

            access = try await client.call(.get, "/v1/hosts/\(id)/access?login=deploy", token: world.member.token)
            let deploy = try #require((access.object["logins"] as? [[String: Any]])?.first)
            #expect((deploy["source"] as? [String: Any])?["kind"] as? String == "host")
            let entry = try #require((deploy["keys"] as? [[String: Any]])?.first)
            #expect(entry["key_id"] as? String == world.projectKey.id.rawValue)
            #expect((entry["authorized_key"] as? String)?.hasSuffix(" keyfleet:deploy") == true)
            let rescueAccess = try #require(access.object["rescue"] as? [[String: Any]])
            #expect(rescueAccess.map { $0["login"] as? String } == ["deploy"], "limited to the login asked for")
            #expect(access.object["rescue_active"] as? Bool == false)
            #expect(try await client.call(.get, "/v1/hosts/\(id)/access?login=nobody", token: world.member.token).code == "invalid-login")
            #expect(try await client.call(.get, "/v1/hosts/\(id)/access", token: world.stranger.token).status == 404)

            let inherited = try await client.call(.delete, "/v1/hosts/\(id)/keys/\(world.projectKey.id.rawValue)", token: world.owner.token)
            #expect(inherited.status == 409, "root inherits")
            // The last key of a login: refused unless the caller says so, nothing changed.
            let lockOut = try await client.call(
                .delete, "/v1/hosts/\(id)/keys/\(world.projectKey.id.rawValue)?login=deploy", token: world.owner.token)
            #expect(lockOut.status == 409)
            #expect(lockOut.code == "would-lock-out")
            let removed = try await client.call(
                .delete, "/v1/hosts/\(id)/keys/\(world.projectKey.id.rawValue)?login=deploy&allow_empty=true", token: world.owner.token)
            #expect(removed.status == 200)
            #expect((removed.dictionary("access")["deploy"] as? [String: Any])?["keys"] as? [String] == [], "explicit and empty, not inherited")
            #expect(
                try await client.call(.delete, "/v1/hosts/\(id)/keys/\(world.projectKey.id.rawValue)?login=deploy", token: world.owner.token).status
                    == 404)
            #expect(
                try await client.call(.delete, "/v1/hosts/\(id)/keys/\(world.memberKey.id.rawValue)?rescue=true", token: world.owner.token).status
                    == 200)
            let rescueLeft = try await client.call(
                .delete, "/v1/hosts/\(id)/keys/\(world.memberKey.id.rawValue)?rescue=true", token: world.owner.token)
            #expect(rescueLeft.status == 404, "root's is gone")

            let reset = try await client.call(.put, "/v1/hosts/\(id)/logins/deploy/access", token: world.owner.token, json: ["mode": "inherited"])
            #expect(reset.status == 200)
            #expect((reset.dictionary("access")["deploy"] as? [String: Any])?["mode"] as? String == "inherited")
            let explicitWithout = try await client.call(
                .put, "/v1/hosts/\(id)/logins/deploy/access", token: world.owner.token, json: ["mode": "explicit"])
            #expect(explicitWithout.status == 400)
            // An explicit empty list where keys are inherited locks everyone out: only with allow_empty.
            let empty: [String: Any] = ["mode": "explicit", "keys": [String]()]
            let emptied = try await client.call(.put, "/v1/hosts/\(id)/logins/deploy/access", token: world.owner.token, json: empty)
            #expect(emptied.code == "would-lock-out", "\(emptied.text)")
            let allowed = try await client.call(.put, "/v1/hosts/\(id)/logins/deploy/access?allow_empty=true", token: world.owner.token, json: empty)
            #expect(allowed.status == 200, "\(allowed.text)")

            let current = try await client.call(.get, "/v1/hosts/\(id)", token: world.owner.token)
            #expect(try await client.call(.delete, "/v1/hosts/\(id)", token: world.owner.token, headers: [.ifMatch: "\"stale\""]).status == 412)
            let deleted = try await client.call(
                .delete, "/v1/hosts/\(id)", token: world.owner.token, headers: [.ifMatch: current.headers[.eTag] ?? ""])
            #expect(deleted.status == 204)
            #expect(try await client.call(.get, "/v1/hosts/\(id)", token: world.owner.token).status == 404)
        }
    }
}
