import KeyfleetCore
public import SQLKit
import Synchronization

/// The ``Store`` over SQLKit: the same SQL runs on SQLite (``open(dataDirectory:clock:makeID:logger:)``)
/// and, later, PostgreSQL; what differs is in ``SQLFlavor``.
///
/// All work goes through one connection, one transaction at a time (a ``SerialGate``): SQLite allows one
/// writer anyway, and it keeps every check-then-write (unique names, one-time tokens) free of races.
public final class SQLStore: Store {
    let database: any SQLDatabase
    let flavor: SQLFlavor
    let clock: @Sendable () -> UInt64
    let makeID: @Sendable () -> String
    let gate = SerialGate()
    private let closeConnection: @Sendable () async throws -> Void
    private let closeWhenReleased: @Sendable () -> Void
    /// Whether ``close()`` ran: SQLiteNIO's close is not idempotent (a second one dereferences the freed
    /// handle), so the release-time close must not follow it.
    private let closed = Mutex(false)

    /// A store over an open database, migrated before use.
    ///
    /// - Parameters:
    ///   - clock: the time now, in seconds since 1970 UTC.
    ///   - makeID: a new unique identifier text each call (a lower-case UUID in production).
    ///   - close: closes the database.
    ///   - closeWhenReleased: starts closing the database without waiting, for a store released without
    ///     ``close()`` (it is not called after `close`).
    public init(
        database: any SQLDatabase, flavor: SQLFlavor, clock: @escaping @Sendable () -> UInt64, makeID: @escaping @Sendable () -> String,
        close: @escaping @Sendable () async throws -> Void, closeWhenReleased: @escaping @Sendable () -> Void
    ) async throws {
        self.database = database
        self.flavor = flavor
        self.clock = clock
        self.makeID = makeID
        self.closeConnection = close
        self.closeWhenReleased = closeWhenReleased
        await gate.acquire()
        do {
            try await Migrations.run(on: database, flavor: flavor, now: clock())
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    deinit {
        if !closed.withLock({ $0 }) { closeWhenReleased() }
    }

    /// Waits for the running transaction, then closes the database. Call it before releasing the store;
    /// a store released without it still closes its database, without waiting.
    public func close() async throws {
        await gate.acquire()
        do {
            let first = closed.withLock { closed in
                defer { closed = true }
                return !closed
            }
            if first { try await closeConnection() }
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction: committed when it returns, rolled back when it throws.
    func write<R>(by principal: Principal, _ body: (Transaction) async throws -> R) async throws -> R {
        try await exclusive(begin: flavor.beginWrite) { try await body(Transaction(database: $0, now: clock(), principal: principal, makeID: makeID)) }
    }

    /// Runs `body` in a read transaction, so that it sees one consistent state.
    func read<R>(_ body: (any SQLDatabase) async throws -> R) async throws -> R {
        try await exclusive(begin: flavor.beginRead, body)
    }

    private func exclusive<R>(begin: String, _ body: (any SQLDatabase) async throws -> R) async throws -> R {
        await gate.acquire()
        let result: Result<R, any Error>
        do {
            try await database.raw(SQLQueryString(begin)).run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                result = .success(value)
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        } catch {
            result = .failure(error)
        }
        await gate.release()
        return try result.get()
    }
}

/// One write transaction: the database, the time of the change, who makes it, and the audit and version
/// bookkeeping every change needs.
struct Transaction {
    let database: any SQLDatabase
    let now: UInt64
    let principal: Principal
    let makeID: @Sendable () -> String

    func run(_ query: SQLQueryString) async throws { try await database.raw(query).run() }
    func all(_ query: SQLQueryString) async throws -> [any SQLRow] { try await database.raw(query).all() }
    func first(_ query: SQLQueryString) async throws -> (any SQLRow)? { try await database.raw(query).first() }

    /// A new identifier of the given kind.
    func newID<Subject>(_: Subject.Type = Subject.self) throws -> Identifier<Subject> {
        let text = makeID()
        guard let id = Identifier<Subject>(rawValue: text) else {
            throw StoreError(.invalidInput, "the identifier generator made \"\(text)\", which is not a valid identifier")
        }
        return id
    }

    /// The time of the change, as stored.
    var nowValue: Int64 { Int64(clamping: now) }

    /// Appends the change to the audit log.
    func audit(_ action: String, _ objectType: String, _ objectID: String, before: String?, after: String?) async throws {
        try await run("UPDATE registry_state SET audit_sequence = audit_sequence + 1 WHERE id = 1")
        guard let row = try await first("SELECT audit_sequence FROM registry_state WHERE id = 1") else {
            throw StoreError(.database, "the registry_state row is missing")
        }
        let sequence = try row.decode(column: "audit_sequence", as: Int64.self)
        try await run(
            """
            INSERT INTO audit_log (sequence, at, user_id, token_id, action, object_type, object_id, before_json, after_json) \
            VALUES (\(bind: sequence), \(bind: nowValue), \(bind: principal.user?.rawValue), \(bind: principal.token?.rawValue), \
            \(bind: action), \(bind: objectType), \(bind: objectID), \(bind: before), \(bind: after))
            """)
    }

    /// Increments the change version (for every change that can alter effective access).
    func bumpVersion() async throws {
        try await run("UPDATE registry_state SET version = version + 1 WHERE id = 1")
    }

    /// Replaces the labels of one object.
    func setLabels(_ objectType: String, _ objectID: String, _ labels: [String: String]) async throws {
        try await run("DELETE FROM labels WHERE object_type = \(bind: objectType) AND object_id = \(bind: objectID)")
        for (name, value) in labels.sorted(by: { $0.key < $1.key }) {
            try await run(
                "INSERT INTO labels (object_type, object_id, name, value) VALUES (\(bind: objectType), \(bind: objectID), \(bind: name), \(bind: value))")
        }
    }

    /// Throws ``StoreError/Code-swift.struct/invalidReference`` unless every key exists.
    func requireKeys(_ keys: [KeyID], field: String) async throws {
        let unique = Array(Set(keys.map(\.rawValue)))
        guard !unique.isEmpty else { return }
        let found = try await all("SELECT id FROM ssh_keys WHERE id IN (\(binds: unique))").map { try $0.decode(column: "id", as: String.self) }
        if let missing = Set(unique).subtracting(found).sorted().first {
            throw StoreError.invalidReference("\(field): no key has the identifier \(missing)")
        }
    }
}

extension Array where Element: Hashable {
    /// The elements without repeats, first occurrence kept.
    var uniqued: [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
