import Foundation
import Testing
import TestSupport

/// `keyfleet host update` through the real binary and server (issue 9.1): every part of a host changes
/// without recreating it.
@Suite("Registry: host update")
struct RegistryHostUpdateE2ETests {
    @Test("name, labels, logins, cluster and address change in place; bad input is one line and changes nothing")
    func update() throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        #expect(try server.client(["project", "create", "p"]).status == 0)
        #expect(try server.client(["cluster", "create", "c1", "--project", "p"]).status == 0)
        #expect(try server.client(["cluster", "create", "c2", "--project", "p"]).status == 0)
        let created = try server.client(
            [
                "host", "create", "h", "--project", "p", "--address", "203.0.113.7", "--label", "env=dev", "--label", "team=a", "--user-data-file",
                directory.file("ud"),
            ])
        #expect(created.status == 0, "\(created.stderr)")
        func host(_ name: String = "web-1") throws -> [String: Any] {
            try #require(try server.clientJSON(["host", "describe", name, "-o", "json"]) as? [String: Any])
        }
        #expect(try host("h")["address"] as? String == "203.0.113.7")
        func clusterID(_ name: String) throws -> String {
            try #require((try server.clientJSON(["cluster", "describe", name, "-o", "json"]) as? [String: Any])?["id"] as? String)
        }

        var changed = try server.client(
            [
                "host", "update", "h", "--name", "web-1", "--label", "env=prod", "--remove-label", "team", "--add-login", "deploy", "--cluster", "c1",
                "--address", "web-1.example.net",
            ])
        #expect(changed.status == 0, "\(changed.stderr)")
        var now = try host()
        #expect(now["name"] as? String == "web-1")
        #expect(now["labels"] as? [String: String] == ["env": "prod"])
        #expect(now["logins"] as? [String] == ["root", "deploy"])
        #expect(now["cluster"] as? String == (try clusterID("c1")))
        #expect(now["address"] as? String == "web-1.example.net")

        changed = try server.client(["host", "update", "web-1", "--remove-login", "root", "--cluster", "c2", "--clear-address"])
        #expect(changed.status == 0, "\(changed.stderr)")
        now = try host()
        #expect(now["logins"] as? [String] == ["deploy"])
        #expect(now["cluster"] as? String == (try clusterID("c2")))
        #expect(now["address"] == nil)
        #expect(try server.client(["host", "update", "web-1", "--no-cluster"]).status == 0)
        #expect(try host()["cluster"] == nil)
        #expect(try server.client(["host", "update", "web-1", "--login", "admin", "--login", "deploy"]).status == 0)
        #expect(try host()["logins"] as? [String] == ["admin", "deploy"])

        // Refusals: one line each, exit 1, the host as it was.
        let before = try host()
        for (arguments, message) in [
            (["--address=-oProxyCommand=x"], "keyfleet: the address must be a DNS name or an IP address"),
            (["--remove-login", "nobody"], "keyfleet: the host web-1 has no login \"nobody\""),
            (["--remove-label", "missing"], "keyfleet: the host web-1 has no label \"missing\""),
            (["--cluster", "c1", "--no-cluster"], "keyfleet: --cluster and --no-cluster exclude each other"),
            ([], "keyfleet: nothing to change"),
            (["--add-login", "Root"], "keyfleet: "),
        ] {
            let refused = try server.client(["host", "update", "web-1"] + arguments)
            #expect(
                refused.status == 1 && refused.stderr.hasPrefix(message) && refused.stderr.split(separator: "\n").count == 1,
                "\(arguments): \(refused.stderr)")
        }
        let after = try host()
        let canonical = { (object: [String: Any]) in
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(try canonical(before) == canonical(after))
    }
}
