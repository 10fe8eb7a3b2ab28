import Foundation
import Testing
import TestSupport

/// YAML read back by PyYAML (a YAML 1.1 reader, the strictest about what a plain scalar means), as JSON.
private func readYAML(_ text: String) throws -> Any {
    let program = "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin.read()), sys.stdout)"
    let result = try ExternalTool.run("python3", ["-c", program], input: Array(text.utf8))
    guard result.status == 0 else {
        throw YAMLReadFailure(description: "PyYAML cannot read (or gives a non-JSON value for) the YAML: \(result.stderr)\n\(text)")
    }
    return try JSONSerialization.jsonObject(with: Data(result.stdout), options: [.fragmentsAllowed])
}

private struct YAMLReadFailure: Error, CustomStringConvertible {
    var description: String
}

/// Whether two parsed JSON values are equal: compared as canonical JSON text (keys sorted).
private func same(_ a: Any, _ b: Any) -> Bool {
    let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
    guard let left = try? JSONSerialization.data(withJSONObject: a, options: options),
        let right = try? JSONSerialization.data(withJSONObject: b, options: options)
    else { return false }
    return left == right
}

@Suite("Output: -o/--output json|yaml, errors as problem documents (real binary and server)", .serialized)
struct OutputFormatsE2ETests {
    @Test("-o yaml reads back as exactly what -o json shows, for values YAML would take for something else")
    func yaml() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        #expect(try server.client(["project", "create", "web"]).status == 0)
        // Label values (and keys) a YAML reader would turn into booleans, numbers, null, dates, or read as
        // comments, keys, anchors, tags, quotes or flow collections.
        let values = [
            "true", "False", "yes", "No", "on", "OFF", "y", "n", "null", "~", "", "123", "-7", "+1", "0x1F", "0o17", "017", "1_000",
            "1.5e3", ".5", ".inf", "-.Inf", ".nan", "1:20", "2027-01-01", "2027-01-01T12:00:00Z", "a: b", "a:b", "x #y", "#x", "-x", "- x",
            "?x", ":x", "x:", " lead", "trail ", "@at", "`tick", "!tag", "&anchor", "*alias", "%pct", "|", ">", "{a}", "[a]", "a,b",
            "'single'", "\"double\"", "back\\slash", "ünïcödé", "日本", "<<", "=", "---", "...",
        ]
        var arguments = ["host", "create", "tricky", "--project", "web", "--user-data-file", directory.file("ud.yaml")]
        for (index, value) in values.enumerated() { arguments += ["--label", "l\(index)=\(value)"] }
        let created = try server.client(arguments)
        #expect(created.status == 0, "\(created.stderr)")
        var keyLabels = ["host", "create", "keys", "--project", "web", "--user-data-file", directory.file("ud2.yaml")]
        for key in ["true", "null", "yes", "123", "1.5", "0x1f", "on", "y", "1-2"] { keyLabels += ["--label", "\(key)=k"] }
        let keyed = try server.client(keyLabels)
        #expect(keyed.status == 0, "\(keyed.stderr)")
        let key = try RealKeys.make("ed25519", in: directory, name: "k", comment: "a:_b_#c")
        #expect(try server.client(["ssh-key", "create", "--name", "true", "--public-key-from-file", key + ".pub"]).status == 0)

        for command in [
            ["host", "describe", "tricky"], ["host", "describe", "keys"], ["host", "list"], ["ssh-key", "list"], ["project", "list"],
            ["audit", "list"], ["user", "whoami"],
        ] {
            let json = try server.client(command + ["-o", "json"])
            let yaml = try server.client(command + ["-o", "yaml"])
            #expect(json.status == 0 && yaml.status == 0, "\(command): \(json.stderr) \(yaml.stderr)")
            let expected = try JSONSerialization.jsonObject(with: Data(json.stdout))
            let read = try readYAML(yaml.text)
            #expect(same(read, expected), "\(command): YAML reads back differently:\n\(yaml.text)")
            // --output is -o; both spellings of the value.
            #expect(try server.client(command + ["--output", "yaml"]).text == yaml.text)
            #expect(try server.client(command + ["--output=json"]).text == json.text)
        }
        // Plain where plain is safe: a name and a fingerprint read as they are.
        let listed = try server.client(["ssh-key", "list", "-o", "yaml"]).text
        #expect(listed.contains("name: \"true\""), "\(listed)")
        #expect(listed.contains("fingerprint_sha256: SHA256:"), "\(listed)")
    }

    @Test("with -o json or -o yaml an error is the problem document on stderr, as the server sent it; exit 1")
    func problemDocuments() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let missing = "0b6f6a4e-9d3c-4c4b-8a53-5a0f2b1f7c11"
        let (status, body) = try await server.api("GET", "/v1/projects/\(missing)")
        #expect(status == 404)
        let sent = try #require(body as? [String: Any])
        #expect(sent["type"] as? String == "urn:keyfleet:problem:not-found")

        let json = try server.client(["project", "describe", missing, "-o", "json"])
        #expect(json.status == 1)
        #expect(json.stdout.isEmpty)
        let printed = try JSONSerialization.jsonObject(with: Data(json.stderr.utf8))
        #expect(same(printed, sent), "\(json.stderr)")
        let yaml = try server.client(["project", "describe", missing, "--output", "yaml"])
        #expect(yaml.status == 1 && yaml.stdout.isEmpty)
        #expect(same(try readYAML(yaml.stderr), sent), "\(yaml.stderr)")
        // Without it: the one line, as before.
        let line = try server.client(["project", "describe", missing])
        #expect(line.status == 1 && line.stderr.hasPrefix("keyfleet: ") && line.stderr.hasSuffix("(not-found)\n"), "\(line.stderr)")

        // Errors found by the client: a problem document of the same shape, without an HTTP status.
        let unreachable = try server.client(["project", "list", "-o", "json", "--server", "http://127.0.0.1:1"])
        #expect(unreachable.status == 1 && unreachable.stdout.isEmpty)
        let local = try #require(try JSONSerialization.jsonObject(with: Data(unreachable.stderr.utf8)) as? [String: Any], "\(unreachable.stderr)")
        #expect(local["type"] as? String == "urn:keyfleet:problem:unreachable")
        #expect(local["code"] as? String == "unreachable")
        #expect((local["title"] as? String)?.isEmpty == false)
        #expect((local["detail"] as? String)?.hasPrefix("cannot reach the server at http://127.0.0.1:1") == true, "\(local)")
        #expect(local["status"] == nil)
        let usage = try server.client(["project", "lst", "-o", "json"])
        #expect(usage.status == 1)
        let usageDocument = try #require(try JSONSerialization.jsonObject(with: Data(usage.stderr.utf8)) as? [String: Any], "\(usage.stderr)")
        #expect(usageDocument["code"] as? String == "usage")
        #expect((usageDocument["detail"] as? String)?.contains("did you mean \"project list\"?") == true, "\(usageDocument)")
        let badOption = try server.client(["project", "list", "-o", "yaml", "--no-such-option"])
        #expect(badOption.status == 1)
        let badDocument = try readYAML(badOption.stderr) as? [String: Any]
        #expect(badDocument?["code"] as? String == "usage", "\(badOption.stderr)")
    }
}
