import AsyncHTTPClient
import AuthorizedKeysCache
import Foundation
import KeyfleetAgent
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Logging
import NIOCore
import ServiceLifecycle
import SSHKeys

/// The host agent's fan-out benchmark (scripts/bench-agent.sh).
///
/// `fleet-seed` makes a registry with N hosts, each with a one-time enrollment token, written to a file
/// with the host's project. With one project the two keys are the project's; with several, hosts are spread
/// over them in turn and the keys are an operator's who is a member of each. `fleet-run` enrolls N real
/// agents (``HostAgent``, in this one process, each with its own state and keys directory) against the
/// running servers in turn, waits until every host has the key, samples the servers' CPU time and memory
/// while the N agents sit in their long-polls, optionally creates keys at a steady rate for a while (churn:
/// the time from each creation until each host of its project applied it), then deletes the key through
/// the first server and reports, per host, the time from the API call until that host's agent had written a
/// set without it: p50, p99 and the last.
enum FleetBench {
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func options(_ arguments: [String]) throws -> [String: String] {
        var options: [String: String] = [:]
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            guard option.hasPrefix("--"), let value = remaining.popFirst() else { throw UsageError(description: "bad option \(option)") }
            options[String(option.dropFirst(2))] = value
        }
        return options
    }

    static func seed(arguments: [String]) async throws {
        let options = try options(arguments)
        guard let token = options["token"], let output = options["tokens-file"], let hosts = Int(options["hosts"] ?? "1000"), hosts > 0,
            let projectCount = Int(options["projects"] ?? "1"), projectCount > 0,
            (options["data-dir"] == nil) != (options["database-url"] == nil)
        else {
            throw UsageError(
                description: "usage: fleet-seed (--data-dir DIR | --database-url URL) --token TOKEN --tokens-file FILE [--hosts N] [--projects N]")
        }
        let store: SQLStore
        if let url = options["database-url"] {
            store = try await SQLStore.open(databaseURL: url, clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        } else {
            store = try await SQLStore.open(
                dataDirectory: options["data-dir"] ?? "", clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        }
        _ = try await AdminBootstrap.ensureAdministrator(store: store, token: token)
        guard let admin = try await store.users(page: .first).items.first(where: { $0.role == .admin }) else {
            throw UsageError(description: "the registry has no administrator")
        }
        let principal = Principal(user: admin.id)
        // One project: its own keys reach every host. Several: the keys are an operator's, a member of each.
        var projects = [Project]()
        for index in 0..<projectCount { projects.append(try await store.createProject(name: "fleet-\(index)", by: principal)) }
        let owner: KeyOwner
        if projectCount == 1 {
            owner = .project(projects[0].id)
        } else {
            let operatorUser = try await store.createUser(name: "operator", role: .user, by: principal)
            for project in projects { _ = try await store.setMember(operatorUser.id, role: .member, in: project.id, by: principal) }
            owner = .user(operatorUser.id)
        }
        let key = try await store.createKey(
            NewKey(name: "revoke-me", owner: owner, publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench"), by: principal)
        _ = try await store.createKey(
            NewKey(name: "stays", owner: owner, publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench"), by: principal)
        var lines = ""
        for index in 0..<hosts {
            let project = projects[index % projectCount].id
            let host = try await store.createHost(by: principal) { id in try Host(id: id, project: project, name: "host-\(index)") }
            let secret = Secrets.make(.enrollmentToken)
            try await store.createEnrollmentToken(
                host: host.id, tokenHash: Secrets.hash(secret), expiresAt: RegistryServer.now() + 86_400, by: principal)
            lines += "\(secret) \(project.rawValue)\n"
        }
        try await store.close()
        try lines.write(toFile: output, atomically: true, encoding: .utf8)
        print("key=\(key.id.rawValue) fingerprint=\(key.sha256Fingerprint)")
    }

    /// When each host last applied a set, and whether it had the key; during churn, when each host first
    /// applied a set with each new key.
    final class Observations: @unchecked Sendable {
        private let lock = NSLock()
        private var hasKey: [Int: Bool] = [:]
        private var lostKeyAt: [Int: UInt64] = [:]
        /// Keys created and not yet applied everywhere: when the creation was sent, and the hosts still to apply it.
        private var pending: [String: (sentAt: UInt64, waiting: Set<Int>)] = [:]
        private var delivered: [Double] = []
        private var changeDelays: [Double] = []

        func record(host: Int, access: AccessSet, fingerprint: String) {
            let now = DispatchTime.now().uptimeNanoseconds
            let fingerprints = FleetBench.fingerprints(access)
            let value = fingerprints.contains(fingerprint)
            lock.withLock {
                if hasKey[host] == true && !value { lostKeyAt[host] = now }
                hasKey[host] = value
                for (key, change) in pending where change.waiting.contains(host) && fingerprints.contains(key) {
                    delivered.append(Double(now - change.sentAt) / 1e9)
                    var waiting = change.waiting
                    waiting.remove(host)
                    if waiting.isEmpty {
                        changeDelays.append(Double(now - change.sentAt) / 1e9)
                        pending[key] = nil
                    } else {
                        pending[key] = (change.sentAt, waiting)
                    }
                }
            }
        }

        /// Called before the creation is sent, so that no host can apply the key before it is awaited.
        func expect(_ fingerprint: String, hosts: Set<Int>) {
            let now = DispatchTime.now().uptimeNanoseconds
            lock.withLock { pending[fingerprint] = (now, hosts) }
        }

        var hostsWithKey: Int { lock.withLock { hasKey.values.filter { $0 }.count } }
        var lostKey: [UInt64] { lock.withLock { Array(lostKeyAt.values) } }
        var pendingCount: Int { lock.withLock { pending.count } }
        /// Seconds from each creation to each host applying it, and to the last host of its project applying it.
        var churn: (delivered: [Double], changes: [Double]) { lock.withLock { (delivered, changeDelays) } }
    }

    static func run(arguments: [String]) async throws {
        let options = try options(arguments)
        guard let serverList = options["server"], let token = options["token"], let tokensFile = options["tokens-file"],
            let keyID = options["key"], let fingerprint = options["fingerprint"], let work = options["work"],
            let serverPIDs = options["server-pid"].map({ $0.split(separator: ",").compactMap { Int32($0) } }), !serverPIDs.isEmpty,
            let churnSeconds = Int(options["churn-seconds"] ?? "0"), let churnRate = Int(options["churn-rate"] ?? "10"), churnRate > 0
        else {
            throw UsageError(
                description: """
                    usage: fleet-run --server URL[,URL...] --token T --tokens-file F --key ID --fingerprint FP --work DIR \
                    --server-pid PID[,PID...] [--churn-seconds S] [--churn-rate PER-SECOND]
                    """)
        }
        let servers = serverList.split(separator: ",").map(String.init)
        let hosts = try String(contentsOfFile: tokensFile, encoding: .utf8).split(separator: "\n").map { line in
            let fields = line.split(separator: " ").map(String.init)
            return (token: fields[0], project: fields.count > 1 ? fields[1] : "")
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error

        let start = DispatchTime.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            func enroll(_ index: Int) {
                group.addTask {
                    _ = try await HostAgent.enroll(
                        serverURL: servers[index % servers.count], token: hosts[index].token, caCertHash: nil,
                        stateDirectory: "\(work)/\(index)/state", hostname: nil)
                }
            }
            var next = min(16, hosts.count)
            for index in 0..<next { enroll(index) }
            while try await group.next() != nil {
                guard next < hosts.count else { continue }
                enroll(next)
                next += 1
            }
        }
        print("enrolled \(hosts.count) hosts on \(servers.count) server(s) in \(seconds(since: start)) s")

        let observations = Observations()
        let agents: [any Service] = hosts.indices.map { index in
            HostAgent(
                configuration: HostAgentConfiguration(
                    stateDirectory: "\(work)/\(index)/state", mode: .command, keysDirectory: "\(work)/\(index)/cache",
                    hostKeysDirectory: "\(work)/none", wait: 60),
                logger: logger,
                applied: { access in observations.record(host: index, access: access, fingerprint: fingerprint) })
        }
        let group = ServiceGroup(services: agents, gracefulShutdownSignals: [], logger: logger)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            let syncStart = DispatchTime.now()
            while observations.hostsWithKey < hosts.count {
                try await Task.sleep(for: .milliseconds(50))
                if seconds(since: syncStart) > 300 { throw UsageError(description: "only \(observations.hostsWithKey) hosts synced in 300 s") }
            }
            print("all \(hosts.count) agents have the key after \(seconds(since: syncStart)) s")

            // Idle: every agent waits in its long-poll (after the reports, sent within 3 s of applying).
            try await Task.sleep(for: .seconds(5))
            let cpuBefore = try processCPUSeconds(serverPIDs)
            let idleStart = DispatchTime.now()
            try await Task.sleep(for: .seconds(10))
            let cpu = try processCPUSeconds(serverPIDs) - cpuBefore
            let idle = seconds(since: idleStart)
            let rss = try serverPIDs.map(residentMiB).reduce(0, +)
            print(String(format: "servers with %d idle agents: %.2f%% of one core, %.0f MiB resident", hosts.count, cpu / idle * 100, rss))

            if churnSeconds > 0 {
                try await churn(
                    client: client, servers: servers, token: token, hosts: hosts.map(\.project), seconds: churnSeconds, rate: churnRate,
                    observations: observations, serverPIDs: serverPIDs)
            }

            // Revoke.
            var request = HTTPClientRequest(url: "\(servers[0])/v1/ssh-keys/\(keyID)")
            request.method = .DELETE
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let serverCPUBefore = try processCPUSeconds(serverPIDs)
            let ownCPUBefore = try processCPUSeconds([getpid()])
            let revokeStart = DispatchTime.now().uptimeNanoseconds
            let response = try await client.execute(request, timeout: .seconds(30))
            guard response.status == .noContent else { throw UsageError(description: "DELETE answered \(response.status)") }
            while observations.hostsWithKey > 0 {
                try await Task.sleep(for: .milliseconds(5))
                if Double(DispatchTime.now().uptimeNanoseconds - revokeStart) / 1e9 > 60 {
                    throw UsageError(description: "\(observations.hostsWithKey) hosts still have the key after 60 s")
                }
            }
            let serverCPU = try processCPUSeconds(serverPIDs) - serverCPUBefore
            let agentsCPU = try processCPUSeconds([getpid()]) - ownCPUBefore
            let delays = observations.lostKey.map { Double($0 - min($0, revokeStart)) / 1e6 }.sorted()
            print(
                String(
                    format: "revocation reached %d hosts: p50 %.0f ms, p99 %.0f ms, last %.0f ms", delays.count, percentile(delays, 0.5),
                    percentile(delays, 0.99), delays.last ?? 0))
            print(String(format: "CPU spent meanwhile: servers %.0f ms, the agents' process %.0f ms", serverCPU * 1000, agentsCPU * 1000))
            // A thousand agents' graceful shutdowns are not what is measured: stop here.
            fflush(nil)
            exit(0)
        }
    }

    /// `rate` key creations a second for `seconds`, each in the project of the next host in turn, sent through
    /// the servers in turn: the time from sending each until each host of its project applied it, and the
    /// servers' CPU meanwhile.
    private static func churn(
        client: HTTPClient, servers: [String], token: String, hosts projects: [String], seconds duration: Int, rate: Int,
        observations: Observations, serverPIDs: [Int32]
    ) async throws {
        let hostsOf = Dictionary(grouping: projects.indices, by: { projects[$0] }).mapValues(Set.init)
        let order = Array(hostsOf.keys).sorted()
        let total = duration * rate
        let cpuBefore = try processCPUSeconds(serverPIDs)
        let start = DispatchTime.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<total {
                let due = start.uptimeNanoseconds + UInt64(index) * 1_000_000_000 / UInt64(rate)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { try await Task.sleep(for: .nanoseconds(Int(due - now))) }
                let project = order[index % order.count]
                let key = try PrivateKey.generate(.ed25519).publicKey
                let body = #"{"name":"churn-\#(index)","public_key":"\#(key.openSSHLine)","project":"\#(project)"}"#
                observations.expect(key.fingerprint(.sha256), hosts: hostsOf[project] ?? [])
                group.addTask {
                    var request = HTTPClientRequest(url: "\(servers[index % servers.count])/v1/ssh-keys")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer \(token)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body))
                    let response = try await client.execute(request, timeout: .seconds(30))
                    guard response.status == .created else { throw UsageError(description: "creating key \(index) answered \(response.status)") }
                }
            }
            try await group.waitForAll()
        }
        let sent = Self.seconds(since: start)
        let cpu = try processCPUSeconds(serverPIDs) - cpuBefore
        let waitStart = DispatchTime.now()
        while observations.pendingCount > 0 {
            try await Task.sleep(for: .milliseconds(20))
            if Self.seconds(since: waitStart) > 60 { throw UsageError(description: "\(observations.pendingCount) creations not applied after 60 s") }
        }
        let (delivered, changes) = observations.churn
        let sortedDelivered = delivered.sorted(), sortedChanges = changes.sorted()
        print(
            String(
                format: "churn: %d creations in %.1f s through %d server(s), %d deliveries to hosts; servers' CPU %.2f of one core", total, sent,
                servers.count, delivered.count, cpu / sent))
        print(
            String(
                format: "churn: creation to a host applying it: p50 %.0f ms, p99 %.0f ms, last %.0f ms; to the last host of its project: p99 %.0f ms",
                percentile(sortedDelivered, 0.5) * 1000, percentile(sortedDelivered, 0.99) * 1000, (sortedDelivered.last ?? 0) * 1000,
                percentile(sortedChanges, 0.99) * 1000))
    }

    private static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }

    static func fingerprints(_ access: AccessSet) -> Set<String> {
        var result = Set<String>()
        for lines in access.logins.values {
            for line in lines { if let key = try? AuthorizedKey(line: line) { result.insert(key.key.fingerprint(.sha256)) } }
        }
        return result
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// utime + stime of processes, in seconds.
    private static func processCPUSeconds(_ pids: [Int32]) throws -> Double {
        try pids.map(processCPUSeconds).reduce(0, +)
    }

    private static func processCPUSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { throw UsageError(description: "cannot read /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw UsageError(description: "cannot read CPU times of \(pid)")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func residentMiB(_ pid: Int32) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            if let kib = Double(line.split(separator: " ").dropFirst().first ?? "") { return kib / 1024 }
        }
        throw UsageError(description: "cannot read the memory of \(pid)")
    }
}

/// `lookup-cache`: a cache directory with one login holding N real ed25519 keys, for timing
/// keyfleet-authorized-keys. Prints the fingerprint of the last key (the worst case for a scan).
enum LookupCacheBench {
    static func run(arguments: [String]) throws {
        let options = try FleetBench.options(arguments)
        guard let directory = options["dir"], let count = Int(options["keys"] ?? "100000"), count > 0 else {
            throw FleetBench.UsageError(description: "usage: lookup-cache --dir DIR [--keys N]")
        }
        var entries: [(fingerprint: String, line: String)] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let key = try PrivateKey.generate(.ed25519).publicKey
            let line = try AuthorizedKey(key: key, comment: "keyfleet:key-\(index)").line
            entries.append((key.fingerprint(.sha256), line))
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try CacheFile.render(entries).write(toFile: directory + "/root", atomically: true, encoding: .utf8)
        chmod(directory + "/root", 0o644)
        print(entries.last?.fingerprint ?? "")
    }
}
