import KeyfleetCore
import KeyfleetStore
import Synchronization
import Testing

@Suite("Store: host agents, credential revocation, host and cluster filters")
struct StoreHostAgentTests {
    static func hash(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    @Test func revokingCredentialsWithANewToken() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "p", by: f.principal)
        let host = try await f.store.createHost(by: f.principal) { id in try Host(id: id, project: project.id, name: "h") }
        try await f.store.createEnrollmentToken(host: host.id, tokenHash: Self.hash(1), expiresAt: f.determinism.now + 60, by: f.principal)
        #expect(try await f.store.enroll(tokenHash: Self.hash(1), credentialHash: Self.hash(2)) == host.id)
        #expect(try await f.store.agentStatus(of: [host.id])[host.id]?.enrolled == true)
        let version = try await f.store.version()
        try await f.store.createEnrollmentToken(
            host: host.id, tokenHash: Self.hash(3), expiresAt: f.determinism.now + 60, revokingCredentials: true, by: f.principal)
        #expect(try await f.store.host(credentialHash: Self.hash(2)) == nil)
        #expect(try await f.store.agentStatus(of: [host.id])[host.id] == nil)
        #expect(try await f.store.version() == version, "credentials do not change access")
        #expect(try await f.store.enroll(tokenHash: Self.hash(3), credentialHash: Self.hash(4)) == host.id)
        #expect(try await f.store.host(credentialHash: Self.hash(4)) == host.id)
        let audit = try await f.store.audit(AuditFilter(), page: .largest).items.map(\.action)
        #expect(audit.contains("host.credential.revoke"))
    }

    @Test func agentReportsSurviveARestartAndLeaveWithTheHost() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "p", by: f.principal)
        let host = try await f.store.createHost(by: f.principal) { id in try Host(id: id, project: project.id, name: "h") }
        let report = AgentReport(
            agentVersion: "1.2.3", appliedVersion: 9, hostKeys: ["ssh-ed25519 AAAA1", "ssh-ed25519 AAAA2"], error: "x", delivery: "command")
        try await f.store.recordAgentReport(report, host: host.id)
        let reopened = try await f.reopen()
        let status = try #require(try await reopened.agentStatus(of: [host.id])[host.id])
        #expect(status.report == report)
        #expect(status.enrolled == false)
        #expect(status.reportedAt == f.determinism.now)
        try await reopened.deleteHost(host.id, by: f.principal)
        #expect(try await reopened.agentStatus(of: [host.id]).isEmpty)
        await #expect(throws: StoreError(.notFound, "")) { try await reopened.recordAgentReport(report, host: host.id) }
        try await reopened.close()
    }

    /// Many hosts report at once, each a chain of reports one after another: they are committed in groups
    /// (fewer write transactions than reports), every caller gets its own answer (a deleted host's is not
    /// found), each host keeps its last report, and each change in what it found outside its block is one
    /// audit entry, in the order it was reported.
    @Test func reportsArrivingTogetherAreCommittedTogether() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "p", by: f.principal)
        var hosts = [HostID]()
        for index in 0..<24 {
            hosts.append(try await f.store.createHost(by: f.principal) { id in try Host(id: id, project: project.id, name: "h\(index)") }.id)
        }
        let deleted = Set(hosts.shuffled().prefix(3))
        for host in deleted { try await f.store.deleteHost(host, by: f.principal) }
        let stray: [RevokedKeyLine?] = [
            nil, RevokedKeyLine(login: "root", fingerprint: "SHA256:" + String(repeating: "A", count: 43), line: 3),
            RevokedKeyLine(login: "deploy", fingerprint: "SHA256:" + String(repeating: "B", count: 43), line: 7),
        ]
        // Each host's chain: random applied versions and stray findings.
        let chains = Dictionary(
            uniqueKeysWithValues: hosts.map { host in
                (host, (0..<Int.random(in: 4...12)).map { _ in (UInt64.random(in: 0...1_000_000), stray.randomElement()!) })
            })
        let writes = Mutex(0)
        f.store.transactions.observe { if $0.kind == .write { writes.withLock { $0 += 1 } } }
        let before = try await f.store.audit(AuditFilter(), page: .largest).items.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (host, chain) in chains {
                group.addTask {
                    for (applied, found) in chain {
                        let report = AgentReport(
                            agentVersion: "1.0", appliedVersion: applied, hostKeys: ["ssh-ed25519 AAAA\(applied)"],
                            revokedKeysOutsideBlock: found.map { [$0] } ?? [])
                        if deleted.contains(host) {
                            await #expect(throws: StoreError(.notFound, "")) { try await f.store.recordAgentReport(report, host: host) }
                        } else {
                            try await f.store.recordAgentReport(report, host: host)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        f.store.transactions.observe(nil)
        let reports = chains.values.map(\.count).reduce(0, +)
        #expect(writes.withLock { $0 } <= reports * 3 / 4, "\(writes.withLock { $0 }) write transactions for \(reports) reports")
        let status = try await f.store.agentStatus(of: hosts)
        var audited = 0
        for (host, chain) in chains {
            if deleted.contains(host) {
                #expect(status[host] == nil)
                continue
            }
            let last = try #require(chain.last)
            #expect(status[host]?.report?.appliedVersion == last.0)
            #expect(status[host]?.report?.revokedKeysOutsideBlock == last.1.map { [$0] } ?? [])
            audited += zip([nil] + chain.map(\.1), chain.map(\.1)).filter { $0 != $1 }.count
        }
        let entries = try await f.store.audit(AuditFilter(), page: .largest).items
        #expect(entries.count - before == audited)
        try await f.store.close()
    }

    @Test func hostAndClusterFilters() async throws {
        let f = try await Fixture()
        let a = try await f.store.createProject(name: "a", by: f.principal)
        let b = try await f.store.createProject(name: "b", by: f.principal)
        for (project, name) in [(a, "x"), (a, "y"), (b, "x")] {
            _ = try await f.store.createHost(by: f.principal) { id in try Host(id: id, project: project.id, name: name) }
            _ = try await f.store.createCluster(by: f.principal) { id in try Cluster(id: id, project: project.id, name: name) }
        }
        #expect(try await f.store.hosts(HostFilter(name: "x"), page: .first).items.count == 2)
        #expect(try await f.store.hosts(HostFilter(projects: [a.id]), page: .first).items.count == 2)
        #expect(try await f.store.hosts(HostFilter(projects: []), page: .first).items.isEmpty)
        #expect(try await f.store.hosts(HostFilter(name: "x", projects: [b.id]), page: .first).items.map(\.project) == [b.id])
        #expect(try await f.store.clusters(ClusterFilter(name: "y"), page: .first).items.count == 1)
        #expect(try await f.store.clusters(ClusterFilter(projects: [b.id]), page: .first).items.count == 1)
        #expect(try await f.store.clusters(ClusterFilter(projects: []), page: .first).items.isEmpty)
    }
}
