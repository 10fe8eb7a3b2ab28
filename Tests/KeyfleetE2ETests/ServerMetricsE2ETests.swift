import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real `keyfleet server` with `--log-format json` and `--metrics-listen`: its logs are JSON lines, and
/// the metrics address answers `/metrics` in the Prometheus text format with the requests made.
@Suite("Server metrics and JSON logs", .serialized)
struct ServerMetricsE2ETests {
    /// The URL after `prefix` in the first line of `text` that starts with it.
    static func url(after prefix: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// `method url` with an optional bearer token and JSON body: status, content type and body text.
    static func request(_ method: String, _ url: String, token: String? = nil, json: Any? = nil) async throws -> (Int, String, String) {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
    }

    @Test("every stderr line of a server run with --log-format json is one JSON log object, and /metrics counts the requests made")
    func jsonLogsAndMetrics() async throws {
        let work = try TemporaryDirectory()
        let server = try BackgroundProcess(
            KeyfleetBinary.path,
            [
                "server", "--data-dir", work.file("registry"), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                "--log-format", "json", "--log-level", "debug",
            ],
            timeLimit: 300)
        defer { server.killHard() }
        var apiURL: String?
        var metricsURL: String?
        var token: String?
        let deadline = ContinuousClock.now + .seconds(30)
        while apiURL == nil || metricsURL == nil || token == nil, server.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            let output = server.standardOutput
            apiURL = output.split(separator: "\n").first { $0.hasPrefix("keyfleet server ") && $0.contains(" listening on ") }
                .flatMap { line in line.range(of: " listening on ").map { String(line[$0.upperBound...]) } }
            metricsURL = Self.url(after: "keyfleet server metrics on ", in: output)
            token = Self.url(after: "Administrator API token (shown once; keep it safe): ", in: output)
        }
        let api = try #require(apiURL, "stdout: \(server.standardOutput) stderr: \(server.standardError.suffix(2000))")
        let metrics = try #require(metricsURL, "stdout: \(server.standardOutput)")
        let admin = try #require(token)
        #expect(metrics.hasPrefix("http://127.0.0.1:") && metrics.hasSuffix("/metrics"))
        #expect(metrics != api + "/metrics")

        let marker = "e2e" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        for _ in 0..<2 { #expect(try await Self.request("GET", api + "/health").0 == 200) }
        let key = try String(contentsOfFile: RealKeys.make("ed25519", in: work, name: "key") + ".pub", encoding: .utf8)
        let created = try await Self.request("POST", api + "/v1/ssh-keys", token: admin, json: ["name": "key-\(marker)", "public_key": key])
        #expect(created.0 == 201, "\(created.2)")
        #expect(try await Self.request("GET", api + "/v1/\(marker)", token: admin).0 == 404)
        #expect(try await Self.request("GET", api + "/metrics").0 == 404, "the API's address does not serve /metrics")

        let (status, contentType, text) = try await Self.request("GET", metrics)
        #expect(status == 200)
        #expect(contentType == "text/plain; version=0.0.4; charset=utf-8")
        let lines = text.split(separator: "\n")
        /// The value of the one sample written `series value`.
        func value(_ series: String) -> Double? {
            lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
        }
        #expect(value(#"keyfleet_http_requests_total{route="getHealth",status="200"}"#) == 2, "\(text.prefix(3000))")
        #expect(value(#"keyfleet_http_requests_total{route="createSSHKey",status="201"}"#) == 1)
        #expect(value(#"keyfleet_http_requests_total{route="unmatched",status="404"}"#) == 2)
        #expect(lines.contains("# TYPE keyfleet_http_request_duration_seconds histogram"))
        #expect(value("keyfleet_store_up") == 1)
        #expect((value("keyfleet_store_version") ?? 0) >= 1)
        #expect(value("keyfleet_agent_syncs_waiting") == 0)
        #expect(!text.contains(marker) && !text.contains(admin), "names and secrets stay out of /metrics")

        #expect(server.stop() == 0, "SIGTERM ends the server cleanly")
        let logs = server.standardError.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(server.standardError.hasSuffix("\n"))
        #expect(logs.count >= 2, "the server logged at debug: \(server.standardError)")
        let levels: Set<String> = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        for line in logs {
            let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            let object = try #require(parsed as? [String: Any], "not a JSON object: \(line)")
            #expect(Set(object.keys) == ["timestamp", "level", "label", "message", "metadata"], "\(line)")
            let timestamp = object["timestamp"] as? String ?? ""
            #expect(timestamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(line)")
            #expect(levels.contains(object["level"] as? String ?? ""), "\(line)")
            #expect((object["label"] as? String)?.isEmpty == false, "\(line)")
            #expect(object["message"] is String, "\(line)")
            #expect(object["metadata"] is [String: Any], "\(line)")
            #expect(!line.contains(admin), "a log line holds the token: \(line)")
        }
    }

    @Test(
        "a --log-format other than text or json is a one-line usage error, for the server and the host agent",
        arguments: [
            ["server", "--data-dir", "/nonexistent/keyfleet-metrics-e2e", "--log-format", "yaml"],
            ["host-agent", "run", "--state-dir", "/nonexistent/keyfleet-metrics-e2e", "--log-format", "yaml"],
        ])
    func badLogFormat(_ arguments: [String]) throws {
        let result = try KeyfleetBinary.run(arguments)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(#"--log-format "yaml" is not text or json"#), "\(result.stderr)")
    }
}
