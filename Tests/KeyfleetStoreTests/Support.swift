import Foundation
import KeyfleetCore
import KeyfleetStore
import SSHKeys
import Synchronization
import TestSupport

/// Identifiers `id-000001`, `id-000002`, ... and a clock that tests move by hand: a deterministic store.
final class Determinism: Sendable {
    private let counter = Mutex<Int>(0)
    private let time = Mutex<UInt64>(1_800_000_000)

    func makeID() -> String {
        counter.withLock { value in
            value += 1
            let digits = String(value)
            return "id-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }
    }

    var now: UInt64 { time.withLock { $0 } }
    func advance(by seconds: UInt64) { time.withLock { $0 += seconds } }
}

/// A fresh store with the deterministic generator and clock: SQLite in a temporary directory, or a new
/// PostgreSQL database when the suite runs on PostgreSQL (``TestPostgres/storeIsPostgreSQL``).
struct Fixture {
    let directory: TemporaryDirectory
    let determinism: Determinism
    let store: SQLStore
    let admin: User
    let principal: Principal
    /// The PostgreSQL database's URL, when the store is there.
    let databaseURL: String?

    var dataDirectory: String { directory.file("data") }

    /// A fresh store; on SQLite whatever the suite runs on when `sqlite` is true (for what only SQLite has).
    init(sqlite: Bool = false) async throws {
        directory = try TemporaryDirectory()
        determinism = Determinism()
        databaseURL = TestPostgres.storeIsPostgreSQL && !sqlite ? try TestPostgres.shared().newDatabase() : nil
        store = try await Self.open(directory.file("data"), databaseURL, determinism)
        admin = try await store.createUser(name: "admin", role: .admin, by: .system)
        principal = Principal(user: admin.id)
    }

    static func open(_ path: String, _ databaseURL: String?, _ determinism: Determinism) async throws -> SQLStore {
        if let databaseURL {
            return try await SQLStore.open(databaseURL: databaseURL, clock: { determinism.now }, makeID: { determinism.makeID() })
        }
        return try await SQLStore.open(dataDirectory: path, clock: { determinism.now }, makeID: { determinism.makeID() })
    }

    /// Opens the database again, as after a restart.
    func reopen() async throws -> SQLStore {
        try await store.close()
        return try await Self.open(dataDirectory, databaseURL, determinism)
    }

    func newKey(_ name: String, owner: KeyOwner, labels: [String: String] = [:], expiresAt: UInt64? = nil) async throws -> SSHKeyRecord {
        try await store.createKey(
            NewKey(name: name, owner: owner, publicKey: try TestKey.ed25519(), comment: "comment of \(name)", labels: labels, expiresAt: expiresAt),
            by: principal)
    }
}

enum TestKey {
    static func ed25519() throws -> PublicKey { try PrivateKey.generate(.ed25519).publicKey }
}

/// A 32-byte digest stand-in made from a small number.
func digest(_ seed: UInt8) -> [UInt8] { [UInt8](repeating: seed, count: 32) }

extension Array where Element == AccessEntry {
    var keyNames: Set<String> { Set(map(\.name)) }
}
