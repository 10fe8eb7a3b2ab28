public import KeyfleetCore
public import KeyfleetStore
internal import Synchronization

/// The registry as effective access needs it, kept in memory and rebuilt only when the store's
/// ``Store/version()`` moves, with each host's rendered access and its own version.
///
/// - The whole ``RegistrySnapshot`` is loaded once, lazily; after that each new store version is reached by
///   reading only the objects that changed (``Store/changes(after:mark:)``) and applying them to a copy
///   (``RegistrySnapshot/apply(_:)``), so a change costs what it touches. Concurrent requests share one load.
///   The whole registry is read again only when the store no longer has the changes, or its history is not
///   the one in memory. A request reuses the registry without asking the store while no change was signalled
///   through ``ChangeSignal`` and the last check is younger than `freshness`; after that it reads the store's
///   version (one cheap query), so changes made by another server process are seen within `freshness`.
/// - A host's rendered access (every login's authorized_keys lines) is computed on demand with
///   ``EffectiveAccess`` and remembered until a change reaches its project or the host itself, or its first
///   expiring line expires. Its version changes only when those lines change, so a change elsewhere in the
///   registry neither wakes nor re-sends to an unrelated host. A host version is
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
        /// The mark of that version in the store's history (``VersionedRegistry/mark``).
        let mark: Int64?
        /// The registry.
        public let snapshot: RegistrySnapshot
    }

    /// How much work the cache has done since it was made.
    public struct Statistics: Sendable, Equatable {
        /// Reads of the whole registry.
        public var wholeLoads = 0
        /// Moves to a newer version by reading only what changed.
        public var changeLoads = 0
        /// Host views computed (with ``EffectiveAccess``).
        public var hostViewsComputed = 0
    }

    /// What a move from one registry to the next can have changed; nil for a whole reload.
    typealias Affected = (projects: Set<ProjectID>, hosts: Set<HostID>)

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
        /// Each login's rescue keys, whether or not the host is flagged (``EffectiveAccess/rescue(host:login:registry:now:)``).
        public let rescue: [(login: LoginName, entries: [AccessEntry])]
        /// Tells this view from every other one computed by the same cache: what the view shows (names
        /// included) can differ only between views with different serials.
        public let serial: UInt64
        /// The authorized_keys lines per login, as compared between versions.
        let lines: [[String]]

        /// Whether `user` may read this host's access: an administrator, or any member of the host's project
        /// (the handler of `getHostAccess` and the answers kept for it decide alike).
        func mayBeRead(by user: User, in registry: Registry) -> Bool {
            user.role == .admin || registry.snapshot.projects[host.project]?.members[user.id] != nil
        }

        /// Whether the view still holds at `now`, with the registry at `storeVersion` and the last change
        /// that reached this host at `changedAt`.
        func isCurrent(storeVersion: UInt64, changedAt: UInt64, now: UInt64) -> Bool {
            self.storeVersion <= storeVersion && self.storeVersion >= changedAt && now >= computedAt && (nextExpiry.map { now < $0 } ?? true)
        }
    }

    private struct State {
        var current: Registry?
        var checkedAt: ContinuousClock.Instant = .now
        var generation: UInt64 = 0
        var hosts: [HostID: HostView] = [:]
        /// Every host version issued before the store's version last went back: later ones are above it.
        var floor: UInt64 = 0
        /// The store version of the last whole reload: no view computed before it holds.
        var reloadedAt: UInt64 = 0
        /// The store version of the last change that reached each project's hosts, since the last reload.
        var projectChangedAt: [ProjectID: UInt64] = [:]
        /// The store version of the last change to each host's own record, since the last reload.
        var hostChangedAt: [HostID: UInt64] = [:]
        var statistics = Statistics()

        /// The store version of the last change that reached `host`.
        func changedAt(_ host: Host) -> UInt64 {
            max(reloadedAt, projectChangedAt[host.project] ?? 0, hostChangedAt[host.id] ?? 0)
        }

        /// Makes `built` current when it is newer, with what it changed; returns the newest registry, and
        /// whether it is `built`.
        mutating func install(_ built: Registry, affected: Affected?) -> (Registry, installed: Bool) {
            if affected == nil { statistics.wholeLoads += 1 } else { statistics.changeLoads += 1 }
            if let current, current.version > built.version { return (current, false) }
            current = built
            if let affected {
                for project in affected.projects { projectChangedAt[project] = built.version }
                for host in affected.hosts {
                    hostChangedAt[host] = built.version
                    if built.snapshot.hosts[host] == nil { hosts[host] = nil }
                }
            } else {
                reloadedAt = built.version
                projectChangedAt = [:]
                hostChangedAt = [:]
                hosts = hosts.filter { built.snapshot.hosts[$0.key] != nil }
            }
            return (built, true)
        }
    }

    let store: any Store
    /// The signal that says a change was made through this server.
    public let changes: ChangeSignal
    let freshness: Duration
    private let state = Mutex(State())
    private let builder = SnapshotBuilder()
    private let versionChecks = VersionChecks()
    /// The agent syncs waiting for a change to reach their host (``waitForChange(to:timeout:)``).
    private let syncs = WaitList<(host: HostID, project: ProjectID)>()

    /// A cache over `store`, invalidated by `changes` and re-checked after `freshness`.
    public init(store: any Store, changes: ChangeSignal, freshness: Duration = .seconds(1)) {
        self.store = store
        self.changes = changes
        self.freshness = freshness
    }

    /// How much work the cache has done since it was made.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The registry at the store's current version (within `freshness` when no change was signalled).
    public func registry() async throws -> Registry {
        let generation = changes.generation
        let started = ContinuousClock.now
        let cached = state.withLock { state -> Registry? in
            guard let current = state.current, state.generation == generation, started - state.checkedAt < freshness else { return nil }
            return current
        }
        if let cached { return cached }
        let version = try await versionChecks.version(of: store, after: generation)
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
        let held = state.withLock { $0.current }
        let built = try await builder.build(store: store, atLeast: version) { built, affected in
            let (registry, installed) = self.state.withLock { $0.install(built, affected: affected) }
            if installed {
                self.syncs.wake { waiter in affected.map { $0.hosts.contains(waiter.host) || $0.projects.contains(waiter.project) } ?? true }
            }
            return registry
        }
        let unsignalled = state.withLock { state -> Bool in
            guard state.current?.version == built.version else { return false }
            // A newer version nobody here signalled: it came from another process, or from the store directly.
            let unsignalled = held != nil && state.generation == generation
            state.checkedAt = started
            state.generation = generation
            return unsignalled
        }
        if unsignalled || wentBack { changes.changed() }
        return state.withLock { $0.current } ?? built
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
        let version = try await versionChecks.version(of: store, after: generation)
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
        let (memo, changedAt) = state.withLock { ($0.hosts[id], $0.changedAt(host)) }
        if let memo, memo.isCurrent(storeVersion: registry.version, changedAt: changedAt, now: now) {
            return (memo, registry)
        }
        let logins = host.logins.map { login in
            LoginView(
                login: login, source: EffectiveAccess.source(host: host, login: login, registry: registry.snapshot),
                entries: EffectiveAccess.compute(host: host, login: login, registry: registry.snapshot, now: now))
        }
        let rescue = host.logins.map { login in
            (login: login, entries: EffectiveAccess.rescue(host: host, login: login, registry: registry.snapshot, now: now))
        }
        let nextExpiry = (logins.flatMap(\.entries) + rescue.flatMap(\.entries)).compactMap(\.expiresAt).min()
        let lines = logins.map { [$0.login.rawValue] + $0.entries.map(\.line) }
        let view = state.withLock { state -> HostView in
            state.statistics.hostViewsComputed += 1
            let serial = UInt64(state.statistics.hostViewsComputed)
            let previous = state.hosts[id]
            let version: UInt64
            if let previous, previous.lines == lines {
                version = previous.version
            } else {
                version = max(Self.baseVersion(registry.version), (previous?.version ?? state.floor) &+ 1)
            }
            let view = HostView(
                host: host, version: version, storeVersion: registry.version, computedAt: now, nextExpiry: nextExpiry, logins: logins, rescue: rescue,
                serial: serial, lines: lines)
            if previous.map({ $0.storeVersion <= registry.version }) ?? true { state.hosts[id] = view }
            return view
        }
        return (view, registry)
    }

    // MARK: Waiting syncs

    /// The agent syncs waiting now.
    public var waitingSyncs: Int { syncs.count }

    /// Brings the registry forward after every change signalled through ``changes`` (and, as a backstop,
    /// every ``recheckInterval``), which wakes the syncs waiting for the hosts the change reached
    /// (``waitForChange(to:timeout:)``); runs until its task is cancelled. The server runs it as the
    /// ``ChangeFollower`` service. One follower, not every waiting sync, asks the store what changed, and a
    /// change wakes only the hosts it reached.
    public func followChanges() async {
        var seen = changes.generation
        while !Task.isCancelled {
            await changes.wait(after: seen, timeout: Self.recheckInterval)
            let generation = changes.generation
            do {
                _ = try await registry()
                seen = generation
            } catch {
                // The store did not answer: try again shortly, without waiting for another signal.
                guard (try? await Task.sleep(for: .milliseconds(500))) != nil else { return }
            }
        }
    }

    /// Returns when a change reaches `view`'s host after `view` was computed (at once when one already
    /// has, or the registry was dropped), when `timeout` has passed, or when the task is cancelled,
    /// whichever comes first.
    func waitForChange(to view: HostView, timeout: Duration) async {
        await syncs.wait((view.host.id, view.host.project), timeout: timeout) {
            self.state.withLock { $0.current == nil || $0.changedAt(view.host) > view.storeVersion }
        }
    }

    /// The first host version at a store version.
    static func baseVersion(_ storeVersion: UInt64) -> UInt64 {
        let clamped = min(storeVersion, (UInt64(Int64.max) >> 20) - 1)
        return (clamped + 1) << 20
    }
}

/// Reads the store's version for many requests at once: a request that needs it joins a read already under
/// way when that read began after the change signal the request saw (so it sees that change), instead of
/// starting its own. Without it, the requests that arrive together after a change each read the version.
private actor VersionChecks {
    private var running: (generation: UInt64, waiting: [CheckedContinuation<Result<UInt64, any Error>, Never>])?

    /// The store's version, read after the change signal's generation was `generation`.
    func version(of store: any Store, after generation: UInt64) async throws -> UInt64 {
        while let running {
            let result = await withCheckedContinuation { continuation in self.running?.waiting.append(continuation) }
            if running.generation >= generation { return try result.get() }
        }
        running = (generation, [])
        let result: Result<UInt64, any Error>
        do {
            result = .success(try await store.version())
        } catch {
            result = .failure(error)
        }
        let waiting = running?.waiting ?? []
        running = nil
        for continuation in waiting { continuation.resume(returning: result) }
        return try result.get()
    }
}

/// Moves the registry forward one load at a time: requests arriving during a load wait for it instead of
/// starting their own. A load reads the changes since the last registry when the store has them, the whole
/// registry otherwise, and hands what it built to `install` before any waiter sees it.
private actor SnapshotBuilder {
    private var waiting: [CheckedContinuation<Result<AccessCache.Registry, any Error>, Never>]?
    private var last: AccessCache.Registry?

    /// Forgets the last registry, which is ahead of the store's version: the store went back.
    func forget() {
        last = nil
    }

    func build(
        store: any Store, atLeast version: UInt64,
        install: @Sendable (AccessCache.Registry, AccessCache.Affected?) -> AccessCache.Registry
    ) async throws -> AccessCache.Registry {
        while true {
            if let last, last.version >= version { return last }
            if waiting != nil {
                let result = await withCheckedContinuation { continuation in waiting?.append(continuation) }
                let registry = try result.get()
                if registry.version >= version { return registry }
                continue
            }
            waiting = []
            let installed: Result<AccessCache.Registry, any Error>
            do {
                let (registry, affected) = try await load(store)
                if registry.version >= (last?.version ?? 0) { last = registry }
                installed = .success(install(registry, affected))
            } catch {
                installed = .failure(error)
            }
            let waiters = waiting ?? []
            waiting = nil
            for waiter in waiters { waiter.resume(returning: installed) }
            return try installed.get()
        }
    }

    /// The registry after the changes since `last` and what they can have changed, or the whole registry.
    private func load(_ store: any Store) async throws -> (AccessCache.Registry, AccessCache.Affected?) {
        if let last, let mark = last.mark, let delta = try await store.changes(after: last.version, mark: mark) {
            var snapshot = last.snapshot
            let affected = snapshot.apply(delta.changes)
            return (AccessCache.Registry(version: delta.version, mark: delta.mark, snapshot: snapshot), affected)
        }
        let read = try await store.snapshot()
        FreedMemory.release()
        return (AccessCache.Registry(version: read.version, mark: read.mark, snapshot: read.registry), nil)
    }
}
