import Foundation
import Hummingbird
import HummingbirdTesting
import KeyfleetServer
import KeyfleetStore
import Logging
import TestSupport

/// A registry server in process, over a fresh store (SQLite in a temporary directory, or a new PostgreSQL
/// database when the suite runs on PostgreSQL), reached through Hummingbird's test client with the same
/// router and middlewares as `keyfleet server`, the web portal's pages included.
///
/// `adminToken` is the administrator's token; `clock` can be moved by tests.
struct TestRegistry: Sendable {
    let store: SQLStore
    let api: RegistryAPI
    let adminToken: String
    let clock: TestClock
    let directory: TemporaryDirectory
    /// Where agents reach the server; tests may change it.
    let endpoint: EndpointBox

    /// Makes a registry and runs `body` with a client for it; the store is closed afterwards.
    static func with<T: Sendable>(
        now: UInt64 = 1_800_000_000, sessions: PortalSessions = PortalSessions(),
        _ body: @Sendable (TestRegistry, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        let clock = TestClock(now)
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
        let endpoint = EndpointBox(ServerEndpoint(url: "https://keys.example.test:8443", caCertHash: "sha256:" + String(repeating: "ab", count: 32)))
        let api = RegistryAPI(
            store: store, clock: { clock.now }, endpoint: endpoint, changes: ChangeSignal(), serverVersion: RegistryServer.version, logger: logger)
        let registry = TestRegistry(store: store, api: api, adminToken: adminToken, clock: clock, directory: directory, endpoint: endpoint)
        let router = try RegistryServer.makeRouter(
            api: api, maximumBodySize: 1 << 20, logger: logger, portal: Portal(api: api, sessions: sessions, secure: false))
        let app = Application(router: router, logger: logger)
        do {
            let result = try await app.test(.router) { client in try await following(api.access) { try await body(registry, client) } }
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }
}

/// Runs `body` while `access` follows the registry's changes, as the server's ``ChangeFollower`` service
/// does, so that waiting agent syncs wake.
func following<T: Sendable>(_ access: AccessCache, _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await access.followChanges() }
        let result = try await body()
        group.cancelAll()
        return result
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64

    init(_ value: UInt64) { self.value = value }

    var now: UInt64 {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

/// A JSON answer: status, headers and the parsed body.
struct JSONAnswer: @unchecked Sendable {
    let status: Int
    let headers: HTTPFields
    let body: Any?
    let text: String

    /// The body as an object.
    var object: [String: Any] { body as? [String: Any] ?? [:] }
    /// The `code` of a problem document.
    var code: String? { object["code"] as? String }
    /// `items` of a listing.
    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
}

extension TestClientProtocol {
    /// Sends `method path` with an optional bearer token and JSON body (an object or raw text).
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String?, json: Any? = nil, headers extra: HTTPFields = [:]
    ) async throws -> JSONAnswer {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json {
            let data: Data
            if let text = json as? String {
                data = Data(text.utf8)
            } else {
                data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            }
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            buffer = ByteBuffer(bytes: data)
        }
        return try await execute(uri: path, method: method, headers: headers, body: buffer) { response in
            let text = String(buffer: response.body)
            let parsed = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8))
            return JSONAnswer(status: Int(response.status.code), headers: response.headers, body: parsed, text: text)
        }
    }
}
