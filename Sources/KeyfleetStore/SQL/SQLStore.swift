import KeyfleetCore
import SQLKit
import Synchronization

/// The ``Store`` over SQLKit: the same SQL runs on SQLite (``open(dataDirectory:clock:makeID:logger:)``)
/// and PostgreSQL (``open(databaseURL:clock:makeID:connectTimeout:logger:)``); what differs is in
/// ``SQLFlavor`` and the ``DatabaseLink``.
///
/// All work goes through one connection, one transaction at a time (a ``SerialGate``): SQLite allows one
/// writer anyway, and it keeps every check-then-write (unique names, one-time tokens) free of races within a
/// process. Between processes on one PostgreSQL database, transactions are `SERIALIZABLE`: one that would
/// see another's concurrent change fails and is run again from the start (``DatabaseLink/classify(_:)``), so
/// the checks hold there too.
public final class SQLStore: Store {
    let link: any DatabaseLink
    var flavor: SQLFlavor { link.flavor }
    let clock: @Sendable () -> UInt64
    let makeID: @Sendable () -> String
    let gate = SerialGate()
    /// Agents' reports waiting for the transaction that writes them together (see ``recordAgentReport(_:host:)``).
    let reports = ReportQueue()
    /// Whether ``close()`` ran, so that release does not close a second time.
    private let closed = Mutex(false)

    /// How many times a transaction that lost a race with another process is run again.
    static let attempts = 8

    /// A store over `link`'s database, migrated before use.
    ///
    /// - Parameters:
    ///   - clock: the time now, in seconds since 1970 UTC.
    ///   - makeID: a new unique identifier text each call (a lower-case UUID in production).
    init(link: any DatabaseLink, clock: @escaping @Sendable () -> UInt64, makeID: @escaping @Sendable () -> String) async throws {
        self.link = link
        self.clock = clock
        self.makeID = makeID
        try await exclusive(begin: nil) { database in
            try await Migrations.run(on: database, flavor: link.flavor, now: clock())
        }
    }

    deinit {
        if !closed.withLock({ $0 }) { link.closeWhenReleased() }
    }

    /// The connection, for tests that look below the store's API.
    func connection() async throws -> any SQLDatabase { try await link.database() }

    /// The engine's name: `sqlite` or `postgresql`.
    public var engine: String { flavor.name }
    /// Whether committed changes are announced to every server on the database (PostgreSQL), so that
    /// ``listenForChanges(_:logger:)`` hears them.
    public var announcesChanges: Bool { flavor.changeChannel != nil }

    /// Waits for the running transaction, then closes the database. Call it before releasing the store;
    /// a store released without it still closes its database, without waiting.
    public func close() async throws {
        await gate.acquire()
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        do {
            if first { try await link.close() }
        } catch {
            await gate.release()
            throw error
        }
        await gate.release()
    }

    // MARK: Transactions

    /// Runs `body` in a write transaction: committed when it returns, rolled back when it throws.
    func write<R>(by principal: Principal, _ body: (Transaction) async throws -> R) async throws -> R {
        try await exclusive(begin: flavor.beginWrite) { database in
            try await body(
                Transaction(database: database, flavor: flavor, now: clock(), principal: principal, makeID: makeID, changed: ChangedObjects()))
        }
    }

    /// Runs `body` in a read transaction, so that it sees one consistent state.
    func read<R>(_ body: (any SQLDatabase) async throws -> R) async throws -> R {
        try await exclusive(begin: flavor.beginRead, body)
    }

    /// What the transactions do (waiting, running, how each ended and how long it took), for metrics.
    public let transactions = TransactionMonitor()

    /// Runs `body` holding the gate, in a transaction started by `begin` (or, when nil, by `body` itself),
    /// again from the start when it lost a race with another process, at most ``attempts`` times. Every
    /// attempt is counted in ``transactions``.
    private func exclusive<R>(begin: String?, _ body: (any SQLDatabase) async throws -> R) async throws -> R {
        let kind: TransactionMonitor.Kind = begin == nil ? .migration : begin == flavor.beginWrite ? .write : .read
        var attempt = 1
        while true {
            let queuedAt = transactions.queue()
            await gate.acquire()
            let ticket = transactions.start(kind, queuedAt: queuedAt)
            let result: Result<R, any Error>
            do {
                let database = try await link.database()
                // Writers on several servers take turns (see SQLFlavor.writeTurn), before their snapshot.
                let turn = kind == .write ? flavor.writeTurn : nil
                if let turn { try await database.raw(SQLQueryString(turn.take)).run() }
                do {
                    if let begin { try await database.raw(SQLQueryString(begin)).run() }
                    do {
                        let value = try await body(database)
                        if begin != nil { try await database.raw("COMMIT").run() }
                        result = .success(value)
                    } catch {
                        if begin != nil { try? await database.raw("ROLLBACK").run() }
                        throw error
                    }
                } catch {
                    // A failure to give the turn back means the connection, and with it the turn, is gone.
                    if let turn { try? await database.raw(SQLQueryString(turn.give)).run() }
                    throw error
                }
                if let turn { try? await database.raw(SQLQueryString(turn.give)).run() }
            } catch {
                result = .failure(error)
            }
            var failure: DatabaseFailure?
            if case .failure(let error) = result { failure = link.classify(error) }
            transactions.finish(ticket, .init(failure, runsAgain: attempt < Self.attempts))
            await gate.release()
            guard let failure else { return try result.get() }
            switch failure {
            case .retry where attempt < Self.attempts:
                attempt += 1
                // A short random pause, growing with each attempt, so that two processes do not collide again.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << min(attempt, 6)))))
            case .retry:
                throw StoreError(.database, "a transaction lost \(Self.attempts) races with other servers in a row; try again")
            case .unavailable(let reason):
                throw StoreError(.unavailable, reason)
            case .error(let error):
                throw error
            }
        }
    }
}

/// Where a store's SQL runs: the engine's connection, made again after it was lost, and what its errors mean.
protocol DatabaseLink: Sendable {
    /// The engine's SQL differences.
    var flavor: SQLFlavor { get }
    /// The connection to run the next transaction on (connecting again when the last one was lost).
    func database() async throws -> any SQLDatabase
    /// What an error from a transaction means.
    func classify(_ error: any Error) -> DatabaseFailure
    /// Closes the connection.
    func close() async throws
    /// Starts closing the connection without waiting, for a store released without ``SQLStore/close()``.
    func closeWhenReleased()
}

/// What a failed transaction means to the store.
enum DatabaseFailure {
    /// It lost a race with another process (a serialization failure, a deadlock, a unique key taken between
    /// the check and the insert): run it again, and the checks say what is now true.
    case retry
    /// The database cannot be reached; the reason, in one line without secrets.
    case unavailable(String)
    /// Anything else, as it was thrown.
    case error(any Error)
}

/// One write transaction: the database, the time of the change, who makes it, and the audit and version
/// bookkeeping every change needs.
struct Transaction {
    let database: any SQLDatabase
    let flavor: SQLFlavor
    let now: UInt64
    let principal: Principal
    let makeID: @Sendable () -> String
    /// The objects effective access reads that this transaction changed, recorded by ``bumpVersion()``.
    let changed: ChangedObjects

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

    /// Appends the change to the audit log, and records the object as changed when effective access reads it.
    func audit(_ action: String, _ objectType: String, _ objectID: String, before: String?, after: String?) async throws {
        if RegistryChangeLog.objectTypes.contains(objectType) { changed.insert(objectType, objectID) }
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

    /// Increments the change version (for every change that can alter effective access), records what the
    /// transaction changed at the new version with its mark (``RegistryChangeLog``), and forgets changes older
    /// than the log keeps.
    func bumpVersion() async throws {
        try await run("UPDATE registry_state SET version = version + 1 WHERE id = 1")
        let version = try await SQLStore.loadVersion(database)
        let stored = Int64(clamping: version)
        let mark = Int64(bitPattern: UInt64.random(in: 1...UInt64.max))
        try await run(
            """
            INSERT INTO registry_versions (version, mark) VALUES (\(bind: stored), \(bind: mark)) \
            ON CONFLICT (version) DO UPDATE SET mark = excluded.mark
            """)
        // A version whose number a lost history used (a restore, a failover) keeps only this history's changes.
        try await run("DELETE FROM registry_changes WHERE version = \(bind: stored)")
        let objects = changed.take()
        for start in stride(from: 0, to: objects.count, by: 200) {
            let rows = objects[start..<min(start + 200, objects.count)].map { object -> SQLQueryString in
                "(\(bind: stored), \(bind: object.type), \(bind: object.id))"
            }
            try await run("INSERT INTO registry_changes (version, object_type, object_id) VALUES " + rows.joined(separator: ", "))
        }
        if version % RegistryChangeLog.pruneEvery == 0, version > RegistryChangeLog.kept {
            let oldest = Int64(clamping: version - RegistryChangeLog.kept)
            try await run("DELETE FROM registry_versions WHERE version < \(bind: oldest)")
            try await run("DELETE FROM registry_changes WHERE version <= \(bind: oldest)")
        }
        try await announce(.access)
    }

    /// Records as changed every object of `objectType` whose identifier `select` (a query of one column,
    /// `object_id`) gives: the rows a cascade is about to change.
    func touchAll(_ objectType: String, _ select: SQLQueryString) async throws {
        for row in try await all(select) { changed.insert(objectType, try Coding.string(row, "object_id")) }
    }

    /// Tells other servers on the same database, when the transaction commits, what kind of change it made
    /// (PostgreSQL's `NOTIFY`; nothing on SQLite, where servers read the version instead).
    func announce(_ change: StoreChange) async throws {
        guard let channel = flavor.changeChannel else { return }
        try await run("SELECT pg_notify(\(bind: channel), \(bind: change.rawValue))")
    }

    /// Replaces the labels of one object.
    func setLabels(_ objectType: String, _ objectID: String, _ labels: [String: String]) async throws {
        try await run("DELETE FROM labels WHERE object_type = \(bind: objectType) AND object_id = \(bind: objectID)")
        for (name, value) in labels.sorted(by: { $0.key < $1.key }) {
            try await run(
                """
                INSERT INTO labels (object_type, object_id, name, value) \
                VALUES (\(bind: objectType), \(bind: objectID), \(bind: name), \(bind: value))
                """
            )
        }
    }

    /// Throws ``StoreError/Code-swift.struct/invalidReference`` unless every key exists.
    func requireKeys(_ keys: [KeyID], field: String) async throws {
        try await requireExisting("ssh_keys", keys.map(\.rawValue), field: field, noun: "key")
    }

    /// Throws an invalid reference naming the first (in order) of `ids` that `table` has no row for; looks
    /// them up 500 at a time.
    func requireExisting(_ table: String, _ ids: [String], field: String, noun: String) async throws {
        for chunk in Array(Set(ids)).sorted().chunks(of: 500) {
            let found = Set(
                try await all("SELECT id FROM \(unsafeRaw: table) WHERE id IN (\(binds: Array(chunk)))").map { try Coding.string($0, "id") })
            if let missing = chunk.first(where: { !found.contains($0) }) {
                throw StoreError.invalidReference("\(field): no \(noun) has the identifier \(missing)")
            }
        }
    }
}

extension Array where Element: Hashable {
    /// The elements without repeats, first occurrence kept.
    var uniqued: [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }

    /// The first element that appears a second time, if any.
    var firstRepeated: Element? {
        var seen = Set<Element>()
        return first { !seen.insert($0).inserted }
    }
}

extension Array {
    /// The elements in consecutive slices of at most `size`.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

/// The objects a write transaction changed, as ``RegistryChangeLog`` records them, each once.
final class ChangedObjects: Sendable {
    private let objects = Mutex<(list: [(type: String, id: String)], seen: Set<String>)>(([], []))

    /// Records that the transaction changed too much to list (``RegistryChangeLog/everything``): what was
    /// recorded and is recorded after it is dropped.
    func insertEverything() {
        objects.withLock { objects in
            objects = ([(RegistryChangeLog.everything, "")], [RegistryChangeLog.everything])
        }
    }

    /// Records object `id` of `type`.
    func insert(_ type: String, _ id: String) {
        objects.withLock { objects in
            guard !objects.seen.contains(RegistryChangeLog.everything) else { return }
            if objects.seen.insert(type + " " + id).inserted { objects.list.append((type, id)) }
        }
    }

    /// Every object recorded since the last call, in order.
    func take() -> [(type: String, id: String)] {
        objects.withLock { objects in
            defer { objects = ([], []) }
            return objects.list
        }
    }
}
