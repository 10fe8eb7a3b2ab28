public import KeyfleetCore
public import KeyfleetStore
internal import Synchronization

/// The registry as effective access needs it, kept in memory and rebuilt only when the store's
/// ``Store/version()`` moves, with each host's rendered access and its own version.
///
/// - The whole ``RegistrySnapshot`` is loaded lazily, once per store version (concurrent requests share one
///   load). A request reuses the snapshot without asking the store while no change was signalled through
///   ``ChangeSignal`` and the last check is younger than `freshness`; after that it reads the store's version
///   (one cheap query), so changes made by another server process are seen within `freshness`.
/// - A host's rendered access (every login's authorized_keys lines) is computed on demand with
///   ``EffectiveAccess`` and remembered. Its version changes only when those lines change, so a change
///   elsewhere in the registry neither wakes nor re-sends to an unrelated host. A host version is
///   `storeVersion << 20` when the lines changed with the store, plus one for each later change by expiry at
///   the same store version: opaque, non-decreasing while the server runs, never 0.
/// - When the store's version goes back (a restored database, a failover that lost the last commits), what
///   is in memory is dropped and reloaded, and host versions keep rising above every one issued before, so
///   that no agent keeps access the store no longer grants.
public final class AccessCache: Sendable {
    /// One consistent registry and the store version it reflects.
    public struct Registry: Sendable {
        /// The store version.
        public let version: UInt64
        /// The registry.
        public let snapshot: RegistrySnapshot
    }

    /// One login's access on a host.
    public struct LoginView: Sendable {
        /// The login.
        public let login: LoginName
        /// The rule that applies, nil when none does (the project is gone).
        public let source: AccessSource?
        /// The keys, as ``EffectiveAccess/compute(host:login:registry:now:)`` gives them.
        public let entries: [AccessEntry]
    }

    /// A host's rendered access at one store version and time.
    public struct HostView: Sendable {
        /// The host.
        public let host: Host
        /// The host's access version (what the agent's sync compares).
        public let version: UInt64
        /// The store version it was computed from.
        public let storeVersion: UInt64
        /// When it was computed, in seconds since 1970 UTC.
        public let computedAt: UInt64
        /// When its first expiring line expires (the view is stale from then on), or nil.
        public let nextExpiry: UInt64?
        /// Every login of the host, in order.
        public let logins: [LoginView]
        /// The authorized_keys lines per login, as compared between versions.
        let lines: [[String]]

        func isCurrent(storeVersion: UInt64, now: UInt64) -> Bool {
            self.storeVersion == storeVersion && now >= computedAt && (nextExpiry.map { now < $0 } ?? true)
        }
    }

    private struct State {
        var current: Registry?
        var checkedAt: ContinuousClock.Instant = .now
        var generation: UInt64 = 0
        var hosts: [HostID: HostView] = [:]
        /// Every host version issued before the store's version last went back: later ones are above it.
        var floor: UInt64 = 0
    }

    let store: any Store
    /// The signal that says a change was made through this server.
    public let changes: ChangeSignal
    let freshness: Duration
    private let state = Mutex(State())
    private let builder = SnapshotBuilder()

    /// A cache over `store`, invalidated by `changes` and re-checked after `freshness`.
    public init(store: any Store, changes: ChangeSignal, freshness: Duration = .seconds(1)) {
        self.store = store
        self.changes = changes
        self.freshness = freshness
    }

    /// The registry at the store's current version (within `freshness` when no change was signalled).
    public func registry() async throws -> Registry {
        let generation = changes.generation
        let started = ContinuousClock.now
        let cached = state.withLock { state -> Registry? in
            guard let current = state.current, state.generation == generation, started - state.checkedAt < freshness else { return nil }
            return current
        }
        if let cached { return cached }
        let version = try await store.version()
        let unchanged = state.withLock { state -> Registry? in
            guard let current = state.current, current.version == version else { return nil }
            state.checkedAt = started
            state.generation = generation
            return current
        }
        if let unchanged { return unchanged }
        // The store's version went back: the database was restored, or failed over to a copy that had not
        // received the last commits. What is in memory may hold changes the store no longer has: forget it.
        let wentBack = state.withLock { state -> Bool in
            guard let current = state.current, current.version > version else { return false }
            state.floor = max(state.floor, state.hosts.values.map(\.version).max() ?? 0)
            state.current = nil
            state.hosts = [:]
            return true
        }
        if wentBack { await builder.forget() }
        let built = try await builder.build(store: store, atLeast: version)
        let (newest, unsignalled) = state.withLock { state -> (Registry, Bool) in
            if let current = state.current, current.version > built.version { return (current, false) }
            // A newer version nobody here signalled: it came from another process, or from the store directly.
            let unsignalled = state.current != nil && state.generation == generation
            state.current = built
            state.checkedAt = started
            state.generation = generation
            state.hosts = state.hosts.filter { built.snapshot.hosts[$0.key] != nil }
            return (built, unsignalled)
        }
        if unsignalled || wentBack { changes.changed() }
        return newest
    }

    /// The registry in memory when it is loaded and still at the store's version (checked as ``registry()``
    /// checks it: at most once per `freshness` without a signal); nil otherwise, without loading anything, so
    /// single-object reads can use it when it is there and go to the store when it is not.
    public func loadedRegistry() async throws -> Registry? {
        let generation = changes.generation
        let started = ContinuousClock.now
        let (fresh, loaded) = state.withLock { state -> (Registry?, Registry?) in
            guard let current = state.current else { return (nil, nil) }
            if state.generation == generation, started - state.checkedAt < freshness { return (current, current) }
            return (nil, current)
        }
        if let fresh { return fresh }
        guard let loaded else { return nil }
        let version = try await store.version()
        guard loaded.version == version else { return nil }
        state.withLock { state in
            if state.current?.version == version {
                state.checkedAt = started
                state.generation = generation
            }
        }
        return loaded
    }

    /// The rendered access of host `id` at `now`, or nil when there is no such host.
    public func host(_ id: HostID, now: UInt64) async throws -> (view: HostView, registry: Registry)? {
        let registry = try await registry()
        guard let host = registry.snapshot.hosts[id] else { return nil }
        if let memo = state.withLock({ $0.hosts[id] }), memo.isCurrent(storeVersion: registry.version, now: now) {
            return (memo, registry)
        }
        let logins = host.logins.map { login in
            LoginView(
                login: login, source: EffectiveAccess.source(host: host, login: login, registry: registry.snapshot),
                entries: EffectiveAccess.compute(host: host, login: login, registry: registry.snapshot, now: now))
        }
        let nextExpiry = logins.flatMap(\.entries).compactMap(\.expiresAt).min()
        let lines = logins.map { [$0.login.rawValue] + $0.entries.map(\.line) }
        let view = state.withLock { state -> HostView in
            let previous = state.hosts[id]
            let version: UInt64
            if let previous, previous.lines == lines {
                version = previous.version
            } else {
                version = max(Self.baseVersion(registry.version), (previous?.version ?? state.floor) &+ 1)
            }
            let view = HostView(
                host: host, version: version, storeVersion: registry.version, computedAt: now, nextExpiry: nextExpiry, logins: logins, lines: lines)
            if previous.map({ $0.storeVersion <= registry.version }) ?? true { state.hosts[id] = view }
            return view
        }
        return (view, registry)
    }

    /// The first host version at a store version.
    static func baseVersion(_ storeVersion: UInt64) -> UInt64 {
        let clamped = min(storeVersion, (UInt64(Int64.max) >> 20) - 1)
        return (clamped + 1) << 20
    }
}

/// Loads snapshots one at a time: requests arriving during a load wait for it instead of starting their own.
private actor SnapshotBuilder {
    private var waiting: [CheckedContinuation<Result<AccessCache.Registry, any Error>, Never>]?
    private var last: AccessCache.Registry?

    /// Forgets the last snapshot, which is ahead of the store's version: the store went back.
    func forget() {
        last = nil
    }

    func build(store: any Store, atLeast version: UInt64) async throws -> AccessCache.Registry {
        while true {
            if let last, last.version >= version { return last }
            if waiting != nil {
                let result = await withCheckedContinuation { continuation in waiting?.append(continuation) }
                let registry = try result.get()
                if registry.version >= version { return registry }
                continue
            }
            waiting = []
            let result: Result<AccessCache.Registry, any Error>
            do {
                let (storeVersion, snapshot) = try await store.snapshot()
                result = .success(AccessCache.Registry(version: storeVersion, snapshot: snapshot))
            } catch {
                result = .failure(error)
            }
            let waiters = waiting ?? []
            waiting = nil
            if case .success(let registry) = result, registry.version >= (last?.version ?? 0) { last = registry }
            for waiter in waiters { waiter.resume(returning: result) }
            return try result.get()
        }
    }
}
