import Foundation
import Hummingbird
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Logging
import SSHKeys
import TestSupport
import Testing

/// A registry in process with its metrics: the API's router (with the metrics middlewares) and the metrics
/// address's router, both over one ``ServerMetrics`` of this test's own.
struct MetricsRegistry: Sendable {
    let registry: TestRegistry
    let metrics: ServerMetrics
    let api: any TestClientProtocol
    let scraper: any TestClientProtocol

    static func with<T: Sendable>(_ body: @Sendable (MetricsRegistry) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        let clock = TestClock(1_800_000_000)
        let store: SQLStore
        if TestPostgres.storeIsPostgreSQL {
            store = try await SQLStore.open(
                databaseURL: try TestPostgres.shared().newDatabase(), clock: { clock.now }, makeID: RegistryServer.makeIdentifier)
        } else {
            store = try await SQLStore.open(dataDirectory: directory.path + "/data", clock: { clock.now }, makeID: RegistryServer.makeIdentifier)
        }
        let adminToken = Secrets.make(.apiToken)
        _ = try await AdminBootstrap.ensureAdministrator(store: store, token: adminToken)
        var logger = Logger(label: "keyfleet.test")
        logger.logLevel = .critical
        let endpoint = EndpointBox(ServerEndpoint(url: "https://keys.example.test:8443", caCertHash: nil))
        let changes = ChangeSignal()
        let api = RegistryAPI(store: store, clock: { clock.now }, endpoint: endpoint, changes: changes, serverVersion: "test", logger: logger)
        let registry = TestRegistry(store: store, api: api, adminToken: adminToken, clock: clock, directory: directory, endpoint: endpoint)
        let metrics = ServerMetrics(store: store, access: api.access)
        let apiApp = Application(
            router: try RegistryServer.makeRouter(api: api, maximumBodySize: 1 << 20, logger: logger, metrics: metrics), logger: logger)
        let metricsApp = Application(router: RegistryServer.makeMetricsRouter(metrics: metrics), logger: logger)
        do {
            let result = try await apiApp.test(.router) { apiClient in
                try await metricsApp.test(.router) { scraper in
                    try await following(api.access) {
                        try await body(MetricsRegistry(registry: registry, metrics: metrics, api: apiClient, scraper: scraper))
                    }
                }
            }
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Scrapes until an agent sync waits (5 s at most); returns the last scrape.
    @discardableResult
    func untilSyncWaits() async throws -> Exposition {
        let deadline = ContinuousClock.now + .seconds(5)
        var exposition = try await scrape()
        while exposition.value("keyfleet_agent_syncs_waiting") < 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            exposition = try await scrape()
        }
        #expect(exposition.value("keyfleet_agent_syncs_waiting") == 1, "a sync waits within 5 s")
        return exposition
    }

    /// `GET /metrics`, checked to be the Prometheus text format and parsed.
    func scrape() async throws -> Exposition {
        let (status, contentType, text) = try await scraper.execute(uri: "/metrics", method: .get) { response in
            (Int(response.status.code), response.headers[.contentType], String(buffer: response.body))
        }
        #expect(status == 200)
        #expect(contentType == "text/plain; version=0.0.4; charset=utf-8")
        return try Exposition(text)
    }
}

/// The Prometheus text format (version 0.0.4), parsed strictly enough that a malformed line fails the test.
struct Exposition: Sendable {
    struct Sample: Sendable, Hashable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    let text: String
    let samples: [Sample]
    /// `# TYPE` of each family.
    let types: [String: String]
    /// `# HELP` of each family.
    let help: [String: String]

    init(_ text: String) throws {
        self.text = text
        var samples: [Sample] = []
        var types: [String: String] = [:]
        var help: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram"].contains(parts[1]), types[String(parts[0])] == nil else {
                    throw Malformed(description: "bad or repeated TYPE line: \(line)")
                }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " ") else { throw Malformed(description: "bad HELP line: \(line)") }
                help[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            } else {
                samples.append(try Self.sample(line))
            }
        }
        guard text.isEmpty || text.hasSuffix("\n") else { throw Malformed(description: "the text does not end with a line break") }
        self.samples = samples
        self.types = types
        self.help = help
    }

    /// `name{a="x",b="y"} value` or `name value`.
    static func sample(_ line: Substring) throws -> Sample {
        let characters = Array(line)
        var index = 0
        func at(_ position: Int) -> Character? { position < characters.count ? characters[position] : nil }
        func malformed(_ why: String) -> Malformed { Malformed(description: "\(why): \(line)") }
        let isNameCharacter = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == ":") }
        while let c = at(index), isNameCharacter(c) { index += 1 }
        let name = String(characters[0..<index])
        guard !name.isEmpty, name.first?.isNumber == false else { throw malformed("no metric name") }
        var labels: [String: String] = [:]
        if at(index) == "{" {
            index += 1
            while at(index) != "}" {
                let start = index
                while let c = at(index), isNameCharacter(c) { index += 1 }
                let label = String(characters[start..<index])
                guard !label.isEmpty, at(index) == "=", at(index + 1) == "\"" else { throw malformed("bad label") }
                index += 2
                var value = ""
                while let c = at(index), c != "\"" {
                    if c == "\\" {
                        switch at(index + 1) {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw malformed("bad escape")
                        }
                        index += 2
                    } else {
                        value.append(c)
                        index += 1
                    }
                }
                guard at(index) == "\"", labels[label] == nil else { throw malformed("cut or repeated label") }
                labels[label] = value
                index += 1
                if at(index) == "," {
                    index += 1
                } else if at(index) != "}" {
                    throw malformed("no comma between labels")
                }
            }
            index += 1
        }
        guard at(index) == " " else { throw malformed("no value") }
        let valueText = String(characters[(index + 1)...])
        guard let value = valueText == "+Inf" ? Double.infinity : Double(valueText) else { throw malformed("bad value") }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The value of the series `name` with exactly `labels`, 0 when it is absent.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.first { $0.name == name && $0.labels == labels }?.value ?? 0
    }

    /// The series of `name`, by their labels.
    func series(_ name: String) -> [[String: String]: Double] {
        Dictionary(samples.filter { $0.name == name }.map { ($0.labels, $0.value) }, uniquingKeysWith: { first, _ in first })
    }
}

@Suite("Metrics (/metrics in the Prometheus text format)")
struct MetricsTests {
    /// Every operation id of the contract.
    static let operationIDs: Set<String> = {
        let source = #filePath.replacingOccurrences(of: "Tests/KeyfleetServerTests/MetricsTests.swift", with: "Sources/KeyfleetAPI/openapi.yaml")
        let text = (try? String(contentsOfFile: source, encoding: .utf8)) ?? ""
        return Set(
            text.split(separator: "\n").compactMap { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("operationId: ") ? String(trimmed.dropFirst("operationId: ".count)) : nil
            })
    }()

    /// The requests counted under each (route, status) between two scrapes.
    static func requestDeltas(_ before: Exposition, _ after: Exposition) -> [String: Double] {
        var deltas: [String: Double] = [:]
        for (labels, value) in after.series("keyfleet_http_requests_total") {
            let delta = value - before.value("keyfleet_http_requests_total", labels)
            if delta != 0 { deltas["\(labels["route"] ?? "?") \(labels["status"] ?? "?")"] = delta }
        }
        return deltas
    }

    @Test("request counts move by exactly the requests made, under operation ids and status codes, and histograms are cumulative")
    func requestCounts() async throws {
        try await MetricsRegistry.with { server in
            let admin = server.registry.adminToken
            let before = try await server.scrape()
            let marker = "zq" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            for _ in 0..<3 { #expect(try await server.api.call(.get, "/health", token: nil).status == 200) }
            let created = try await server.api.call(
                .post, "/v1/ssh-keys", token: admin, json: ["name": "key-\(marker)", "public_key": try TestKeys.ed25519Line()])
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created.dictionary("key")["id"] as? String)
            #expect(try await server.api.call(.get, "/v1/ssh-keys/\(id)", token: admin).status == 200)
            #expect(try await server.api.call(.get, "/v1/ssh-keys/key-\(marker)-missing", token: admin).status == 404)
            #expect(try await server.api.call(.get, "/v1/ssh-keys", token: nil).status == 401)
            #expect(try await server.api.call(.get, "/v1/\(marker)/nothing", token: admin).status == 404)
            #expect(try await server.api.call(.delete, "/v1/ssh-keys/\(id)", token: admin).status == 204)
            let after = try await server.scrape()

            #expect(
                Self.requestDeltas(before, after) == [
                    "getHealth 200": 3, "createSSHKey 201": 1, "getSSHKey 200": 1, "getSSHKey 404": 1, "listSSHKeys 401": 1,
                    "unmatched 404": 1, "deleteSSHKey 204": 1,
                ])
            // The histogram counts the same requests, and every bucket holds all the smaller ones.
            for (labels, count) in after.series("keyfleet_http_requests_total") {
                #expect(after.value("keyfleet_http_request_duration_seconds_count", labels) == count, "\(labels)")
                var buckets = after.samples.filter {
                    $0.name == "keyfleet_http_request_duration_seconds_bucket" && $0.labels.filter { $0.key != "le" } == labels
                }
                buckets.sort { (Double($0.labels["le"] ?? "") ?? .infinity) < (Double($1.labels["le"] ?? "") ?? .infinity) }
                #expect(buckets.count == 17, "\(labels): \(buckets.count) buckets")
                #expect(buckets.last?.labels["le"] == "+Inf")
                #expect(buckets.last?.value == count)
                #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "\(buckets)")
                #expect(after.value("keyfleet_http_request_duration_seconds_sum", labels) >= 0)
            }
            #expect(after.types["keyfleet_http_requests_total"] == "counter")
            #expect(after.types["keyfleet_http_request_duration_seconds"] == "histogram")
            #expect(after.help["keyfleet_http_requests_total"]?.isEmpty == false)
            // Labels name operations and statuses only: never a path, a name, an identifier or a secret.
            for sample in after.samples where sample.name.hasPrefix("keyfleet_http_request") && sample.name != "keyfleet_http_requests_in_flight" {
                let route = try #require(sample.labels["route"])
                #expect(Self.operationIDs.contains(route) || route == "unmatched", "route label \(route)")
                #expect(sample.labels["status"].flatMap(Int.init) != nil)
            }
            #expect(!Self.operationIDs.isEmpty)
            for secret in [marker, id, admin, String(admin.suffix(20))] {
                #expect(!after.text.contains(secret), "\(secret) appears in /metrics")
            }
        }
    }

    @Test("agent syncs: connected and waiting long-polls are gauges, and a change through the API is timed to the waiting agent's answer")
    func syncsAndPropagation() async throws {
        try await MetricsRegistry.with { server in
            let world = try await HostWorld.make(server.registry)
            let (_, credential) = try await SyncTests.enrolled(server.api, world)
            let first = try await SyncTests.sync(server.api, credential, version: 0, wait: 0)
            let version = try #require(first.object["version"] as? Int)
            let before = try await server.scrape()
            #expect(before.value("keyfleet_agent_syncs_waiting") == 0)
            #expect(before.value("keyfleet_agent_syncs_in_flight") == 0)

            let client = server.api
            async let answer = SyncTests.sync(client, credential, version: version, wait: 10)
            let waiting = try await server.untilSyncWaits()
            #expect(waiting.value("keyfleet_agent_syncs_waiting") == 1)
            #expect(waiting.value("keyfleet_agent_syncs_in_flight") == 1)
            let started = ContinuousClock.now
            let deleted = try await server.api.call(.delete, "/v1/ssh-keys/\(world.projectKey.id.rawValue)", token: world.owner.token)
            #expect(deleted.status == 204, "\(deleted.text)")
            #expect(try await answer.status == 200)
            let took = ContinuousClock.now - started
            let after = try await server.scrape()

            #expect(after.value("keyfleet_agent_syncs_waiting") == 0)
            #expect(after.value("keyfleet_agent_syncs_in_flight") == 0)
            #expect(after.value("keyfleet_change_propagation_seconds_count") - before.value("keyfleet_change_propagation_seconds_count") == 1)
            let seconds = after.value("keyfleet_change_propagation_seconds_sum") - before.value("keyfleet_change_propagation_seconds_sum")
            #expect(seconds > 0 && seconds < Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18, "\(seconds) s, \(took)")
            #expect(after.value("keyfleet_change_propagation_unattributed_total") == before.value("keyfleet_change_propagation_unattributed_total"))
            #expect(after.value("keyfleet_change_signals_total") - before.value("keyfleet_change_signals_total") == 1)
            #expect(Self.requestDeltas(before, after) == ["syncAgent 200": 1, "deleteSSHKey 204": 1])
        }
    }

    @Test("a sync that saw two changes while it waited is counted as unattributed, not timed from either")
    func unattributedPropagation() async throws {
        try await MetricsRegistry.with { server in
            let world = try await HostWorld.make(server.registry)
            let (_, credential) = try await SyncTests.enrolled(server.api, world)
            let version = try #require(try await SyncTests.sync(server.api, credential, version: 0, wait: 0).object["version"] as? Int)
            let before = try await server.scrape()
            let client = server.api
            async let answer = SyncTests.sync(client, credential, version: version, wait: 10)
            try await server.untilSyncWaits()
            // A change that does not touch the host (the stranger's own key), then one that does.
            let unrelated = try await server.api.call(.delete, "/v1/ssh-keys/\(world.strangerKey.id.rawValue)", token: world.stranger.token)
            #expect(unrelated.status == 204)
            try await server.untilSyncWaits()
            let deleted = try await server.api.call(.delete, "/v1/ssh-keys/\(world.projectKey.id.rawValue)", token: world.owner.token)
            #expect(deleted.status == 204)
            #expect(try await answer.status == 200)
            let after = try await server.scrape()
            #expect(after.value("keyfleet_change_signals_total") - before.value("keyfleet_change_signals_total") == 2)
            let unattributed = "keyfleet_change_propagation_unattributed_total"
            #expect(after.value(unattributed) - before.value(unattributed) == 1)
            let timed = "keyfleet_change_propagation_seconds_count"
            #expect(after.value(timed) == before.value(timed))
        }
    }

    @Test("the store's version and its transactions: waiting, running, and each one's time by kind and outcome")
    func storeMetrics() async throws {
        try await MetricsRegistry.with { server in
            let admin = server.registry.adminToken
            let before = try await server.scrape()
            let line = try TestKeys.ed25519Line()
            #expect(try await server.api.call(.post, "/v1/ssh-keys", token: admin, json: ["name": "one", "public_key": line]).status == 201)
            let other = try TestKeys.ed25519Line()
            let refused = try await server.api.call(.post, "/v1/ssh-keys", token: admin, json: ["name": "one", "public_key": other])
            #expect(refused.status == 409, "\(refused.text)")
            // The change follower reads what changed after each write: wait until it is done (30 s at most: the
            // suite shares two cores with end-to-end tests, and once took 186 s for what takes 3 alone).
            var after = try await server.scrape()
            let deadline = ContinuousClock.now + .seconds(30)
            while after.value("keyfleet_store_transactions_in_flight") + after.value("keyfleet_store_transactions_waiting") > 0,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(20))
                after = try await server.scrape()
            }

            #expect(after.value("keyfleet_store_up") == 1)
            #expect(after.value("keyfleet_store_version") == Double(try await server.registry.store.version()))
            #expect(after.value("keyfleet_store_version") > before.value("keyfleet_store_version"))
            #expect(after.value("keyfleet_store_transactions_in_flight") == 0)
            #expect(after.value("keyfleet_store_transactions_waiting") == 0)
            let committed = ["kind": "write", "outcome": "committed"]
            let rolledBack = ["kind": "write", "outcome": "rolled_back"]
            let name = "keyfleet_store_transaction_duration_seconds_count"
            #expect(after.value(name, committed) - before.value(name, committed) >= 1)
            #expect(after.value(name, rolledBack) - before.value(name, rolledBack) >= 1)
            // Each scrape reads the version in one read transaction.
            #expect(after.value(name, ["kind": "read", "outcome": "committed"]) >= 1)
            #expect(after.types["keyfleet_store_transaction_wait_seconds"] == "histogram")
            for sample in after.samples where sample.name.hasPrefix("keyfleet_store_transaction_") {
                #expect(["read", "write", "migration"].contains(sample.labels["kind"] ?? ""), "\(sample)")
                if let outcome = sample.labels["outcome"] {
                    #expect(["committed", "rolled_back", "retried", "unavailable"].contains(outcome), "\(sample)")
                }
            }
        }
    }

    @Test("/metrics is served on the metrics router only: the API's router answers it 404, and the metrics router has no API")
    func separateRouters() async throws {
        try await MetricsRegistry.with { server in
            let onAPI = try await server.api.call(.get, "/metrics", token: server.registry.adminToken)
            #expect(onAPI.status == 404)
            let apiOnMetrics = try await server.scraper.execute(uri: "/v1/ssh-keys", method: .get) { Int($0.status.code) }
            #expect(apiOnMetrics == 404)
            let health = try await server.scraper.execute(uri: "/health", method: .get) { Int($0.status.code) }
            #expect(health == 404)
        }
    }

    @Test("servers in one process keep their own counts")
    func ownRegistries() async throws {
        try await MetricsRegistry.with { first in
            try await MetricsRegistry.with { second in
                let before = try await second.scrape()
                for _ in 0..<4 { _ = try await first.api.call(.get, "/health", token: nil) }
                let after = try await second.scrape()
                #expect(Self.requestDeltas(before, after).isEmpty)
                #expect(try await first.scrape().value("keyfleet_http_requests_total", ["route": "getHealth", "status": "200"]) == 4)
            }
        }
    }

    @Test(
        "the exposition parser refuses malformed lines",
        arguments: [
            "x{a=\"1\" 2\n", "x 1\nno value\n", "# TYPE x summary\nx 1\n", "x{a=\"\\q\"} 1\n", "x one\n", "x 1",
        ])
    func parserRefuses(_ text: String) {
        #expect(throws: Exposition.Malformed.self) { try Exposition(text) }
    }
}
