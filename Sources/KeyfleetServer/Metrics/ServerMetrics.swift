internal import CoreMetrics
public import KeyfleetStore
internal import Synchronization

/// One server's metrics, recorded through swift-metrics into a Prometheus registry of its own and
/// written in the Prometheus text format by ``exposition()``.
///
/// Nothing is bootstrapped globally (`MetricsSystem` can be bootstrapped once per process, and tests run
/// many servers in one): every instrument is made with this object's factory. Labels hold only fixed
/// words: the OpenAPI operation id or the route template of a request (never its path, which holds names
/// and identifiers), its status code, a transaction's kind and outcome.
///
/// What each metric measures is said by its `# HELP` line, from ``help``.
public final class ServerMetrics: Sendable {
    /// The metrics' names, in one place.
    enum Name {
        static let requests = "keyfleet_http_requests_total"
        static let requestDuration = "keyfleet_http_request_duration_seconds"
        static let requestsInFlight = "keyfleet_http_requests_in_flight"
        static let syncsInFlight = "keyfleet_agent_syncs_in_flight"
        static let syncsWaiting = "keyfleet_agent_syncs_waiting"
        static let changeSignals = "keyfleet_change_signals_total"
        static let propagation = "keyfleet_change_propagation_seconds"
        static let propagationUnattributed = "keyfleet_change_propagation_unattributed_total"
        static let storeVersion = "keyfleet_store_version"
        static let storeUp = "keyfleet_store_up"
        static let transactionsWaiting = "keyfleet_store_transactions_waiting"
        static let transactionsInFlight = "keyfleet_store_transactions_in_flight"
        static let transactionDuration = "keyfleet_store_transaction_duration_seconds"
        static let transactionWait = "keyfleet_store_transaction_wait_seconds"
    }

    /// The `# HELP` text of every metric.
    static let help: [String: String] = [
        Name.requests: "HTTP requests answered, by route (OpenAPI operation id or route template) and status code.",
        Name.requestDuration: "Seconds from a request's arrival to its answer (agent syncs include their long-poll wait).",
        Name.requestsInFlight: "HTTP requests being answered now.",
        Name.syncsInFlight: "Agent syncs under way now: the agents connected to this server by long-poll.",
        Name.syncsWaiting: "Agent syncs waiting for a change now (long-polls parked on the change signal).",
        Name.changeSignals: "Changes signalled to waiting agent syncs (this server's changes and those seen from other servers).",
        Name.propagation:
            "Seconds from a change made through this server's API being committed and signalled to the answer of an agent sync "
            + "that was waiting for it and saw no other change meanwhile.",
        Name.propagationUnattributed:
            "Agent syncs answered with new access after a change that cannot be timed here: several changes while they waited, "
            + "or a change from another server.",
        Name.storeVersion: "The registry's change version, read from the store when metrics are collected.",
        Name.storeUp: "1 when the store answered the version read of this collection, else 0.",
        Name.transactionsWaiting: "Store transactions waiting for the store's one connection now.",
        Name.transactionsInFlight: "Store transactions holding the store's one connection now (0 or 1).",
        Name.transactionDuration: "Seconds a store transaction held the connection, by kind and outcome.",
        Name.transactionWait: "Seconds a store transaction waited for the connection, by kind.",
    ]

    private let exposer: PrometheusExposer
    private var factory: any MetricsFactory { exposer.factory }
    /// The signal of this server's changes.
    var changes: ChangeSignal { access.changes }
    /// Where agent syncs wait.
    private let access: AccessCache
    /// When this server's changes were signalled.
    let timeline = ChangeTimeline()
    private let store: any Store
    private let transactions: TransactionMonitor
    private let requestsInFlight: Meter
    let syncsInFlight: Meter
    private let syncsWaiting: Gauge
    private let changeSignals: CoreMetrics.Counter
    private let propagation: CoreMetrics.Timer
    private let propagationUnattributed: CoreMetrics.Counter
    private let storeVersion: Gauge
    private let storeUp: Gauge
    private let transactionsWaiting: Gauge
    private let transactionsInFlight: Gauge
    /// The change signal's generation at the last collection.
    private let countedGeneration: Mutex<UInt64>

    /// Metrics of a server over `store` whose agent syncs wait in `access` (its ``RegistryAPI``'s). It
    /// observes `store`'s transactions from now on, replacing any other observer of them.
    public init(store: SQLStore, access: AccessCache) {
        let exposer = PrometheusExposer(
            help: Self.help,
            durationBuckets: [
                Name.requestDuration: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90],
                Name.propagation: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
                Name.transactionDuration: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
                Name.transactionWait: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            ])
        let factory = exposer.factory
        self.exposer = exposer
        self.access = access
        self.store = store
        self.transactions = store.transactions
        requestsInFlight = Meter(label: Name.requestsInFlight, dimensions: [], factory: factory)
        syncsInFlight = Meter(label: Name.syncsInFlight, dimensions: [], factory: factory)
        syncsWaiting = Gauge(label: Name.syncsWaiting, dimensions: [], factory: factory)
        changeSignals = CoreMetrics.Counter(label: Name.changeSignals, dimensions: [], factory: factory)
        propagation = CoreMetrics.Timer(label: Name.propagation, dimensions: [], factory: factory)
        propagationUnattributed = CoreMetrics.Counter(label: Name.propagationUnattributed, dimensions: [], factory: factory)
        storeVersion = Gauge(label: Name.storeVersion, dimensions: [], factory: factory)
        storeUp = Gauge(label: Name.storeUp, dimensions: [], factory: factory)
        transactionsWaiting = Gauge(label: Name.transactionsWaiting, dimensions: [], factory: factory)
        transactionsInFlight = Gauge(label: Name.transactionsInFlight, dimensions: [], factory: factory)
        countedGeneration = Mutex(access.changes.generation)
        store.transactions.observe { finished in
            CoreMetrics.Timer(
                label: Name.transactionDuration, dimensions: [("kind", finished.kind.rawValue), ("outcome", finished.outcome.rawValue)],
                factory: factory
            ).recordNanoseconds(finished.held.nanoseconds)
            CoreMetrics.Timer(label: Name.transactionWait, dimensions: [("kind", finished.kind.rawValue)], factory: factory)
                .recordNanoseconds(finished.waited.nanoseconds)
        }
    }

    /// Brings the metrics read at collection up to date (waiting syncs, change signals, the store's version and
    /// transactions) and returns every metric in the Prometheus text format (version 0.0.4).
    public func exposition() async -> String {
        syncsWaiting.record(access.waitingSyncs)
        let generation = changes.generation
        let signalled = countedGeneration.withLock { counted in
            defer { counted = generation }
            return generation &- counted
        }
        if signalled > 0 { changeSignals.increment(by: Int64(clamping: signalled)) }
        transactionsWaiting.record(transactions.waiting)
        transactionsInFlight.record(transactions.running)
        do {
            storeVersion.record(Int64(clamping: try await store.version()))
            storeUp.record(1)
        } catch {
            storeUp.record(0)
        }
        return exposer.text()
    }

    // MARK: Recording

    /// Counts one request in flight until `body` returns.
    func inFlight<T>(_ body: () async throws -> T) async rethrows -> T {
        requestsInFlight.increment()
        defer { requestsInFlight.decrement() }
        return try await body()
    }

    /// Records one answered request: its count and duration under `route` and `status`.
    func recordRequest(route: String, status: Int, duration: Duration) {
        let dimensions = [("route", route), ("status", String(status))]
        CoreMetrics.Counter(label: Name.requests, dimensions: dimensions, factory: factory).increment()
        CoreMetrics.Timer(label: Name.requestDuration, dimensions: dimensions, factory: factory).recordNanoseconds(duration.nanoseconds)
    }

    /// Records the propagation of the change that an agent sync answered with new access at `answeredAt` was
    /// waiting for, when it can be timed: the sync saw exactly one change signal (`generationAtStart` when it
    /// arrived, the signal's generation now), and that signal was one of this server's API changes, whose time
    /// ``timeline`` holds. Anything else is counted as unattributed.
    func recordSyncAnswer(generationAtStart: UInt64, answeredAt: ContinuousClock.Instant) {
        let generation = changes.generation
        guard generation != generationAtStart else { return }
        if generation == generationAtStart &+ 1, let signalled = timeline.instant(of: generation), signalled <= answeredAt {
            propagation.recordNanoseconds((answeredAt - signalled).nanoseconds)
        } else {
            propagationUnattributed.increment()
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : whole + attoseconds / 1_000_000_000
    }
}
