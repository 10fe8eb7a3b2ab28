import KeyfleetCore
import KeyfleetStore
import SSHKeys
import Testing

/// The change log (``Store/changes(after:mark:)``): a registry moved forward by the changes the store reports
/// is the registry the store holds, and what ``RegistrySnapshot/apply(_:)`` says it affected covers every host
/// whose access changed.
@Suite("The registry's change log")
struct StoreChangesTests {
    /// A small generator with a seed, so that a failing sequence can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Every login's lines and rule on every host.
    static func access(_ registry: RegistrySnapshot, now: UInt64) -> [HostID: [String]] {
        var result = [HostID: [String]]()
        for host in registry.hosts.values {
            result[host.id] = host.logins.flatMap { login in
                let source = EffectiveAccess.source(host: host, login: login, registry: registry).map { "\($0)" } ?? "none"
                return ["\(login.rawValue) \(source)"] + EffectiveAccess.compute(host: host, login: login, registry: registry, now: now).map(\.line)
            }
        }
        return result
    }

    /// The objects that differ between two registries, by kind and identifier.
    static func differences(_ lhs: RegistrySnapshot, _ rhs: RegistrySnapshot) -> [String] {
        func compare<ID: Comparable, Value: Equatable>(_ kind: String, _ a: ShardedDictionary<ID, Value>, _ b: ShardedDictionary<ID, Value>)
            -> [String]
        {
            Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }.map { "\(kind) \($0)" }
        }
        return compare("user", lhs.users, rhs.users) + compare("project", lhs.projects, rhs.projects) + compare("key", lhs.keys, rhs.keys)
            + compare("host", lhs.hosts, rhs.hosts) + compare("cluster", lhs.clusters, rhs.clusters)
    }

    @Test("random changes: the registry moved forward by the change log equals a whole read, and every host whose access changed is named")
    func randomChanges() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix(state: seed)
        let f = try await Fixture()
        let store = f.store
        let by = f.principal
        let deploy = try LoginName("deploy")
        var held = try await store.snapshot()
        var names = 0
        func name(_ prefix: String) -> String {
            names += 1
            return "\(prefix)-\(names)"
        }
        for step in 0..<160 {
            let registry = try await store.snapshot().registry
            let users = registry.users.values.map(\.id).filter { $0 != f.admin.id }.sorted()
            let projects = registry.projects.keys.sorted()
            let keys = registry.keys.keys.sorted()
            let hosts = registry.hosts.keys.sorted()
            let clusters = registry.clusters.values.sorted { $0.id < $1.id }
            func some<T>(_ values: [T]) -> T? { values.isEmpty ? nil : values[Int.random(in: 0..<values.count, using: &random)] }
            func someKeys() -> [KeyID] { keys.filter { _ in Int.random(in: 0..<4, using: &random) == 0 } }
            // One to three changes between reads, so that a read spans several versions.
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                switch Int.random(in: 0..<17, using: &random) {
                case 0: _ = try? await store.createUser(name: name("user"), role: .user, by: by)
                case 1: if let user = some(users) { try? await store.deleteUser(user, by: by) }
                case 2:
                    let renamed = name("renamed")
                    if let user = some(users) { _ = try? await store.updateUser(user, by: by) { try $0.rename(renamed) } }
                case 3: _ = try? await store.createProject(name: name("project"), by: by)
                case 4:
                    if let user = some(users + [f.admin.id]), let project = some(projects) {
                        _ = try? await store.setMember(user, role: some(Project.Role.allCases) ?? .member, in: project, by: by)
                    }
                case 5:
                    if let user = some(users), let project = some(projects) { _ = try? await store.removeMember(user, from: project, by: by) }
                case 6:
                    if Int.random(in: 0..<3, using: &random) == 0, let project = some(projects) { try? await store.deleteProject(project, by: by) }
                case 7, 8:
                    let owner: KeyOwner? =
                        Bool.random(using: &random) ? some(users + [f.admin.id]).map { .user($0) } : some(projects).map { .project($0) }
                    let material = Int.random(in: 0..<4, using: &random) == 0 ? some(keys).flatMap { registry.keys[$0]?.publicKey } : nil
                    let expiry: UInt64? = Bool.random(using: &random) ? f.determinism.now + UInt64.random(in: 1...1000, using: &random) : nil
                    if let owner {
                        _ = try? await store.createKey(
                            NewKey(name: name("key"), owner: owner, publicKey: try material ?? TestKey.ed25519(), comment: "", expiresAt: expiry),
                            by: by)
                    }
                case 9:
                    let renamed = name("renamed")
                    if let key = some(keys) { _ = try? await store.updateKey(key, by: by) { record, _ in try record.rename(renamed) } }
                case 10: if let key = some(keys) { try? await store.deleteKey(key, by: by) }
                case 11:
                    if let project = some(projects) {
                        let cluster = some(clusters.filter { $0.project == project }.map(\.id) + [nil, nil])
                        let access: [LoginName: Host.LoginAccess] = Bool.random(using: &random) ? [deploy: .explicit(someKeys())] : [:]
                        let rescue = Bool.random(using: &random)
                        let (hostName, rescueKeys) = (name("host"), someKeys())
                        _ = try? await store.createHost(by: by) {
                            try Host(
                                id: $0, project: project, name: hostName, logins: [.root, deploy], cluster: cluster ?? nil, access: access,
                                rescueKeys: [.root: rescueKeys], rescueActive: rescue)
                        }
                    }
                case 12:
                    if let host = some(hosts), let project = registry.hosts[host]?.project {
                        let cluster = some(clusters.filter { $0.project == project }.map(\.id) + [nil])
                        let explicit = someKeys()
                        let flip = Bool.random(using: &random)
                        _ = try? await store.updateHost(host, by: by) {
                            $0.cluster = cluster ?? nil
                            try $0.setAccess(explicit.isEmpty ? .inherited : .explicit(explicit), for: deploy)
                            if flip { $0.rescueActive.toggle() }
                        }
                    }
                case 13: if let host = some(hosts) { try? await store.deleteHost(host, by: by) }
                case 14:
                    if let project = some(projects) {
                        let (chosen, clusterName) = (someKeys(), name("cluster"))
                        _ = try? await store.createCluster(by: by) { try Cluster(id: $0, project: project, name: clusterName, keys: chosen) }
                    }
                case 15:
                    if let cluster = some(clusters) {
                        let chosen = someKeys()
                        _ = try? await store.updateCluster(cluster.id, by: by) { $0.keys = chosen }
                    }
                default: if let cluster = some(clusters) { try? await store.deleteCluster(cluster.id, by: by) }
                }
            }
            if Int.random(in: 0..<5, using: &random) == 0 { f.determinism.advance(by: UInt64.random(in: 0...400, using: &random)) }

            let whole = try await store.snapshot()
            let mark = try #require(held.mark, "the store has no mark for version \(held.version)")
            let delta = try #require(
                try await store.changes(after: held.version, mark: mark), "seed \(seed), step \(step): no changes after \(held.version)")
            var moved = held.registry
            let affected = moved.apply(delta.changes)
            #expect(delta.version == whole.version && delta.mark == whole.mark, "seed \(seed), step \(step)")
            let differences = Self.differences(moved, whole.registry)
            #expect(differences.isEmpty, "seed \(seed), step \(step): the registry moved by the change log is not the store's: \(differences)")
            let now = f.determinism.now
            let before = Self.access(held.registry, now: now)
            for (host, lines) in Self.access(whole.registry, now: now) where before[host] != lines {
                let project = try #require(whole.registry.hosts[host]).project
                #expect(
                    affected.hosts.contains(host) || affected.projects.contains(project),
                    "seed \(seed), step \(step): host \(host)'s access changed but the change names neither it nor its project")
            }
            held = whole
        }
    }

    @Test("another history at the same version, a version the store never had, or one ahead of it: no changes, read everything")
    func otherHistories() async throws {
        let f = try await Fixture()
        _ = try await f.store.createProject(name: "web", by: f.principal)
        let held = try await f.store.snapshot()
        let mark = try #require(held.mark)
        _ = try await f.store.createProject(name: "db", by: f.principal)
        #expect(try await f.store.changes(after: held.version, mark: mark) != nil)
        #expect(try await f.store.changes(after: held.version, mark: mark &+ 1) == nil)
        #expect(try await f.store.changes(after: held.version + 100, mark: mark) == nil)
        let current = try await f.store.snapshot()
        let currentMark = try #require(current.mark)
        let unchanged = try #require(try await f.store.changes(after: current.version, mark: currentMark))
        #expect(unchanged.version == current.version && unchanged.changes.isEmpty)
    }
}
