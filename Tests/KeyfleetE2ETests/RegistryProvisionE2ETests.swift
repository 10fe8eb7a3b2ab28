import Foundation
import Testing
import TestSupport

@Suite("Registry hosts: provision with cloud-init, revoke, login context", .serialized)
struct RegistryProvisionE2ETests {
    @Test("host create: user data passes Debian's cloud-init schema check; a deleted key leaves host keys")
    func provisionAndRevoke() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let first = try RealKeys.make("ed25519", in: directory, name: "first")
        let second = try RealKeys.make("ecdsa", bits: 256, in: directory, name: "second")
        #expect(try server.client(["project", "create", "web"]).status == 0)
        for (name, path) in [("deploy-1", first), ("deploy-2", second)] {
            let made = try server.client(["ssh-key", "create", "--name", name, "--project", "web", "--public-key-from-file", path + ".pub"])
            #expect(made.status == 0, "\(made.stderr)")
        }

        let userData = directory.file("user-data")
        let created = try server.client([
            "host", "create", "web-1", "--project", "web", "--ssh-key", "deploy-1", "--ssh-key", "deploy-2",
            "--login", "root", "--login", "deploy", "--label", "env=prod", "--user-data-file", userData,
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: userData)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let document = try directory.read("user-data")
        #expect(document.hasPrefix("#cloud-config"))
        for path in [first, second] {
            let material = RealKeys.material(try String(contentsOfFile: path + ".pub", encoding: .utf8))
            #expect(document.contains(String(material.split(separator: " ")[1])))
        }
        // The real checker; a missing cloud-init is a failure, not a skip.
        let schema = try ExternalTool.run("cloud-init", ["schema", "--config-file", userData])
        #expect(schema.status == 0, "cloud-init schema: \(schema.text) \(schema.stderr)")

        // Without a file the user data goes to standard output, nothing else does.
        let printed = try server.client(["host", "create", "web-2", "--project", "web"])
        #expect(printed.status == 0, "\(printed.stderr)")
        #expect(printed.text.hasPrefix("#cloud-config"))
        let printedFile = try directory.write("printed", printed.text)
        #expect(try ExternalTool.run("cloud-init", ["schema", "--config-file", printedFile]).status == 0)

        // Effective access names both keys for both logins.
        let fingerprints = try [first, second].map { try RealKeys.fingerprint($0 + ".pub") }
        func effective() throws -> [String: Set<String>] {
            let access = try server.clientJSON(["host", "keys", "web-1", "-o", "json"]) as? [String: Any]
            var result: [String: Set<String>] = [:]
            for login in access?["logins"] as? [[String: Any]] ?? [] {
                let keys = (login["keys"] as? [[String: Any]] ?? []).compactMap { $0["fingerprint"] as? String }
                result[login["login"] as? String ?? "?", default: []].formUnion(keys)
            }
            return result
        }
        #expect(try effective() == ["root": Set(fingerprints), "deploy": Set(fingerprints)])
        let table = try server.client(["host", "keys", "web-1", "--login", "deploy"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.text.contains(fingerprints[0]) && table.text.contains(fingerprints[1]))

        // Revoke: delete one key, it is gone from every login at once.
        #expect(try server.client(["ssh-key", "delete", "deploy-1"]).status == 0)
        #expect(try effective() == ["root": [fingerprints[1]], "deploy": [fingerprints[1]]])
        // Taking the other off one login's own list would leave nobody able to log in as it: refused, in
        // one line, unless --allow-empty says that is meant.
        let lockOut = try server.client(["host", "remove-key", "web-1", "--ssh-key", "deploy-2", "--login", "deploy"])
        #expect(lockOut.status == 1 && lockOut.stderr.hasSuffix("(would-lock-out)\n"), "\(lockOut.stderr)")
        #expect(try effective() == ["root": [fingerprints[1]], "deploy": [fingerprints[1]]])
        let removed = try server.client(["host", "remove-key", "web-1", "--ssh-key", "deploy-2", "--login", "deploy", "--allow-empty"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try effective() == ["root": [fingerprints[1]], "deploy": []])
        // set-access --inherit gives the login the project's keys again.
        let inherit = try server.client(["host", "set-access", "web-1", "--login", "deploy", "--inherit"])
        #expect(inherit.status == 0, "\(inherit.stderr)")
        #expect(try effective() == ["root": [fingerprints[1]], "deploy": [fingerprints[1]]])
        // Adding a key to a login that inherits says what it inherits and asks what becomes of it.
        let third = try RealKeys.make("ed25519", in: directory, name: "third")
        #expect(
            try server.client(["ssh-key", "create", "--name", "deploy-3", "--project", "web", "--public-key-from-file", third + ".pub"]).status == 0)
        let thirdFingerprint = try RealKeys.fingerprint(third + ".pub")
        #expect(try effective()["deploy"] == [fingerprints[1], thirdFingerprint], "a new project key reaches a login that inherits")
        let ask = try server.client(["host", "add-key", "web-1", "--ssh-key", "deploy-3", "--login", "deploy"])
        #expect(ask.status == 1 && ask.stderr.contains("inherits") && ask.stderr.contains("deploy-2"), "\(ask.stderr)")
        let only = try server.client(["host", "add-key", "web-1", "--ssh-key", "deploy-3", "--login", "deploy", "--only"])
        #expect(only.status == 0, "\(only.stderr)")
        #expect(only.stderr.contains("inherited") && !only.stderr.hasPrefix("keyfleet:"), "\(only.stderr)")
        #expect(try effective()["deploy"] == [thirdFingerprint])
        #expect(try server.client(["host", "set-access", "web-1", "--login", "deploy", "--inherit"]).status == 0)
        let keep = try server.client(["host", "add-key", "web-1", "--ssh-key", "deploy-3", "--login", "deploy", "--keep-inherited"])
        #expect(keep.status == 0, "\(keep.stderr)")
        #expect(try effective()["deploy"] == [fingerprints[1], thirdFingerprint])

        // A fresh enrollment token: printed alone on stdout.
        let token = try server.client(["host", "enroll-token", "web-1"])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(token.text.split(separator: "\n").count == 1)
    }

    @Test("members, clusters and tokens: a member's key reaches the cluster's host and leaves with the member")
    func clustersAndMembers() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        #expect(try server.client(["user", "create", "bob"]).status == 0)
        let minted = try server.client(["token", "create", "--user", "bob"])
        #expect(minted.status == 0, "\(minted.stderr)")
        let bobToken = minted.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!minted.stderr.contains(bobToken))
        let key = try RealKeys.make("ed25519", in: directory, name: "bob")
        let fingerprint = try RealKeys.fingerprint(key + ".pub")
        #expect(
            try server.client(["ssh-key", "create", "--name", "bob-laptop", "--public-key-from-file", key + ".pub"], token: bobToken).status == 0)
        #expect(try server.client(["project", "create", "p"]).status == 0)
        #expect(try server.client(["project", "add-member", "p", "bob", "--role", "member"]).status == 0)
        #expect(try server.client(["host", "create", "h", "--project", "p", "--user-data-file", directory.file("ud")]).status == 0)
        #expect(try server.client(["cluster", "create", "c", "--project", "p"]).status == 0)
        #expect(try server.client(["cluster", "add-key", "c", "--ssh-key", "bob-laptop"]).status == 0)
        #expect(try server.client(["cluster", "add-host", "c", "--host", "h"]).status == 0)
        func rootKeys() throws -> [String] {
            let access = try server.clientJSON(["host", "keys", "h", "--login", "root", "-o", "json"]) as? [String: Any]
            let logins = access?["logins"] as? [[String: Any]] ?? []
            return logins.flatMap { ($0["keys"] as? [[String: Any]] ?? []).compactMap { $0["fingerprint"] as? String } }
        }
        #expect(try rootKeys() == [fingerprint])
        #expect(try server.client(["project", "remove-member", "p", "bob"]).status == 0)
        #expect(try rootKeys() == [])
        // A read-only token reads and may not change; a revoked token is refused.
        let readOnly = try server.client(["token", "create", "--read-only"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try server.client(["project", "list"], token: readOnly).status == 0)
        let refused = try server.client(["project", "create", "q"], token: readOnly)
        #expect(refused.status == 1 && refused.stderr.hasSuffix("(read-only-token)\n"), "\(refused.stderr)")
        let tokens = try server.clientJSON(["token", "list", "--user", "bob", "-o", "json"]) as? [[String: Any]]
        let bobTokenID = try #require(tokens?.first?["id"] as? String)
        #expect(try server.client(["token", "revoke", bobTokenID]).status == 0)
        let revoked = try server.client(["ssh-key", "list"], token: bobToken)
        #expect(revoked.status == 1 && revoked.stderr.hasSuffix("(unauthorized)\n"), "\(revoked.stderr)")
        // The audit log has the changes, each with its actor.
        let audit = try server.clientJSON(["audit", "list", "--since", "1h", "-o", "json"]) as? [[String: Any]]
        let actions = Set(audit?.compactMap { $0["action"] as? String } ?? [])
        #expect(actions.count >= 5, "\(actions)")
    }

    @Test("login saves a 0600 context; flag beats environment beats context; logout forgets it")
    func loginContext() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let config = directory.file("config-home")
        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
            var all = ["XDG_CONFIG_HOME": config, "KEYFLEET_SERVER": "", "KEYFLEET_TOKEN": ""]
            for (key, value) in environment { all[key] = value }
            return try KeyfleetBinary.run(arguments, environment: all)
        }
        // Nothing configured: one clear line.
        let none = try run(["ssh-key", "list"])
        #expect(none.status == 1)
        #expect(none.stderr.hasPrefix("keyfleet: no server given"))

        // A bad token is refused and nothing is saved.
        let bad = try run(["login", "--server", server.url, "--token", "kft_wrong"])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasSuffix("(unauthorized)\n"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: config + "/keyfleet/config"))

        let login = try run(["login", "--server", server.url, "--token", server.token])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(!login.text.contains(server.token) && !login.stderr.contains(server.token))
        let file = config + "/keyfleet/config"
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: config + "/keyfleet")[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        #expect(try run(["ssh-key", "list"]).status == 0)

        // The environment beats the context, the flag beats the environment.
        let envWins = try run(["ssh-key", "list"], environment: ["KEYFLEET_TOKEN": "kft_wrong"])
        #expect(envWins.stderr.hasSuffix("(unauthorized)\n"), "\(envWins.stderr)")
        let flagWins = try run(["ssh-key", "list", "--token", server.token], environment: ["KEYFLEET_TOKEN": "kft_wrong"])
        #expect(flagWins.status == 0, "\(flagWins.stderr)")
        let started = Date()
        // Another server needs its own token (the saved one stays with its server): given, it is tried and reported at once.
        let serverFlag = try run(["ssh-key", "list", "--server", "http://127.0.0.1:1", "--token", "kft_other"])
        #expect(Date().timeIntervalSince(started) < 15, "an unreachable server is reported at once, not after retries")
        #expect(serverFlag.status == 1)
        #expect(serverFlag.stderr.hasPrefix("keyfleet: cannot reach the server at http://127.0.0.1:1"), "\(serverFlag.stderr)")
        #expect(serverFlag.stderr.split(separator: "\n").count == 1)

        // A context others can read is refused.
        chmod(file, 0o640)
        let exposed = try run(["ssh-key", "list"])
        #expect(exposed.status == 1)
        #expect(exposed.stderr.contains("readable or writable by others"), "\(exposed.stderr)")
        chmod(file, 0o600)

        #expect(try run(["logout"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try run(["ssh-key", "list"]).status == 1)
    }
}

extension RegistryProvisionE2ETests {
    @Test("a write refused before its body is read still answers its problem document, even while the client is still sending a large body")
    func refusedBeforeTheBody() throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let readOnly = try server.client(["token", "create", "--read-only"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Larger than the socket buffers, within the server's 1 MiB limit: the refusal comes while curl sends.
        let body = "{\"name\": \"" + String(repeating: "x", count: 900_000) + "\"}"
        let file = try directory.write("body.json", body)
        for _ in 0..<5 {
            let answer = try ExternalTool.run(
                "curl",
                [
                    "-s", "-X", "POST", "-H", "Authorization: Bearer \(readOnly)", "-H", "Content-Type: application/json",
                    "--data-binary", "@\(file)", "-w", "\n%{http_code}", "\(server.url)/v1/projects",
                ])
            #expect(answer.text.hasSuffix("\n403") && answer.text.contains("\"read-only-token\""), "\(answer.text.suffix(300)) \(answer.stderr)")
        }
    }
}
