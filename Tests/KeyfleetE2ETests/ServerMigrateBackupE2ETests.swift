import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `keyfleet server migrate` and `keyfleet server backup` on the real executables: a registry filled through
/// the API and a real agent, copied into a real PostgreSQL database or backed up while it is written, and
/// then served again by a new server that must answer everything as the old one did.
@Suite("keyfleet server migrate and backup (real binaries, real PostgreSQL)", .serialized)
struct ServerMigrateBackupE2ETests {
    /// JSON as one comparable text (keys sorted).
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    /// Every item of the listing at `path`, page by page.
    static func all(_ server: RegistryServerProcess, _ path: String, token: String? = nil) async throws -> [Any] {
        var items: [Any] = []
        var cursor: String?
        repeat {
            let page = path + (path.contains("?") ? "&" : "?") + "limit=1000" + (cursor.map { "&cursor=\($0)" } ?? "")
            let (status, body) = try await server.api("GET", page, token: token)
            guard status == 200, let object = body as? [String: Any], let more = object["items"] as? [Any] else {
                throw FleetError("GET \(page) answered \(status): \(String(describing: body))")
            }
            items += more
            cursor = object["next_cursor"] as? String
        } while cursor != nil
        return items
    }

    /// What the registry answers, as the administrator sees it: every listing (the audit log among them),
    /// every host with its access, every project's invitations and every user's tokens.
    static func view(_ server: RegistryServerProcess) async throws -> [String: String] {
        var view: [String: String] = [:]
        var listings: [String: [Any]] = [:]
        for path in ["/v1/users", "/v1/projects", "/v1/ssh-keys", "/v1/hosts", "/v1/clusters", "/v1/audit"] {
            listings[path] = try await all(server, path)
            view[path] = try canonical(listings[path] ?? [])
        }
        func ids(_ path: String) -> [String] { (listings[path] ?? []).compactMap { ($0 as? [String: Any])?["id"] as? String } }
        for host in ids("/v1/hosts") {
            for path in ["/v1/hosts/\(host)", "/v1/hosts/\(host)/access"] {
                var (status, body) = try await server.api("GET", path)
                // When the answer was computed, not what it says.
                if var access = body as? [String: Any], access["computed_at"] != nil {
                    access["computed_at"] = nil
                    body = access
                }
                view[path] = "\(status) " + (try canonical(body ?? NSNull()))
            }
        }
        for project in ids("/v1/projects") {
            view["/v1/projects/\(project)/invitations"] = try canonical(try await all(server, "/v1/projects/\(project)/invitations"))
        }
        for user in ids("/v1/users") {
            view["/v1/tokens?user=\(user)"] = try canonical(try await all(server, "/v1/tokens?user=\(user)"))
        }
        return view
    }

    /// `keyfleet-server arguments...` with only `environment` of the KEYFLEET_ variables set.
    static func serverTool(_ arguments: [String], executable: String = "keyfleet-server", environment: [String: String] = [:]) throws -> ToolResult {
        var clean = ["KEYFLEET_DATABASE_URL": "", "KEYFLEET_DATA_DIR": "", "KEYFLEET_ADMIN_TOKEN": ""]
        for (key, value) in environment { clean[key] = value }
        return try ExternalTool.run(KeyfleetBinary.sibling(executable), arguments, environment: clean)
    }

    static func id(_ body: Any?, _ key: String? = nil) throws -> String {
        var object = body as? [String: Any]
        if let key { object = object?[key] as? [String: Any] }
        guard let id = object?["id"] as? String else { throw FleetError("no id in \(String(describing: body))") }
        return id
    }

    @Test("migrate copies a used registry into PostgreSQL; a server there answers the same, its agent syncs; a second migrate is refused")
    func migrateThenServe() async throws {
        let work = try TemporaryDirectory()
        let data = work.file("registry")
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let a = try RegistryServerProcess(dataDirectory: data)
        var aStopped = false
        defer { if !aStopped { a.stop() } }

        // People and their tokens; one token revoked.
        var users: [String: String] = [:], tokens: [String: String] = [:]
        for name in ["alice", "bob", "carol"] {
            let (status, made) = try await a.api("POST", "/v1/users", json: ["name": "\(name)-\(suffix)"])
            try #require(status == 201, "\(String(describing: made))")
            users[name] = try Self.id(made)
            let (_, token) = try await a.api("POST", "/v1/tokens", json: ["user": users[name] ?? "", "scope": "read-write"])
            tokens[name] = try #require((token as? [String: Any])?["secret"] as? String)
        }
        let (_, spare) = try await a.api("POST", "/v1/tokens", json: ["user": users["carol"] ?? "", "scope": "read-only"])
        let spareSecret = try #require((spare as? [String: Any])?["secret"] as? String)
        #expect(try await a.api("DELETE", "/v1/tokens/\(try Self.id(spare, "token"))").status == 200)

        // Alice's project: bob accepted her invitation, carol has not yet.
        let (_, projectBody) = try await a.api("POST", "/v1/projects", json: ["name": "shop-\(suffix)"], token: tokens["alice"])
        let project = try Self.id(projectBody)
        for name in ["bob", "carol"] {
            let path = "/v1/projects/\(project)/members/\(users[name] ?? "")"
            let invited = try await a.api("PUT", path, json: ["role": "member"], token: tokens["alice"])
            #expect(invited.status == 202, "\(String(describing: invited.body))")
        }
        #expect(try await a.api("POST", "/v1/invitations/\(project)", token: tokens["bob"]).status == 200)

        // Keys: personal ones, project ones with labels and an expiry.
        var material: [String: String] = [:]
        var keyIDs: [String: String] = [:]
        for (name, owner) in [("alice-laptop", "alice"), ("bob-laptop", "bob"), ("deploy", "admin"), ("oncall", "admin")] {
            let path = try RealKeys.make(["ed25519", "ecdsa"].randomElement() ?? "ed25519", in: work, name: name)
            let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            material[name] = RealKeys.material(line)
            var body: [String: Any] = ["name": "\(name)-\(suffix)", "public_key": line, "labels": ["n": "\(Int.random(in: 0...999))"]]
            if owner == "admin" { body["project"] = project }
            if name == "oncall" { body["expires_at"] = "2099-0\(Int.random(in: 1...9))-01T00:00:00Z" }
            let (status, made) = try await a.api("POST", "/v1/ssh-keys", json: body, token: owner == "admin" ? nil : tokens[owner])
            try #require(status == 201, "\(String(describing: made))")
            keyIDs[name] = try Self.id(made, "key")
        }
        let (_, clusterBody) = try await a.api(
            "POST", "/v1/clusters", json: ["name": "pool-\(suffix)", "project": project, "keys": [keyIDs["deploy"] ?? ""]])
        let cluster = try Self.id(clusterBody)
        let (hostStatus, hostBody) = try await a.api(
            "POST", "/v1/hosts",
            json: [
                "name": "web-\(suffix)", "project": project, "logins": ["root", "deploy"], "labels": ["zone": suffix], "cluster": cluster,
                "access": ["deploy": ["mode": "explicit", "keys": [keyIDs["deploy"] ?? "", keyIDs["alice-laptop"] ?? ""]]],
                "rescue_keys": ["root": [keyIDs["oncall"] ?? ""]],
            ])
        try #require(hostStatus == 201, "\(String(describing: hostBody))")
        let host = try Self.id(hostBody, "host")
        let enrollToken = try #require(((hostBody as? [String: Any])?["enrollment"] as? [String: Any])?["token"] as? String)
        #expect(try await a.api("PATCH", "/v1/hosts/\(host)", json: ["rescue_active": true]).status == 200)
        // A host enrolled, then deleted: its credential is retired, not forgotten.
        let (_, oldBody) = try await a.api("POST", "/v1/hosts", json: ["name": "old-\(suffix)", "project": project])
        let oldToken = try #require(((oldBody as? [String: Any])?["enrollment"] as? [String: Any])?["token"] as? String)
        let oldState = work.file("old-state")
        let oldEnrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", a.url, "--token", oldToken, "--state-dir", oldState])
        try #require(oldEnrolled.status == 0, "\(oldEnrolled.stderr)")
        #expect(try await a.api("DELETE", "/v1/hosts/\(try Self.id(oldBody, "host"))").status == 204)

        // The real agent enrolls and syncs once against the SQLite server, and reports.
        let state = work.file("state"), keys = work.file("keys")
        let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", a.url, "--token", enrollToken, "--state-dir", state])
        try #require(enrolled.status == 0, "\(enrolled.stderr)")
        let agentArguments = [
            "--state-dir", state, "--keys-dir", keys, "--mode", "files", "--wait", "20", "--host-keys-dir", work.file("no-host-keys"),
        ]
        let first = try HostAgentRun.start(agentArguments)
        func installed(_ login: String) -> String { (try? String(contentsOfFile: keys + "/" + login, encoding: .utf8)) ?? "" }
        let synced = try await HostAgentRun.eventually(.seconds(20)) { installed("deploy").contains(material["deploy"] ?? "-") }
        var reported = false
        for _ in 0..<400 where !reported {
            let (status, body) = try await a.api("GET", "/v1/hosts/\(host)")
            reported = status == 200 && ((body as? [String: Any])?["agent"] as? [String: Any])?["agent_version"] != nil
            if !reported { try await Task.sleep(for: .milliseconds(50)) }
        }
        _ = HostAgentRun.terminate(first)
        try #require(synced && reported, "the agent did not sync and report: \(first.standardError.suffix(2000))")

        let before = try await Self.view(a)
        let port = try #require(URLComponents(string: a.url)?.port)
        a.stop()
        aStopped = true

        // The copy, by keyfleet-server itself.
        let databaseURL = try TestPostgres.shared().newDatabase()
        let migrated = try Self.serverTool(["server", "migrate", "--data-dir", data, "--to-database-url", databaseURL])
        try #require(migrated.status == 0, "migrate: \(migrated.stderr)")
        let summary = migrated.text.split(separator: "\n")
        #expect(summary.count == 1 && migrated.stderr.isEmpty, "\(migrated.text)\(migrated.stderr)")
        #expect(migrated.text.hasPrefix("migrated the registry in \(data) to the database "), "\(migrated.text)")
        #expect(migrated.text.contains(" users 4,") && migrated.text.contains(" host_credentials 1,"), "\(migrated.text)")
        #expect(migrated.text.contains(" retired_host_credentials 1") && migrated.text.contains("every count verified"), "\(migrated.text)")
        #expect(!migrated.text.contains(try TestPostgres.shared().password))

        // A server on the database, on the old address (the agent's saved one), with no admin token given.
        let b = try RegistryServerProcess(
            dataDirectory: data, token: a.token, arguments: ["--listen", "127.0.0.1:\(port)"], databaseURL: databaseURL)
        defer { b.stop() }
        let after = try await Self.view(b)
        #expect(Set(after.keys) == Set(before.keys))
        for (path, answer) in before.sorted(by: { $0.key < $1.key }) {
            let now = after[path]?.prefix(1500) ?? "nothing"
            #expect(after[path] == answer, "GET \(path) differs after migrate:\nbefore \(answer.prefix(1500))\nafter  \(now)")
        }
        // Every token still works, and the revoked one is still refused.
        for name in ["alice", "bob", "carol"] {
            let (status, me) = try await b.api("GET", "/v1/users/me", token: tokens[name])
            let user = (me as? [String: Any])?["user"] as? [String: Any]
            #expect(status == 200 && user?["name"] as? String == "\(name)-\(suffix)", "\(name): \(status) \(String(describing: me))")
        }
        #expect(try await b.api("GET", "/v1/users/me", token: spareSecret).status == 401)

        // The agent enrolled with the old server syncs with the new one: a change made there reaches it.
        let second = try HostAgentRun.start(agentArguments)
        defer { _ = HostAgentRun.terminate(second) }
        let fresh = try RealKeys.make("ed25519", in: work, name: "fresh")
        let freshLine = try String(contentsOfFile: fresh + ".pub", encoding: .utf8)
        // Root inherits the cluster's keys: the new key goes there.
        let (created, freshBody) = try await b.api(
            "POST", "/v1/ssh-keys", json: ["name": "fresh-\(suffix)", "public_key": freshLine, "project": project])
        #expect(created == 201)
        let added = try await b.api("POST", "/v1/clusters/\(cluster)/keys", json: ["ssh_key": try Self.id(freshBody, "key")])
        #expect(added.status == 200, "\(String(describing: added.body))")
        let delivered = try await HostAgentRun.eventually(.seconds(20)) { installed("root").contains(RealKeys.material(freshLine)) }
        #expect(delivered, "the agent did not receive a change made on the migrated registry: \(second.standardError.suffix(2000))")

        // The audit log goes on after the copied entries.
        let audit = try await Self.all(b, "/v1/audit")
        let sequences = audit.compactMap { ($0 as? [String: Any])?["sequence"] as? Int }
        let copiedCount = try #require((try JSONSerialization.jsonObject(with: Data(before["/v1/audit"]?.utf8 ?? "".utf8)) as? [Any])?.count)
        #expect(sequences.count > copiedCount && sequences == Array(1...sequences.count), "\(sequences)")
        let actions = audit.suffix(2).compactMap { ($0 as? [String: Any])?["action"] as? String }
        #expect(actions.first == "key.create" && actions.count == 2, "\(actions)")

        // A second migrate into the now used database: refused in one line, through each executable, nothing
        // changed (the agent stopped first: its reports change what the host shows).
        _ = HostAgentRun.terminate(second)
        let used = try await Self.view(b)
        let refusals = [
            try Self.serverTool(["server", "migrate", "--data-dir", data, "--to-database-url", databaseURL]),
            try Self.serverTool(
                ["server", "migrate", "--data-dir", data], executable: "keyfleet-client", environment: ["KEYFLEET_DATABASE_URL": databaseURL]),
            try KeyfleetBinary.run(["server", "migrate", "--data-dir", data, "--to-database-url", databaseURL]),
        ]
        for refused in refusals {
            #expect(refused.status == 1 && refused.stdout.isEmpty, "\(refused.status) \(refused.text)")
            #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stderr.hasPrefix("keyfleet: the database "), "\(refused.stderr)")
            #expect(refused.stderr.contains("is not empty") && refused.stderr.contains("nothing was written"), "\(refused.stderr)")
        }
        #expect(try await Self.view(b) == used)
    }

    @Test("migrate's one-line refusals: no data directory, no registry, a bad URL, no database, no URL")
    func migrateRefusals() throws {
        let work = try TemporaryDirectory()
        let empty = work.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let port = try TestPostgres.freePort()
        let nowhere = "postgres://u:hunter2@127.0.0.1:\(port)/db?sslmode=disable"
        let cases: [([String], String)] = [
            (["--data-dir", work.file("missing"), "--to-database-url", nowhere], "the data directory \(work.file("missing")) does not exist"),
            (["--data-dir", empty, "--to-database-url", nowhere], "the data directory \(empty) holds no registry (no keyfleet.sqlite)"),
            (["--data-dir", empty, "--to-database-url", "mysql://u@h/db"], "the database URL has the scheme \"mysql\""),
            (["--data-dir", empty], "give --to-database-url URL (or KEYFLEET_DATABASE_URL)"),
        ]
        for (arguments, words) in cases {
            let result = try Self.serverTool(["server", "migrate"] + arguments)
            #expect(result.status == 1 && result.stdout.isEmpty && result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("keyfleet: " + words), "\(arguments): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: work.file("missing")))
        #expect(!FileManager.default.fileExists(atPath: empty + "/keyfleet.sqlite"))

        // A registry, but no database where the URL points: one line naming it, without the password.
        let server = try RegistryServerProcess(dataDirectory: work.file("registry"))
        server.stop()
        let unreachable = try Self.serverTool(
            ["server", "migrate", "--data-dir", work.file("registry")], environment: ["KEYFLEET_DATABASE_URL": nowhere])
        #expect(unreachable.status == 1 && unreachable.stderr.split(separator: "\n").count == 1, "\(unreachable.stderr)")
        #expect(unreachable.stderr.hasPrefix("keyfleet: cannot reach the database at 127.0.0.1:\(port)"), "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("hunter2"))
    }

    @Test("backup of a server being written: one consistent state that a new server serves; never over an existing file")
    func backupWhileWriting() async throws {
        let work = try TemporaryDirectory()
        let data = work.file("registry")
        let server = try RegistryServerProcess(dataDirectory: data)
        defer { server.stop() }
        let (_, projectBody) = try await server.api("POST", "/v1/projects", json: ["name": "busy"])
        let project = try Self.id(projectBody)
        for index in 0..<10 {
            #expect(try await server.api("POST", "/v1/ssh-keys/generate", json: ["name": "before-\(index)", "project": project]).status == 201)
        }

        // Keys are made one after another while the backup runs.
        let output = work.file("backups/registry-copy.sqlite")
        try FileManager.default.createDirectory(atPath: work.file("backups"), withIntermediateDirectories: true)
        let writing = Flag()
        let writer = Task {
            var made = 0
            while !writing.isDown {
                let (status, _) = try await server.api("POST", "/v1/ssh-keys/generate", json: ["name": "during-\(made)", "project": project])
                if status == 201 { made += 1 }
            }
            return made
        }
        try await Task.sleep(for: .milliseconds(300))
        let backup = try KeyfleetBinary.run(["server", "backup", "--data-dir", data, "--output", output])
        try await Task.sleep(for: .milliseconds(200))
        writing.lower()
        let made = try await writer.value
        try #require(backup.status == 0, "backup: \(backup.stderr)")
        #expect(made > 0, "no key was made while the backup ran")
        #expect(backup.text.split(separator: "\n").count == 1 && backup.stderr.isEmpty, "\(backup.text)\(backup.stderr)")
        #expect(backup.text.hasPrefix("backed up the registry in \(data) to \(output): "), "\(backup.text)")
        var info = stat()
        #expect(stat(output, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.file("backups")) == ["registry-copy.sqlite"])

        // A new server on the copy: the administrator's token works; its audit log is a prefix of the live
        // one; it has exactly the keys that prefix made.
        let restored = work.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: output, toPath: restored + "/keyfleet.sqlite")
        let copy = try RegistryServerProcess(dataDirectory: restored, token: server.token)
        defer { copy.stop() }
        let copiedAudit = try await Self.all(copy, "/v1/audit")
        let liveAudit = try await Self.all(server, "/v1/audit")
        #expect(copiedAudit.count >= 12 && copiedAudit.count < liveAudit.count, "copy \(copiedAudit.count), live \(liveAudit.count)")
        #expect(try Self.canonical(copiedAudit) == (try Self.canonical(Array(liveAudit.prefix(copiedAudit.count)))))
        #expect(backup.text.contains("audit log up to entry \(copiedAudit.count)"), "\(backup.text)")
        let entries = copiedAudit.compactMap { $0 as? [String: Any] }
        let created = Set(entries.filter { $0["action"] as? String == "key.create" }.compactMap { $0["object_id"] as? String })
        let copiedKeys = try await copy.storedKeys().compactMap { $0["id"] as? String }
        #expect(Set(copiedKeys) == created && copiedKeys.count == created.count)
        #expect(copiedKeys.count >= 10)

        // Never over an existing file, and one line for each refusal.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
        let cases: [([String], String)] = [
            (["--data-dir", data, "--output", output], "\(output) exists; a backup never replaces a file"),
            (["--data-dir", work.file("missing"), "--output", work.file("x.sqlite")], "the data directory \(work.file("missing")) does not exist"),
            (
                ["--data-dir", data, "--output", work.file("nowhere/x.sqlite")],
                "the directory of the backup file \(work.file("nowhere/x.sqlite")) does not exist"
            ),
        ]
        for (arguments, line) in cases {
            let refused = try Self.serverTool(["server", "backup"] + arguments, executable: "keyfleet-client")
            #expect(refused.status == 1 && refused.stdout.isEmpty && refused.stderr == "keyfleet: \(line)\n", "\(arguments): \(refused.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == bytes)
        #expect(!FileManager.default.fileExists(atPath: work.file("missing")))
    }
}

/// A flag one task lowers and another reads.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var down = false
    var isDown: Bool { lock.withLock { down } }
    func lower() { lock.withLock { down = true } }
}
