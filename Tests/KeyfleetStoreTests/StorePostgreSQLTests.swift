import Foundation
import KeyfleetCore
import Synchronization
import Testing
import TestSupport

@testable import KeyfleetStore

#if canImport(Glibc)
import Glibc
#endif

/// What only PostgreSQL has: URLs, connecting, several stores on one database, notifications, and a
/// database that goes away and comes back. Always on a real PostgreSQL, whatever the other suites run on.
@Suite("SQLStore on PostgreSQL: connecting, several servers, notifications, faults")
struct StorePostgreSQLTests {
    static let clock: @Sendable () -> UInt64 = { 1_800_000_000 }
    static let makeID: @Sendable () -> String = { UUID().uuidString.lowercased() }

    static func open(_ url: String, connectTimeout: Duration = .seconds(10)) async throws -> SQLStore {
        try await SQLStore.open(databaseURL: url, clock: clock, makeID: makeID, connectTimeout: connectTimeout)
    }

    @Test(
        "a malformed database URL is refused in one line that names what is wrong",
        arguments: [
            ("mysql://u:p@h/db", "scheme"),
            ("postgres:///db", "no host"),
            ("postgres://h/db", "no user"),
            ("postgres://u@h/db/extra", "more than one part"),
            ("postgres://u@h/db?sslmode=always", "sslmode=always"),
            ("postgres://u@h/db?application_name=x", "application_name"),
            ("postgres://u@h/db?sslmode=verify-full&sslrootcert=", "sslrootcert"),
            ("not a url at all", "not a URL"),
            ("postgres://u@h/db?sslmode=\u{1B}[31m", "\\u{1b}"),
        ])
    func malformedURL(url: String, named: String) async throws {
        let error = await #expect(throws: StoreError.self) { try await Self.open(url) }
        #expect(error?.code == .invalidInput)
        let reason = error?.reason ?? ""
        #expect(reason.contains(named), "\(reason)")
        #expect(!reason.contains("\n") && !reason.contains("\u{1B}"))
    }

    @Test("a URL is read as libpq reads it; its description hides the password")
    func urlAsLibpqReadsIt() throws {
        let url = try DatabaseURL("postgresql://ann%40corp:s%2Fecret@db.example:6543?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(url.user == "ann@corp" && url.password == "s/ecret")
        #expect(url.host == "db.example" && url.port == 6543 && url.database == "ann@corp")
        #expect(url.tlsMode == .verifyFull && url.rootCertificateFile == "/etc/ca.pem")
        #expect(!url.description.contains("ecret"))
        let plain = try DatabaseURL("postgres://u@h/registry")
        #expect(plain.port == 5432 && plain.tlsMode == .prefer && plain.database == "registry")
    }

    @Test("a wrong password, an unknown user or database, and TLS the server lacks: one line each, no password")
    func refusedConnections() async throws {
        let postgres = try TestPostgres.shared()
        let database = try postgres.newDatabase()
        let name = try #require(URL(string: database)?.path.dropFirst()).description
        let cases: [(String, String)] = [
            (postgres.url(database: name, password: "not-the-password"), "refused the password of user keyfleet"),
            (postgres.url(database: name, user: "nobody-here", password: "x"), "nobody-here"),
            (postgres.url(database: "no_such_database"), "does not exist"),
            (postgres.url(database: name).replacingOccurrences(of: "sslmode=disable", with: "sslmode=require"), "TLS"),
        ]
        for (url, expected) in cases {
            let error = await #expect(throws: StoreError.self) { try await Self.open(url) }
            let reason = error?.reason ?? ""
            #expect(reason.contains(expected), "\(url): \(reason)")
            #expect(!reason.contains("not-the-password") && !reason.contains(postgres.password) && !reason.contains("\n"), "\(reason)")
        }
    }

    @Test("nothing listening, or a listener that never answers: refused within the connect timeout")
    func unreachableDatabase() async throws {
        // A port nobody listens on: refused at once.
        let closed = try TestPostgres.freePort()
        let refused = await #expect(throws: StoreError.self) { try await Self.open("postgres://u:p@127.0.0.1:\(closed)/db?sslmode=disable") }
        #expect(refused?.code == .unavailable)
        #expect(refused?.reason.contains("127.0.0.1:\(closed)") == true, "\(refused?.reason ?? "")")

        // A socket that takes connections and never says a word: the connect timeout ends the wait.
        let silent = try SilentListener()
        let clock = ContinuousClock()
        let started = clock.now
        let timedOut = await #expect(throws: StoreError.self) {
            try await Self.open("postgres://u:p@127.0.0.1:\(silent.port)/db?sslmode=disable", connectTimeout: .seconds(1))
        }
        let waited = clock.now - started
        #expect(timedOut?.code == .unavailable)
        #expect(waited < .seconds(5), "waited \(waited)")
        silent.close()
    }

    @Test("two stores on one database: the same name made at once is one success and coded conflicts")
    func concurrentStoresConflict() async throws {
        let url = try TestPostgres.shared().newDatabase()
        let first = try await Self.open(url)
        let second = try await Self.open(url)
        let admin = try await first.createUser(name: "admin", role: .admin, by: .system)
        let principal = Principal(user: admin.id)
        for round in 0..<10 {
            let name = "web-\(round)"
            let outcomes = await withTaskGroup(of: Result<Project, StoreError>.self) { group in
                for store in [first, second, first, second] {
                    group.addTask {
                        do {
                            return .success(try await store.createProject(name: name, by: principal))
                        } catch let error as StoreError {
                            return .failure(error)
                        } catch {
                            return .failure(StoreError(.database, "\(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let made = outcomes.compactMap { try? $0.get() }
            let codes = outcomes.compactMap { if case .failure(let error) = $0 { error.code } else { nil } }
            #expect(made.count == 1, "round \(round): \(outcomes)")
            #expect(codes == [StoreError.Code](repeating: .conflict, count: 3), "round \(round): \(outcomes)")
        }
        // Each store sees every project, and the version counted every change.
        #expect(try await first.projects(member: nil, page: .largest).items.count == 10)
        #expect(try await second.version() == first.version())
        try await first.close()
        try await second.close()
    }

    /// Four servers writing at once: every write touches the registry's one state row (version and audit
    /// sequence), so under optimistic retries alone one server could lose eight races in a row and answer 500
    /// (1,000 agents enrolling through two servers did). Writers take turns instead.
    @Test("concurrent changes through four stores all land: writers take turns, none loses every race")
    func concurrentChangesAllLand() async throws {
        let url = try TestPostgres.shared().newDatabase()
        var stores = [SQLStore]()
        for _ in 0..<4 { stores.append(try await Self.open(url)) }
        let admin = try await stores[0].createUser(name: "admin", role: .admin, by: .system)
        let principal = Principal(user: admin.id)
        let project = try await stores[0].createProject(name: "web", by: principal)
        let before = try await stores[0].version()
        let writes = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writes {
                let store = stores[index % stores.count]
                group.addTask {
                    _ = try await store.createKey(
                        NewKey(
                            name: "key-\(index)", owner: .project(project.id), publicKey: try TestKey.ed25519(), comment: "",
                            labels: [:], expiresAt: nil),
                        by: principal)
                }
            }
            try await group.waitForAll()
        }
        #expect(try await stores[1].keys(KeyFilter(), page: .largest).items.count == writes)
        #expect(try await stores[0].version() == before + UInt64(writes))
        for store in stores { try await store.close() }
    }

    @Test("a change committed through one store is heard by a listener on another, by kind")
    func notificationsReachOtherStores() async throws {
        let url = try TestPostgres.shared().newDatabase()
        let writer = try await Self.open(url)
        let listener = try await Self.open(url)
        let heard = Mutex<[StoreChange]>([])
        let listening = Task {
            await listener.listenForChanges({ change in heard.withLock { $0.append(change) } }, logger: .init(label: "test"))
        }
        let admin = try await writer.createUser(name: "admin", role: .admin, by: .system)
        let principal = Principal(user: admin.id)
        // LISTEN is in place once a change made now is heard.
        try await eventually("the listener hears a change") {
            _ = try await writer.createProject(name: "p-\(UUID().uuidString.prefix(8).lowercased())", by: principal)
            return heard.withLock { $0.contains(.access) }
        }
        heard.withLock { $0.removeAll() }
        let token = try await writer.createToken(user: admin.id, tokenHash: [UInt8](repeating: 7, count: 32), scope: .readWrite, by: principal)
        _ = try await writer.revokeToken(token.id, by: principal)
        try await eventually("the revocation is heard") { heard.withLock { $0.contains(.credentials) } }
        listening.cancel()
        await listening.value
        try await writer.close()
        try await listener.close()
    }

    @Test("the database going away: transactions say unavailable, then work again by themselves; the listener comes back")
    func databaseRestart() async throws {
        let postgres = try TestPostgres.startPrivate()
        let url = try postgres.newDatabase()
        let store = try await Self.open(url, connectTimeout: .seconds(2))
        let heard = Mutex<[StoreChange]>([])
        let listening = Task {
            await store.listenForChanges({ change in heard.withLock { $0.append(change) } }, logger: .init(label: "test"))
        }
        let admin = try await store.createUser(name: "admin", role: .admin, by: .system)
        let principal = Principal(user: admin.id)

        try postgres.stop()
        let error = await #expect(throws: StoreError.self) { try await store.createProject(name: "while-down", by: principal) }
        #expect(error?.code == .unavailable, "\(String(describing: error))")
        heard.withLock { $0.removeAll() }

        try postgres.start()
        try await eventually("the store works again") {
            (try? await store.createProject(name: "after-restart", by: principal)) != nil
        }
        #expect(try await store.projects(member: nil, page: .largest).items.map(\.name) == ["after-restart"])
        // The listener connected again and reported every kind, since it may have missed some.
        try await eventually("the listener is back") { Set(heard.withLock { $0 }) == Set(StoreChange.allCases) }
        listening.cancel()
        await listening.value
        try await store.close()
        try postgres.stop()
    }
}

/// Waits up to 20 s for `condition`, checking every 50 ms.
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let end = clock.now + .seconds(20)
    while try await !condition() {
        guard clock.now < end else {
            Issue.record("timed out waiting until \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// A TCP socket on 127.0.0.1 whose backlog takes connections that nobody ever reads or answers.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw CancellationError() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
