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

/// The host agent's fan-out benchmark (scripts/bench-fleet.sh).
///
/// `fleet-seed` makes a registry with one project, one project key and N hosts, each with a one-time
/// enrollment token, written to a file. `fleet-run` enrolls N real agents (``HostAgent``, in this one
/// process, each with its own state and keys directory) against the running server, waits until every
/// host has the key, samples the server's CPU time and memory while the N agents sit in their long-polls,
/// then deletes the key through the API and reports, per host, the time from the API call until that
/// host's agent had written a set without it: p50, p99 and the last.
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
        guard let dataDirectory = options["data-dir"], let token = options["token"], let output = options["tokens-file"],
            let hosts = Int(options["hosts"] ?? "1000"), hosts > 0
        else { throw UsageError(description: "usage: fleet-seed --data-dir DIR --token TOKEN --tokens-file FILE [--hosts N]") }
        let store = try await SQLStore.open(dataDirectory: dataDirectory, clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        _ = try await AdminBootstrap.ensureAdministrator(store: store, token: token)
        guard let admin = try await store.users(page: .first).items.first(where: { $0.role == .admin }) else {
            throw UsageError(description: "the registry has no administrator")
        }
        let principal = Principal(user: admin.id)
        let project = try await store.createProject(name: "fleet", by: principal)
        let key = try await store.createKey(
            NewKey(name: "revoke-me", owner: .project(project.id), publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench"),
            by: principal)
        _ = try await store.createKey(
            NewKey(name: "stays", owner: .project(project.id), publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench"),
            by: principal)
        var lines = ""
        for index in 0..<hosts {
            let host = try await store.createHost(by: principal) { id in try Host(id: id, project: project.id, name: "host-\(index)") }
            let secret = Secrets.make(.enrollmentToken)
            try await store.createEnrollmentToken(
                host: host.id, tokenHash: Secrets.hash(secret), expiresAt: RegistryServer.now() + 86_400, by: principal)
            lines += secret + "\n"
        }
        try await store.close()
        try lines.write(toFile: output, atomically: true, encoding: .utf8)
        print("key=\(key.id.rawValue) fingerprint=\(key.sha256Fingerprint)")
    }

    /// When each host last applied a set, and whether it had the key.
    final class Observations: @unchecked Sendable {
        private let lock = NSLock()
        private var hasKey: [Int: Bool] = [:]
        private var lostKeyAt: [Int: UInt64] = [:]

        func record(host: Int, hasKey value: Bool) {
            let now = DispatchTime.now().uptimeNanoseconds
            lock.withLock {
                if hasKey[host] == true && !value { lostKeyAt[host] = now }
                hasKey[host] = value
            }
        }

        var hostsWithKey: Int { lock.withLock { hasKey.values.filter { $0 }.count } }
        var lostKey: [UInt64] { lock.withLock { Array(lostKeyAt.values) } }
    }

    static func run(arguments: [String]) async throws {
        let options = try options(arguments)
        guard let server = options["server"], let token = options["token"], let tokensFile = options["tokens-file"],
            let keyID = options["key"], let fingerprint = options["fingerprint"], let work = options["work"],
            let serverPID = Int32(options["server-pid"] ?? "")
        else {
            throw UsageError(
                description: "usage: fleet-run --server URL --token T --tokens-file F --key ID --fingerprint FP --work DIR --server-pid PID")
        }
        let tokens = try String(contentsOfFile: tokensFile, encoding: .utf8).split(separator: "\n").map(String.init)
        var logger = Logger(label: "bench")
        logger.logLevel = .error

        let start = DispatchTime.now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(16, tokens.count) {
                let index = next
                next += 1
                group.addTask {
                    _ = try await HostAgent.enroll(
                        serverURL: server, token: tokens[index], caCertHash: nil, stateDirectory: "\(work)/\(index)/state", hostname: nil)
                }
            }
            while try await group.next() != nil {
                guard next < tokens.count else { continue }
                let index = next
                next += 1
                group.addTask {
                    _ = try await HostAgent.enroll(
                        serverURL: server, token: tokens[index], caCertHash: nil, stateDirectory: "\(work)/\(index)/state", hostname: nil)
                }
            }
        }
        print("enrolled \(tokens.count) hosts in \(seconds(since: start)) s")

        let observations = Observations()
        let agents: [any Service] = tokens.indices.map { index in
            HostAgent(
                configuration: HostAgentConfiguration(
                    stateDirectory: "\(work)/\(index)/state", mode: .command, keysDirectory: "\(work)/\(index)/cache",
                    hostKeysDirectory: "\(work)/none", wait: 60),
                logger: logger,
                applied: { access in observations.record(host: index, hasKey: hasFingerprint(access, fingerprint)) })
        }
        let group = ServiceGroup(services: agents, gracefulShutdownSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            let syncStart = DispatchTime.now()
            while observations.hostsWithKey < tokens.count {
                try await Task.sleep(for: .milliseconds(50))
                if seconds(since: syncStart) > 300 { throw UsageError(description: "only \(observations.hostsWithKey) hosts synced in 300 s") }
            }
            print("all \(tokens.count) agents have the key after \(seconds(since: syncStart)) s")

            // Idle: every agent waits in its long-poll (after the reports, sent within 3 s of applying).
            try await Task.sleep(for: .seconds(5))
            let cpuBefore = try processCPUSeconds(serverPID)
            let idleStart = DispatchTime.now()
            try await Task.sleep(for: .seconds(10))
            let cpu = try processCPUSeconds(serverPID) - cpuBefore
            let idle = seconds(since: idleStart)
            let rss = try residentMiB(serverPID)
            print(String(format: "server with %d idle agents: %.2f%% of one core, %.0f MiB resident", tokens.count, cpu / idle * 100, rss))

            // Revoke.
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: "\(server)/v1/ssh-keys/\(keyID)")
            request.method = .DELETE
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let serverCPUBefore = try processCPUSeconds(serverPID)
            let ownCPUBefore = try processCPUSeconds(getpid())
            let revokeStart = DispatchTime.now().uptimeNanoseconds
            let response = try await client.execute(request, timeout: .seconds(30))
            try await client.shutdown()
            guard response.status == .noContent else { throw UsageError(description: "DELETE answered \(response.status)") }
            while observations.hostsWithKey > 0 {
                try await Task.sleep(for: .milliseconds(5))
                if Double(DispatchTime.now().uptimeNanoseconds - revokeStart) / 1e9 > 60 {
                    throw UsageError(description: "\(observations.hostsWithKey) hosts still have the key after 60 s")
                }
            }
            let serverCPU = try processCPUSeconds(serverPID) - serverCPUBefore
            let agentsCPU = try processCPUSeconds(getpid()) - ownCPUBefore
            let delays = observations.lostKey.map { Double($0 - min($0, revokeStart)) / 1e6 }.sorted()
            func percentile(_ p: Double) -> Double { delays[min(delays.count - 1, Int((Double(delays.count) * p).rounded(.up)) - 1)] }
            print(
                String(
                    format: "revocation reached %d hosts: p50 %.0f ms, p99 %.0f ms, last %.0f ms", delays.count, percentile(0.5), percentile(0.99),
                    delays.last ?? 0))
            print(String(format: "CPU spent meanwhile: server %.0f ms, the agents' process %.0f ms", serverCPU * 1000, agentsCPU * 1000))
            // A thousand agents' graceful shutdowns are not what is measured: stop here.
            fflush(nil)
            exit(0)
        }
    }

    private static func hasFingerprint(_ access: AccessSet, _ fingerprint: String) -> Bool {
        for lines in access.logins.values {
            for line in lines {
                if let key = try? AuthorizedKey(line: line), key.key.fingerprint(.sha256) == fingerprint { return true }
            }
        }
        return false
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }

    /// utime + stime of a process, in seconds.
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
