import Foundation
import Testing
import TestSupport

/// Tables show names where they showed identifiers (issue 9.5), through the real binary and server.
@Suite("Registry: names in tables")
struct RegistryNamesE2ETests {
    @Test("host keys says member (alice) with an owner column; describe and list name projects, clusters and keys; cluster describe lists hosts")
    func namesInTables() throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        func run(_ arguments: [String], token: String? = nil) throws -> String {
            let result = try server.client(arguments, token: token)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result.text
        }
        _ = try run(["user", "create", "alice"])
        let alice = try run(["token", "create", "--user", "alice"]).trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try run(["project", "create", "web"])
        _ = try run(["project", "add-member", "web", "alice", "--role", "member"])
        let key = try RealKeys.make("ed25519", in: directory, name: "alice_key")
        _ = try run(["ssh-key", "create", "--name", "alice-laptop", "--public-key-from-file", key + ".pub"], token: alice)
        _ = try run(["cluster", "create", "pool", "--project", "web"])
        _ = try run(["host", "create", "web-1", "--project", "web", "--cluster", "pool", "--user-data-file", directory.file("ud")])

        let keys = try run(["host", "keys", "web-1"])
        #expect(keys.contains("OWNER"), "\(keys)")
        // The cluster has no keys yet: the login says so, by the cluster's name.
        #expect(keys.contains("cluster (pool)"), "\(keys)")
        _ = try run(["host", "update", "web-1", "--no-cluster"])
        let inherited = try run(["host", "keys", "web-1"])
        #expect(inherited.contains("member (alice)") && inherited.contains("user alice") && inherited.contains("alice-laptop"), "\(inherited)")
        #expect(!inherited.contains(" project "), "a member's key is not shown as the project's: \(inherited)")

        _ = try run(["host", "update", "web-1", "--cluster", "pool"])
        _ = try run(["host", "add-key", "web-1", "--ssh-key", "alice-laptop", "--login", "root", "--only"])
        let described = try run(["host", "describe", "web-1"])
        #expect(described.contains("web") && described.contains("pool") && described.contains("alice-laptop"), "\(described)")
        let cluster = try run(["cluster", "describe", "pool"])
        #expect(cluster.contains("HOST") && cluster.contains("web-1"), "\(cluster)")
        let list = try run(["host", "list"])
        #expect(list.contains("pool") && list.contains(" web "), "\(list)")
        let keyList = try run(["ssh-key", "list"])
        #expect(keyList.contains("user alice"), "\(keyList)")
        let audit = try run(["audit", "list", "--object-type", "host"])
        #expect(audit.contains("web-1") && audit.contains("admin"), "\(audit)")
        let json = try server.clientJSON(["host", "describe", "web-1", "-o", "json"]) as? [String: Any]
        #expect(json?["project_name"] as? String == "web" && json?["project"] as? String != "web", "JSON keeps the identifier and adds the name")
    }
}
