import Foundation
import Testing
import TestSupport

/// Several real `keyfleet server` processes on one real PostgreSQL database: each serves the API and the
/// agents' long-polls, and what is done through one is in force through every other within a second.
@Suite("Several servers on one PostgreSQL database", .serialized)
struct MultiServerE2ETests {
    /// Two servers started at the same moment on a new database with one KEYFLEET_ADMIN_TOKEN.
    static func twoServers(_ work: TemporaryDirectory) async throws -> (RegistryServerProcess, RegistryServerProcess, String) {
        let databaseURL = try TestPostgres.shared().newDatabase()
        let adminToken = "kft_" + String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let start = { @Sendable (name: String) in
            try RegistryServerProcess(dataDirectory: work.file(name), adminToken: adminToken, databaseURL: databaseURL)
        }
        async let first = Task.detached { try start("a") }.value
        async let second = Task.detached { try start("b") }.value
        return (try await first, try await second, adminToken)
    }

    /// Seconds since `start`.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    @Test("servers started at once with one admin token both accept it; a token revoked through one is refused by the other within 1 s")
    func revocationReachesEveryServer() async throws {
        let work = try TemporaryDirectory()
        let (a, b, _) = try await Self.twoServers(work)
        defer {
            a.stop()
            b.stop()
        }
        for server in [a, b] {
            let (status, body) = try await server.api("GET", "/v1/users/me")
            let name = ((body as? [String: Any])?["user"] as? [String: Any])?["name"] as? String
            #expect(status == 200 && name == "admin", "\(server.url): \(status) \(String(describing: body))")
        }
        // One administrator, though both servers started on the empty database.
        let (_, users) = try await a.api("GET", "/v1/users")
        #expect(((users as? [String: Any])?["items"] as? [Any])?.count == 1, "\(String(describing: users))")

        let (_, created) = try await a.api("POST", "/v1/users", json: ["name": "dev"])
        let user = try #require(((created as? [String: Any])?["user"] as? [String: Any] ?? created as? [String: Any])?["id"] as? String)
        var delays: [Double] = []
        for round in 0..<5 {
            let (status, made) = try await a.api("POST", "/v1/tokens", json: ["user": user])
            #expect(status == 201, "round \(round): \(status) \(String(describing: made))")
            let answer = try #require(made as? [String: Any])
            let secret = try #require(answer["secret"] as? String)
            let id = try #require((answer["token"] as? [String: Any])?["id"] as? String)
            // Server b knows the token, and remembers the caller it found.
            for _ in 0..<3 {
                #expect(try await b.api("GET", "/v1/users/me", token: secret).status == 200)
            }
            let revoked = try await a.api("DELETE", "/v1/tokens/\(id)")
            #expect((200..<300).contains(revoked.status), "revoke answered \(revoked.status)")
            let start = ContinuousClock.now
            while try await b.api("GET", "/v1/users/me", token: secret).status != 401 {
                guard Self.seconds(since: start) < 10 else { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            delays.append(Self.seconds(since: start))
        }
        #expect(delays.allSatisfy { $0 < 1 }, "seconds until server b refused a token revoked through server a: \(delays)")
    }

    @Test("a change made through one server reaches the agents long-polling it and another server within 1 s, grant and revoke")
    func changesReachAgentsOfOtherServers() async throws {
        let work = try TemporaryDirectory()
        let (a, b, _) = try await Self.twoServers(work)
        defer {
            a.stop()
            b.stop()
        }
        let api = RegistryHTTP(url: a.url, token: a.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project, "logins": ["deploy"]])
        let token = try #require((created["enrollment"] as? [String: Any])?["token"] as? String)
        let other = try api.call("POST", "/v1/hosts", ["name": "web-2", "project": project, "logins": ["deploy"]])
        let otherToken = try #require((other["enrollment"] as? [String: Any])?["token"] as? String)
        // web-1's agent enrolls with server b and long-polls it, web-2's with server a, where every change is made.
        func startAgent(_ name: String, server: RegistryServerProcess, token: String) throws -> (BackgroundProcess, String) {
            let state = work.file("state-" + name), keys = work.file("keys-" + name)
            let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", server.url, "--token", token, "--state-dir", state])
            try #require(enrolled.status == 0, "\(enrolled.stderr)")
            let agent = try HostAgentRun.start(
                ["--state-dir", state, "--keys-dir", keys, "--mode", "files", "--wait", "20", "--host-keys-dir", work.file("no-host-keys")])
            return (agent, keys)
        }
        let (agent, keys) = try startAgent("web-1", server: b, token: token)
        defer { _ = HostAgentRun.terminate(agent) }
        let (sameServerAgent, sameServerKeys) = try startAgent("web-2", server: a, token: otherToken)
        defer { _ = HostAgentRun.terminate(sameServerAgent) }

        func installed() -> String { (try? String(contentsOfFile: keys + "/deploy", encoding: .utf8)) ?? "" }
        func installedOnWeb2() -> String { (try? String(contentsOfFile: sameServerKeys + "/deploy", encoding: .utf8)) ?? "" }
        func waitUntil(_ condition: () -> Bool) async throws -> Double {
            let start = ContinuousClock.now
            while !condition() {
                guard Self.seconds(since: start) < 10 else { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            return Self.seconds(since: start)
        }
        // The agent is in step before the clock starts.
        _ = try await waitUntil { FileManager.default.fileExists(atPath: keys + "/deploy") }
        _ = try await waitUntil { FileManager.default.fileExists(atPath: sameServerKeys + "/deploy") }

        var delays: [Double] = []
        for round in 0..<10 {
            let path = try RealKeys.make("ed25519", in: work, name: "key-\(round)")
            let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            let material = RealKeys.material(line)
            let key = try api.id(try api.call("POST", "/v1/ssh-keys", ["name": "key-\(round)", "public_key": line, "project": project])["key"])
            delays.append(try await waitUntil { installed().contains(material) })
            delays.append(try await waitUntil { installedOnWeb2().contains(material) })
            try api.call("DELETE", "/v1/ssh-keys/\(key)", nil)
            delays.append(try await waitUntil { !installed().contains(material) })
            delays.append(try await waitUntil { !installedOnWeb2().contains(material) })
        }
        delays.sort()
        let p99 = delays[Int((Double(delays.count - 1) * 0.99).rounded(.down))]
        #expect(p99 < 1, "seconds from a change through server a to the agent of server b writing it: \(delays)\n\(agent.standardError.suffix(2000))")
    }

    @Test("the database going away: 503 problems with Retry-After, the agent keeps its keys, and all works again when it is back")
    func databaseOutage() async throws {
        let work = try TemporaryDirectory()
        let postgres = try TestPostgres.startPrivate()
        defer { try? postgres.stop() }
        let server = try RegistryServerProcess(
            dataDirectory: work.file("unused"), adminToken: "kft_" + String(repeating: "q", count: 43), databaseURL: try postgres.newDatabase())
        defer { server.stop() }
        let api = RegistryHTTP(url: server.url, token: server.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project, "logins": ["deploy"]])
        let token = try #require((created["enrollment"] as? [String: Any])?["token"] as? String)
        let state = work.file("state"), keys = work.file("keys")
        let enrolled = try KeyfleetBinary.run(["host-agent", "enroll", "--server", server.url, "--token", token, "--state-dir", state])
        try #require(enrolled.status == 0, "\(enrolled.stderr)")
        let agent = try HostAgentRun.start(
            ["--state-dir", state, "--keys-dir", keys, "--mode", "files", "--wait", "2", "--host-keys-dir", work.file("no-host-keys")])
        defer { _ = HostAgentRun.terminate(agent) }
        let first = try RealKeys.make("ed25519", in: work, name: "first")
        try api.call(
            "POST", "/v1/ssh-keys", ["name": "first", "public_key": try String(contentsOfFile: first + ".pub", encoding: .utf8), "project": project])
        func installed() -> String { (try? String(contentsOfFile: keys + "/deploy", encoding: .utf8)) ?? "" }
        let deadline = ContinuousClock.now + .seconds(20)
        while !installed().contains(RealKeys.material(try String(contentsOfFile: first + ".pub", encoding: .utf8))), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let before = installed()
        #expect(!before.isEmpty)

        try postgres.stop()
        // Past the caches' few seconds, and several of the agent's 2 s long-polls.
        try await Task.sleep(for: .seconds(6))
        let (status, body) = try await server.api("GET", "/v1/ssh-keys")
        #expect(status == 503 && (body as? [String: Any])?["code"] as? String == "unavailable", "\(status) \(String(describing: body))")
        #expect(try await server.api("GET", "/health").status == 503)
        let headers = try ExternalTool.run(
            "curl", ["-s", "-D", "-", "-o", "/dev/null", "-H", "Authorization: Bearer \(server.token)", server.url + "/v1/projects"])
        #expect(headers.text.lowercased().contains("retry-after: 2"), "\(headers.text)")
        #expect(installed() == before, "the agent changed its keys while the database was away")
        #expect(agent.isRunning)

        try postgres.start()
        let back = ContinuousClock.now + .seconds(20)
        while try await server.api("GET", "/v1/ssh-keys").status != 200, ContinuousClock.now < back {
            try await Task.sleep(for: .milliseconds(100))
        }
        let second = try RealKeys.make("ed25519", in: work, name: "second")
        let line = try String(contentsOfFile: second + ".pub", encoding: .utf8)
        try api.call("POST", "/v1/ssh-keys", ["name": "second", "public_key": line, "project": project])
        while !installed().contains(RealKeys.material(line)), ContinuousClock.now < back {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(
            installed().contains(RealKeys.material(line)),
            """
            the agent did not get a key added after the database came back: \(agent.standardError.suffix(3000))
            server: \(server.standardError.suffix(3000))
            """
        )
        #expect(!server.standardError.contains("Fatal error"), "\(server.standardError.suffix(2000))")
    }
}
