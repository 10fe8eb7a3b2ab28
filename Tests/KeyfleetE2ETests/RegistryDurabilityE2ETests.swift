import Foundation
import Testing
import TestSupport

/// Collects what concurrent writers acknowledged.
private actor Acknowledged {
    var ids: [String: String] = [:]  // id -> name
    var failures: [String] = []
    func add(id: String, name: String) { ids[id] = name }
    func fail(_ text: String) { failures.append(text) }
}

/// `count` distinct ed25519 public key lines made by ssh-keygen.
private func realKeyLines(_ count: Int, in directory: TemporaryDirectory) throws -> [String] {
    try (0..<count).map { index in
        let path = try RealKeys.make("ed25519", in: directory, name: "k\(index)", comment: "k\(index)")
        return try String(contentsOfFile: path + ".pub", encoding: .utf8)
    }
}

@Suite("Registry durability: restart, concurrent creates, kill -9", .serialized)
struct RegistryDurabilityE2ETests {
    @Test("SIGTERM and start again on the same data directory: nothing lost")
    func restart() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.file("data")
        var server = try RegistryServerProcess(dataDirectory: data)
        let key = try RealKeys.make("ed25519", in: directory, name: "k")
        #expect(try server.client(["project", "create", "p"]).status == 0)
        #expect(
            try server.client(["ssh-key", "create", "--name", "k", "--project", "p", "--label", "env=prod", "--public-key-from-file", key + ".pub"])
                .status == 0)
        #expect(try server.client(["host", "create", "h", "--project", "p", "--ssh-key", "k", "--user-data-file", directory.file("ud")]).status == 0)
        let keysBefore = try server.client(["ssh-key", "list", "-o", "json"]).text
        let projectsBefore = try server.client(["project", "list", "-o", "json"]).text
        let hostsBefore = try server.client(["host", "list", "-o", "json"]).text
        let accessBefore = try await server.api("GET", "/v1/audit?limit=1000")
        let token = server.token
        #expect(server.stop() == 0, "graceful stop: \(server.standardError)")

        server = try RegistryServerProcess(dataDirectory: data, token: token)
        defer { server.stop() }
        #expect(try server.client(["ssh-key", "list", "-o", "json"]).text == keysBefore)
        #expect(try server.client(["project", "list", "-o", "json"]).text == projectsBefore)
        #expect(try server.client(["host", "list", "-o", "json"]).text == hostsBefore)
        let auditAfter = try await server.api("GET", "/v1/audit?limit=1000")
        #expect(auditAfter.status == accessBefore.status)
        if accessBefore.status == 200 {
            let before = (accessBefore.body as? [String: Any])?["items"] as? [Any]
            let after = (auditAfter.body as? [String: Any])?["items"] as? [Any]
            #expect(before?.count == after?.count)
        }
        #expect(keysBefore.contains(RealKeys.material(try directory.read("k.pub")).split(separator: " ")[1]))
    }

    @Test("100 concurrent creates: 100 keys, none lost, no duplicates")
    func concurrentCreates() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let lines = try realKeyLines(100, in: directory)
        let acknowledged = Acknowledged()
        await withTaskGroup(of: Void.self) { group in
            for (index, line) in lines.enumerated() {
                group.addTask {
                    do {
                        let (status, body) = try await server.api("POST", "/v1/ssh-keys", json: ["name": "key-\(index)", "public_key": line])
                        let id = ((body as? [String: Any])?["key"] as? [String: Any])?["id"] as? String
                        if status == 201, let id {
                            await acknowledged.add(id: id, name: "key-\(index)")
                        } else {
                            await acknowledged.fail("\(index): \(status) \(String(describing: body))")
                        }
                    } catch {
                        await acknowledged.fail("\(index): \(error)")
                    }
                }
            }
        }
        let failures = await acknowledged.failures
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(await acknowledged.ids.count == 100)
        let stored = try await server.storedKeys()
        #expect(stored.count == 100)
        #expect(Set(stored.compactMap { $0["id"] as? String }).count == 100)
        #expect(Set(stored.compactMap { $0["fingerprint_sha256"] as? String }).count == 100)
        #expect(Set(stored.compactMap { $0["name"] as? String }) == Set((0..<100).map { "key-\($0)" }))
        // The client follows every page to the end: 150 keys are more than one page of the default 100.
        let more = try realKeyLines(50, in: try TemporaryDirectory())
        for (index, line) in more.enumerated() {
            let (status, _) = try await server.api("POST", "/v1/ssh-keys", json: ["name": "more-\(index)", "public_key": line])
            #expect(status == 201)
        }
        let listed = try server.clientJSON(["ssh-key", "list", "-o", "json"]) as? [[String: Any]]
        #expect(listed?.count == 150)
        #expect(Set(listed?.compactMap { $0["id"] as? String } ?? []) == Set(try await server.storedKeys().compactMap { $0["id"] as? String }))
        #expect(try server.client(["ssh-key", "list"]).text.split(separator: "\n").count == 151)

        // The same 100 again at once: every one a conflict, nothing new.
        let again = Acknowledged()
        await withTaskGroup(of: Void.self) { group in
            for (index, line) in lines.enumerated() {
                group.addTask {
                    let answer = try? await server.api("POST", "/v1/ssh-keys", json: ["name": "again-\(index)", "public_key": line])
                    if answer?.status != 409 { await again.fail("\(index): \(String(describing: answer?.status))") }
                }
            }
        }
        let againFailures = await again.failures
        #expect(againFailures.isEmpty, "\(againFailures.prefix(5))")
        #expect(try await server.storedKeys().count == 150)
    }

    @Test("kill -9 during a stream of writes: every acknowledged create is there after restart", arguments: ["sqlite", "postgresql"])
    func killDuringWrites(engine: String) async throws {
        let directory = try TemporaryDirectory()
        let data = directory.file("data")
        let databaseURL = engine == "postgresql" ? try TestPostgres.shared().newDatabase() : nil
        let adminToken = databaseURL == nil ? nil : "kft_" + String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let server = try RegistryServerProcess(dataDirectory: data, adminToken: adminToken, databaseURL: databaseURL)
        let lines = try realKeyLines(400, in: directory)
        let acknowledged = Acknowledged()
        // Four writers, each acknowledging as answers come; the server is killed while they write.
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in stride(from: writer, to: lines.count, by: 4) {
                            guard
                                let (status, body) = try? await server.api(
                                    "POST", "/v1/ssh-keys", json: ["name": "w-\(index)", "public_key": lines[index]])
                            else { return }
                            let id = ((body as? [String: Any])?["key"] as? [String: Any])?["id"] as? String
                            guard status == 201, let id else { return }
                            await acknowledged.add(id: id, name: "w-\(index)")
                        }
                    }
                }
            }
        }
        for _ in 0..<400 where await acknowledged.ids.count < 40 { try await Task.sleep(for: .milliseconds(25)) }
        server.killHard()
        await writers.value
        let acked = await acknowledged.ids
        #expect(acked.count >= 40, "the writers were acknowledged \(acked.count) times before the kill")

        let restarted = try RegistryServerProcess(dataDirectory: data, token: server.token, adminToken: adminToken, databaseURL: databaseURL)
        defer { restarted.stop() }
        let stored = try await restarted.storedKeys()
        let storedIDs = Set(stored.compactMap { $0["id"] as? String })
        let missing = acked.keys.filter { !storedIDs.contains($0) }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.prefix(5))")
        #expect(Set(stored.compactMap { $0["fingerprint_sha256"] as? String }).count == stored.count)
        // Each stored key is readable whole.
        for id in acked.keys.prefix(20) {
            let (status, body) = try await restarted.api("GET", "/v1/ssh-keys/\(id)")
            #expect(status == 200)
            #expect((body as? [String: Any])?["name"] as? String == acked[id])
        }
        // And the database takes writes again.
        let after = try await restarted.api("POST", "/v1/ssh-keys", json: ["name": "after", "public_key": lines[lines.count - 1]])
        #expect(after.status == 201 || after.status == 409)
    }
}
