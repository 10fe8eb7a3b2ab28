import Foundation
import Testing
import TestSupport

@Suite("Contexts: several registries by name, through the real binary and two real servers", .serialized)
struct ContextsE2ETests {
    /// `keyfleet arguments...` with only the saved contexts under `config` (no KEYFLEET_SERVER/TOKEN/CONTEXT).
    private func run(_ arguments: [String], config: String, environment: [String: String] = [:]) throws -> ToolResult {
        var all = ["XDG_CONFIG_HOME": config, "KEYFLEET_SERVER": "", "KEYFLEET_TOKEN": "", "KEYFLEET_CONTEXT": ""]
        for (key, value) in environment { all[key] = value }
        return try KeyfleetBinary.run(arguments, environment: all)
    }

    /// The id of the token `user whoami` says is in use: which server and token a command used.
    private func whoami(_ arguments: [String] = [], config: String, environment: [String: String] = [:]) throws -> String? {
        let result = try run(["user", "whoami", "-o", "json"] + arguments, config: config, environment: environment)
        guard result.status == 0 else { return "failed: " + result.stderr }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        return (object?["token"] as? [String: Any])?["id"] as? String
    }

    private func list(config: String) throws -> [[String: Any]] {
        let result = try run(["context", "list", "-o", "json"], config: config)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [[String: Any]] ?? []
    }

    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("an old single-server config keeps working as context default; create, use, list, delete, --context, KEYFLEET_CONTEXT")
    func contexts() async throws {
        let directory = try TemporaryDirectory()
        let first = try RegistryServerProcess(dataDirectory: directory.file("a"))
        defer { first.stop() }
        let second = try RegistryServerProcess(dataDirectory: directory.file("b"))
        defer { second.stop() }
        let firstID = try #require(
            try whoami(config: directory.file("none"), environment: ["KEYFLEET_SERVER": first.url, "KEYFLEET_TOKEN": first.token]))
        let secondID = try #require(
            try whoami(config: directory.file("none"), environment: ["KEYFLEET_SERVER": second.url, "KEYFLEET_TOKEN": second.token]))
        #expect(firstID != secondID)

        // The format written before contexts: still read, as the active context "default".
        let config = directory.file("home")
        try FileManager.default.createDirectory(
            atPath: config + "/keyfleet", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let file = config + "/keyfleet/config"
        #expect(
            FileManager.default.createFile(
                atPath: file, contents: Data("server=\(first.url)\ntoken=\(first.token)\n".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(try whoami(config: config) == firstID)
        let legacy = try list(config: config)
        #expect(legacy.count == 1)
        #expect(
            legacy.first?["name"] as? String == "default" && legacy.first?["active"] as? Bool == true
                && legacy.first?["server"] as? String == first.url)
        let table = try run(["context", "list"], config: config)
        #expect(table.text == "ACTIVE  NAME     SERVER\n*       default  \(first.url)\n", "\(table.text)")

        // A second context, its token from the environment as login takes it; it becomes active.
        let created = try run(["context", "create", "second", "--server", second.url], config: config, environment: ["KEYFLEET_TOKEN": second.token])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(!created.text.contains(second.token) && !created.stderr.contains(second.token))
        #expect(try whoami(config: config) == secondID)
        #expect(try mode(file) == 0o600)
        #expect(try mode(config + "/keyfleet") == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: config + "/keyfleet") == ["config"], "a temporary file was left")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("[context default]") && text.contains("[context second]") && text.contains("active=second"), "\(text)")

        // --context (after or before the command) and KEYFLEET_CONTEXT choose another; the flag wins.
        #expect(try whoami(["--context", "default"], config: config) == firstID)
        #expect(try whoami(config: config, environment: ["KEYFLEET_CONTEXT": "default"]) == firstID)
        #expect(try whoami(["--context", "second"], config: config, environment: ["KEYFLEET_CONTEXT": "default"]) == secondID)
        let leading = try run(["--context", "default", "user", "whoami", "-o", "json"], config: config)
        #expect(leading.status == 0, "\(leading.stderr)")
        #expect(
            ((try JSONSerialization.jsonObject(with: Data(leading.stdout)) as? [String: Any])?["token"] as? [String: Any])?["id"] as? String
                == firstID)
        // A named context beats KEYFLEET_SERVER/KEYFLEET_TOKEN; --token still overrides its token.
        #expect(
            try whoami(["--context", "default"], config: config, environment: ["KEYFLEET_SERVER": second.url, "KEYFLEET_TOKEN": second.token])
                == firstID)
        let overridden = try run(["user", "whoami", "--context", "default", "--token", "kft_wrong"], config: config)
        #expect(overridden.stderr.hasSuffix("(unauthorized)\n"), "\(overridden.stderr)")

        // A name that is not one: refused with the closest, nothing changed.
        let slip = try run(["context", "use", "secnd"], config: config)
        #expect(slip.status == 1 && slip.stderr.hasPrefix("keyfleet: no context is named \"secnd\"; did you mean \"second\"?"), "\(slip.stderr)")
        let slipFlag = try run(["user", "whoami", "--context", "defualt"], config: config)
        #expect(slipFlag.status == 1 && slipFlag.stderr.contains("did you mean \"default\"?"), "\(slipFlag.stderr)")
        #expect(try list(config: config).count == 2)

        // From a token file; a name taken, or a refused token, changes nothing.
        let tokenFile = try directory.write("token", first.token + "\n")
        let third = try run(["context", "create", "third", "--server", first.url, "--token-file", tokenFile], config: config)
        #expect(third.status == 0, "\(third.stderr)")
        let taken = try run(["context", "create", "third", "--server", second.url, "--token-file", tokenFile], config: config)
        #expect(taken.status == 1 && taken.stderr.contains("already exists"), "\(taken.stderr)")
        let refused = try run(["context", "create", "fourth", "--server", second.url], config: config, environment: ["KEYFLEET_TOKEN": "kft_wrong"])
        #expect(refused.status == 1 && refused.stderr.hasSuffix("(unauthorized)\n"), "\(refused.stderr)")
        #expect(try list(config: config).map { $0["name"] as? String } == ["default", "second", "third"])
        // No output ever shows a token.
        for output in [
            try run(["context", "list"], config: config), try run(["context", "list", "-o", "json"], config: config),
            try run(["context", "list", "-o", "yaml"], config: config),
        ] {
            #expect(!output.text.contains(first.token) && !output.text.contains(second.token))
        }

        // use marks the active one; logout removes only it.
        #expect(try run(["context", "use", "default"], config: config).status == 0)
        #expect(try list(config: config).filter { $0["active"] as? Bool == true }.map { $0["name"] as? String } == ["default"])
        let marked = try run(["context", "list"], config: config).text.split(separator: "\n")
        #expect(marked.filter { $0.hasPrefix("*") }.count == 1 && marked.contains { $0.hasPrefix("*") && $0.contains("default") })
        let logout = try run(["logout"], config: config)
        #expect(logout.status == 0 && logout.text.contains("\"default\""), "\(logout.text) \(logout.stderr)")
        #expect(try list(config: config).map { $0["name"] as? String } == ["second", "third"])
        #expect(try list(config: config).allSatisfy { $0["active"] as? Bool == false })
        let none = try run(["user", "whoami"], config: config)
        #expect(none.status == 1 && none.stderr.hasPrefix("keyfleet: no server given"), "\(none.stderr)")
        #expect(try whoami(["--context", "third"], config: config) == firstID)

        // login updates the context of the same server, or makes the one it is told.
        let login = try run(["login", "--server", second.url, "--token", second.token], config: config)
        #expect(login.status == 0 && login.text.contains("context \"second\""), "\(login.text) \(login.stderr)")
        #expect(try whoami(config: config) == secondID)
        let named = try run(["login", "--server", first.url, "--token", first.token, "--context", "prod"], config: config)
        #expect(named.status == 0 && named.text.contains("context \"prod\""), "\(named.stderr)")
        #expect(try whoami(config: config) == firstID)
        #expect(try list(config: config).map { $0["name"] as? String } == ["second", "third", "prod"])

        // delete: the active one leaves none active; deleting the last removes the file.
        let deleted = try run(["context", "delete", "prod"], config: config)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try list(config: config).allSatisfy { $0["active"] as? Bool == false })
        #expect(try run(["context", "delete", "third"], config: config).status == 0)
        #expect(try run(["logout", "--context", "second"], config: config).status == 0)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try list(config: config).isEmpty)
    }

    @Test("a saved context's token goes only to its own server: --server elsewhere without a token is refused before anything is sent")
    func savedTokenStaysWithItsServer() throws {
        let directory = try TemporaryDirectory()
        let registry = try RegistryServerProcess(dataDirectory: directory.file("registry"))
        defer { registry.stop() }
        let config = directory.file("home")
        let login = try run(["login", "--server", registry.url, "--token", registry.token, "--context", "prod"], config: config)
        #expect(login.status == 0, "\(login.stderr)")
        // Anything else that listens: it records what reaches it.
        let received = directory.file("received")
        let portFile = directory.file("port")
        let listener = try BackgroundProcess(
            "/usr/bin/python3",
            [
                "-c",
                """
                import socket, sys
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 0)); s.listen(8)
                open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
                import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
                while True:
                    c, _ = s.accept(); c.settimeout(2)
                    try: d = c.recv(65536)
                    except Exception: d = b""
                    open(sys.argv[2], "ab").write(d)
                    c.sendall(b"HTTP/1.1 401 Unauthorized\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"); c.close()
                """,
                portFile, received,
            ])
        defer { _ = listener.stop() }
        let port = contentsOnceWritten(portFile)
        let elsewhere = "http://127.0.0.1:\(try #require(port))"
        for arguments in [["user", "whoami", "--server", elsewhere], ["user", "whoami", "--server", elsewhere, "--context", "prod"]] {
            let refused = try run(arguments, config: config)
            #expect(
                refused.status == 1 && refused.stderr.hasPrefix("keyfleet: no API token given for \(elsewhere)"), "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
        }
        let environment = try run(["user", "whoami"], config: config, environment: ["KEYFLEET_SERVER": elsewhere])
        #expect(environment.status == 1, "\(environment.stderr)")
        let sent = (try? String(contentsOfFile: received, encoding: .utf8)) ?? ""
        #expect(!sent.contains(registry.token), "the saved token reached another server")
        // The saved token still goes to its own server, given as --server too (a trailing slash is the same server).
        #expect(try whoami(["--server", registry.url + "/"], config: config)?.hasPrefix("failed") == false)
    }
}
