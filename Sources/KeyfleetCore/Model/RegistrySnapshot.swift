/// Everything effective access depends on, as plain values: users, projects, keys, hosts and clusters.
///
/// The store builds one from a consistent read; ``EffectiveAccess`` only reads it. Identifiers are unique
/// per kind; when a list holds two objects with the same identifier, the first one is kept.
public struct RegistrySnapshot: Sendable {
    /// Users by identifier.
    public let users: [UserID: User]
    /// Projects by identifier.
    public let projects: [ProjectID: Project]
    /// Keys by identifier.
    public let keys: [KeyID: SSHKeyRecord]
    /// Hosts by identifier.
    public let hosts: [HostID: Host]
    /// Clusters by identifier.
    public let clusters: [ClusterID: Cluster]
    /// Key identifiers by owner, sorted.
    let keysByOwner: [KeyOwner: [KeyID]]

    /// Makes a snapshot from lists of values.
    public init(users: [User] = [], projects: [Project] = [], keys: [SSHKeyRecord] = [], hosts: [Host] = [], clusters: [Cluster] = []) {
        func index<Value: Identifiable>(_ values: [Value]) -> [Value.ID: Value] {
            Dictionary(values.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        self.users = index(users)
        self.projects = index(projects)
        let keyIndex = index(keys)
        self.keys = keyIndex
        self.hosts = index(hosts)
        self.clusters = index(clusters)
        var byOwner = [KeyOwner: [KeyID]]()
        for record in keyIndex.values { byOwner[record.owner, default: []].append(record.id) }
        keysByOwner = byOwner.mapValues { $0.sorted() }
    }

    /// The keys owned by `owner`, sorted by identifier.
    public func keys(ownedBy owner: KeyOwner) -> [SSHKeyRecord] {
        (keysByOwner[owner] ?? []).compactMap { keys[$0] }
    }
}
