import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Synchronization
import Testing

@Suite("Agent sync (long-poll)")
struct SyncTests {
    /// An enrolled host; returns its identifier and credential.
    static func enrolled(_ client: some TestClientProtocol, _ world: HostWorld, _ body: [String: Any] = [:]) async throws -> (
        id: String, credential: String
    ) {
        let (id, token) = try await AgentTests.host(client, world, body)
        return (id, try #require(try await client.enroll(token).object["credential"] as? String))
    }

    static func sync(_ client: some TestClientProtocol, _ credential: String, version: Int, wait: Int) async throws -> JSONAnswer {
        try await client.call(.get, "/v1/agent/sync?version=\(version)&wait=\(wait)", token: credential)
    }

    /// Starts a long-poll at `version`, runs `change` shortly after, and returns the answer and how long it took.
    static func wake(
        _ client: some TestClientProtocol & Sendable, _ credential: String, version: Int, wait: Int = 5, change: @Sendable () async throws -> Void
    ) async throws -> (JSONAnswer, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        async let answer = sync(client, credential, version: version, wait: wait)
        try await Task.sleep(for: .milliseconds(300))
        try await change()
        let result = try await answer
        return (result, clock.now - start)
    }

    @Test("200 with every login at version 0, then 304 after the wait; rescue keys are not sent while the host is not flagged")
    func answerThenNotModified() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, credential) = try await Self.enrolled(
                client, world,
                [
                    "logins": ["root", "deploy"], "access": ["deploy": ["mode": "explicit", "keys": []]],
                    "rescue_keys": ["deploy": [world.projectKey.id.rawValue]],
                ])
            let first = try await Self.sync(client, credential, version: 0, wait: 0)
            #expect(first.status == 200)
            #expect(first.headers[.cacheControl] == "no-store")
            #expect(first.object["host"] as? String == id)
            let logins = first.dictionary("logins")
            #expect(Set(logins.keys) == ["root", "deploy"])
            #expect((logins["deploy"] as? [String]) == [])
            #expect((logins["root"] as? [String])?.count == 2)
            let version = try #require(first.object["version"] as? Int)
            #expect(version >= 1)
            let access = try await client.call(.get, "/v1/hosts/\(id)/access", token: world.owner.token)
            #expect(access.object["version"] as? Int == version, "getHostAccess reports the sync's version")
            let start = ContinuousClock.now
            let second = try await Self.sync(client, credential, version: version, wait: 1)
            #expect(second.status == 304)
            #expect(ContinuousClock.now - start >= .milliseconds(900))
            #expect(try await Self.sync(client, credential, version: version + 1, wait: 0).status == 200)
        }
    }

    /// Before, every change woke every waiting sync, and each asked the store for its version: with a
    /// thousand agents, ten changes a second were ten thousand wake-ups and queries. Now one follower brings
    /// the registry forward and wakes the hosts the change reached.
    @Test("a change wakes only the syncs of the hosts it reached, for a few store reads however many syncs wait")
    func changeWakesOnlyItsHosts() async throws {
        try await TestRegistry.with { registry, client in
            let perProject = 40
            var hosts = [(credential: String, version: Int, reached: Bool)]()
            let reached = try await HostWorld.make(registry, project: "reached")
            let other = try await HostWorld.make(registry, project: "other")
            for world in [reached, other] {
                for _ in 0..<perProject {
                    let (_, credential) = try await Self.enrolled(client, world)
                    let version = try #require(try await Self.sync(client, credential, version: 0, wait: 0).object["version"] as? Int)
                    hosts.append((credential, version, world.project.id == reached.project.id))
                }
            }
            let reads = Mutex(0)
            try await withThrowingTaskGroup(of: (reached: Bool, status: Int).self) { group in
                for host in hosts {
                    group.addTask { (host.reached, try await Self.sync(client, host.credential, version: host.version, wait: 30).status) }
                }
                while registry.api.access.waitingSyncs < hosts.count { try await Task.sleep(for: .milliseconds(10)) }
                registry.store.transactions.observe { if $0.kind == .read { reads.withLock { $0 += 1 } } }
                _ = try await registry.key("new", owner: .project(reached.project.id), by: reached.owner.id)
                registry.api.changes.changed()
                for _ in 0..<perProject {
                    let answer = try #require(try await group.next())
                    #expect(answer.reached && answer.status == 200)
                }
                let readsForTheChange = reads.withLock { $0 }
                #expect(readsForTheChange <= 10, "\(readsForTheChange) store reads for one change with \(hosts.count) syncs waiting")
                #expect(registry.api.access.waitingSyncs == perProject, "the other project's syncs still wait")
                _ = try await registry.key("new", owner: .project(other.project.id), by: other.owner.id)
                registry.api.changes.changed()
                while let answer = try await group.next() { #expect(!answer.reached && answer.status == 200) }
            }
            registry.store.transactions.observe(nil)
        }
    }

    @Test("wakes within well under a second when a key is deleted, a member removed, a cluster key removed")
    func wakesOnChange() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (_, credential) = try await Self.enrolled(client, world)
            var version = try #require(try await Self.sync(client, credential, version: 0, wait: 0).object["version"] as? Int)

            // A key deleted.
            var (answer, took) = try await Self.wake(client, credential, version: version) {
                try await registry.store.deleteKey(world.projectKey.id, by: .system)
                registry.api.changes.changed()
            }
            #expect(answer.status == 200)
            #expect(took < .milliseconds(1300), "\(took)")
            #expect((answer.dictionary("logins")["root"] as? [String])?.count == 1)
            version = try #require(answer.object["version"] as? Int)

            // A member removed: their personal key leaves.
            (answer, took) = try await Self.wake(client, credential, version: version) {
                _ = try await registry.store.removeMember(world.member.id, from: world.project.id, by: .system)
                registry.api.changes.changed()
            }
            #expect(answer.status == 200)
            #expect(took < .milliseconds(1300), "\(took)")
            #expect((answer.dictionary("logins")["root"] as? [String]) == [])
        }
    }

    @Test("a cluster key removed through the API wakes the cluster's host; an unrelated host's change does not")
    func clusterAndUnrelated() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let cluster = try await client.call(
                .post, "/v1/clusters", token: world.owner.token,
                json: ["name": "k8s", "project": world.project.id.rawValue, "keys": [world.projectKey.id.rawValue]])
            let clusterID = try #require(cluster.object["id"] as? String)
            let (_, credential) = try await Self.enrolled(client, world, ["cluster": clusterID])
            let (otherID, _) = try await Self.enrolled(client, world)
            let first = try await Self.sync(client, credential, version: 0, wait: 0)
            #expect((first.dictionary("logins")["root"] as? [String])?.count == 1, "the cluster's key only")
            let version = try #require(first.object["version"] as? Int)

            // Another host's own list changes: this host's set does not, so the poll runs to its timeout.
            var (answer, took) = try await Self.wake(client, credential, version: version, wait: 2) {
                let changed = try await client.call(
                    .post, "/v1/hosts/\(otherID)/keys", token: world.owner.token, json: ["ssh_key": world.memberKey.id.rawValue])
                #expect(changed.status == 200)
            }
            #expect(answer.status == 304)
            #expect(took >= .milliseconds(1900))

            (answer, took) = try await Self.wake(client, credential, version: version) {
                let removed = try await client.call(
                    .delete, "/v1/clusters/\(clusterID)/keys/\(world.projectKey.id.rawValue)", token: world.owner.token)
                #expect(removed.status == 200)
            }
            #expect(answer.status == 200)
            #expect(took < .milliseconds(1300), "\(took)")
            #expect((answer.dictionary("logins")["root"] as? [String]) == [])
        }
    }

    @Test("expiring lines carry expiry-time and next_expiry_at; the waiting sync wakes when the first expires")
    func expiry() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let now = registry.clock.now
            let expiring = try await registry.key("temp", owner: .project(world.project.id), expiresAt: now + 2, by: world.owner.id)
            let (_, credential) = try await Self.enrolled(client, world, ["ssh_keys": [expiring.id.rawValue, world.projectKey.id.rawValue]])
            let first = try await Self.sync(client, credential, version: 0, wait: 0)
            let lines = try #require(first.dictionary("logins")["root"] as? [String])
            #expect(lines.count == 2)
            #expect(lines.filter { $0.hasPrefix("expiry-time=\"") }.count == 1)
            let next = try #require(first.object["next_expiry_at"] as? String)
            #expect(next == ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(now + 2))))
            let version = try #require(first.object["version"] as? Int)
            let clock = registry.clock
            let (answer, took) = try await Self.wake(client, credential, version: version, wait: 20) { clock.now = now + 3 }
            #expect(answer.status == 200)
            // Woken by the expiry (about 2 s in), not by the end of the 20 s wait; loose, for a loaded machine.
            #expect(took < .seconds(12), "\(took)")
            #expect((answer.dictionary("logins")["root"] as? [String])?.count == 1)
            #expect(answer.object["version"] as? Int != version)
            #expect(answer.object["next_expiry_at"] == nil || answer.object["next_expiry_at"] is NSNull)
        }
    }

    @Test("deleting the host ends its sync with 410 host-deleted")
    func deletedHost() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (id, credential) = try await Self.enrolled(client, world)
            #expect(try await client.call(.delete, "/v1/hosts/\(id)", token: world.owner.token).status == 204)
            let gone = try await Self.sync(client, credential, version: 0, wait: 0)
            #expect(gone.status == 410)
            #expect(gone.code == "host-deleted")
        }
    }
}

@Suite("Change signal")
struct ChangeSignalTests {
    @Test("one signal wakes many waiters at once; a timeout and a cancellation end a wait; nothing leaks")
    func signal() async throws {
        let signal = ChangeSignal()
        let generation = signal.generation
        let clock = ContinuousClock()
        // The waiters' timeout is long: if they all return well before it, the signal woke them. (No tighter
        // wall-clock bound: the suite shares two cores with tests that block threads on real programs.)
        let timeout = Duration.seconds(120)
        var woken = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<500 { group.addTask { await signal.wait(after: generation, timeout: timeout) } }
            while signal.waiters < 500 { try await Task.sleep(for: .milliseconds(10)) }
            woken = clock.now
            signal.changed()
            try await group.waitForAll()
        }
        #expect(clock.now - woken < timeout / 2)
        #expect(signal.waiters == 0)
        let timed = clock.now
        await signal.wait(after: signal.generation, timeout: .milliseconds(200))
        #expect(clock.now - timed >= .milliseconds(190))
        let task = Task { await signal.wait(after: signal.generation, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await task.value
        #expect(signal.waiters == 0)
        await signal.wait(after: generation, timeout: .seconds(30))  // already changed: returns at once
    }
}
