import Synchronization

/// What a ``SQLStore``'s transactions do, for the server's metrics: how many wait for the store's one
/// connection, how many hold it, and how each one ended and how long it took.
///
/// The store runs one transaction at a time on one connection (SQLite's single writer, or the one
/// PostgreSQL connection of this process), so ``running`` is 0 or 1 and ``waiting`` is the queue in front
/// of it: there is no larger pool to report.
public final class TransactionMonitor: Sendable {
    /// What a transaction was for.
    public enum Kind: String, Sendable, CaseIterable {
        /// A read-only transaction that sees one consistent state.
        case read
        /// A change and its audit entry.
        case write
        /// The migrations run when the store opens.
        case migration
    }

    /// How a transaction ended.
    public enum Outcome: String, Sendable, CaseIterable {
        /// It committed (or, for a read, finished).
        case committed
        /// Its body threw (a refusal such as a name already taken, or an error) and it was rolled back.
        case rolledBack = "rolled_back"
        /// It lost a race with another server process and is run again from the start.
        case retried
        /// The database could not be reached.
        case unavailable
    }

    /// One finished transaction.
    public struct Finished: Sendable {
        /// What it was for.
        public let kind: Kind
        /// How it ended.
        public let outcome: Outcome
        /// How long it waited for the connection.
        public let waited: Duration
        /// How long it held the connection, from its start to its commit or rollback.
        public let held: Duration
    }

    /// A transaction holding the connection.
    struct Ticket {
        let kind: Kind
        let queuedAt: ContinuousClock.Instant
        let startedAt: ContinuousClock.Instant
    }

    private struct State {
        var waiting = 0
        var running = 0
        var observer: (@Sendable (Finished) -> Void)?
    }

    private let state = Mutex(State())

    /// A monitor with nothing counted and no observer.
    public init() {}

    /// Transactions waiting for the connection now.
    public var waiting: Int { state.withLock { $0.waiting } }

    /// Transactions holding the connection now (0 or 1).
    public var running: Int { state.withLock { $0.running } }

    /// Calls `observer` after every transaction from now on (and no longer the one given before); nil stops.
    /// It is called on the task that ran the transaction, so it must be quick and must not wait.
    public func observe(_ observer: (@Sendable (Finished) -> Void)?) {
        state.withLock { $0.observer = observer }
    }

    /// Counts a transaction that starts waiting for the connection; returns when it started waiting.
    func queue() -> ContinuousClock.Instant {
        state.withLock { $0.waiting += 1 }
        return .now
    }

    /// Moves a transaction from waiting to holding the connection.
    func start(_ kind: Kind, queuedAt: ContinuousClock.Instant) -> Ticket {
        state.withLock { state in
            state.waiting -= 1
            state.running += 1
        }
        return Ticket(kind: kind, queuedAt: queuedAt, startedAt: .now)
    }

    /// Counts a transaction that released the connection, ending with `outcome`, and tells the observer.
    func finish(_ ticket: Ticket, _ outcome: Outcome) {
        let end = ContinuousClock.now
        let observer = state.withLock { state in
            state.running -= 1
            return state.observer
        }
        observer?(Finished(kind: ticket.kind, outcome: outcome, waited: ticket.startedAt - ticket.queuedAt, held: end - ticket.startedAt))
    }
}

extension TransactionMonitor.Outcome {
    /// How a transaction that failed as `failure` (nil: it did not fail) ended; `runsAgain` says whether a
    /// lost race is run again.
    init(_ failure: DatabaseFailure?, runsAgain: Bool) {
        switch failure {
        case nil: self = .committed
        case .retry? where runsAgain: self = .retried
        case .unavailable?: self = .unavailable
        case .retry?, .error?: self = .rolledBack
        }
    }
}
