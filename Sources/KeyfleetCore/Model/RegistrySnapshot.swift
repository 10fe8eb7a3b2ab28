/// Everything effective access depends on, as plain values: users, projects, keys, hosts and clusters.
///
/// The store builds one from a consistent read; ``EffectiveAccess`` only reads it. The server keeps one in
/// memory and moves it forward with ``apply(_:)`` as the store reports changes, so that a change costs what
/// it touches, not what the registry holds. Identifiers are unique per kind; when a list holds two objects
/// with the same identifier, the first one is kept.
public struct RegistrySnapshot: Sendable, Equatable {
    /// Users by identifier.
    public private(set) var users = ShardedDictionary<UserID, User>()
    /// Projects by identifier.
    public private(set) var projects = ShardedDictionary<ProjectID, Project>()
    /// Keys by identifier.
    public private(set) var keys = ShardedDictionary<KeyID, SSHKeyRecord>()
    /// Hosts by identifier.
    public private(set) var hosts = ShardedDictionary<HostID, Host>()
    /// Clusters by identifier.
    public private(set) var clusters = ShardedDictionary<ClusterID, Cluster>()
    /// Key identifiers by owner, sorted.
    private var keysByOwner = ShardedDictionary<KeyOwner, [KeyID]>()
    /// Host identifiers by project.
    private var hostsByProject = ShardedDictionary<ProjectID, Set<HostID>>()
    /// Project identifiers by member, whatever the role.
    private var projectsByMember = ShardedDictionary<UserID, Set<ProjectID>>()

    /// Makes a snapshot from lists of values.
    public init(users: [User] = [], projects: [Project] = [], keys: [SSHKeyRecord] = [], hosts: [Host] = [], clusters: [Cluster] = []) {
        for user in users where self.users[user.id] == nil { self.users[user.id] = user }
        for project in projects where self.projects[project.id] == nil { set(project: project) }
        for cluster in clusters where self.clusters[cluster.id] == nil { self.clusters[cluster.id] = cluster }
        var byOwner = [KeyOwner: [KeyID]]()
        for record in keys where self.keys[record.id] == nil {
            self.keys[record.id] = record
            byOwner[record.owner, default: []].append(record.id)
        }
        for (owner, ids) in byOwner { keysByOwner[owner] = ids.sorted() }
        for host in hosts where self.hosts[host.id] == nil { set(host: host) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.users == rhs.users && lhs.projects == rhs.projects && lhs.keys == rhs.keys && lhs.hosts == rhs.hosts
            && lhs.clusters == rhs.clusters
    }

    /// The keys owned by `owner`, sorted by identifier.
    public func keys(ownedBy owner: KeyOwner) -> [SSHKeyRecord] {
        (keysByOwner[owner] ?? []).compactMap { keys[$0] }
    }

    /// The hosts of `project`, in no order.
    public func hosts(in project: ProjectID) -> Set<HostID> {
        hostsByProject[project] ?? []
    }

    /// Applies `changes` (each object's state after them, nil for a removed one) and returns what they can
    /// have changed the effective access of: the projects whose hosts may see other keys, and single hosts.
    ///
    /// A host's access reads only its own record, its project (members and their roles), its project's
    /// clusters, and the keys of its project and of that project's members (``EffectiveAccess``, steps 2 and 3),
    /// so a change reaches at most: for a key, its owner project or every project of its owner user; for a user
    /// or a project or a cluster, the projects they are part of before and after; for a host, that host.
    public mutating func apply(_ changes: RegistryChanges) -> (projects: Set<ProjectID>, hosts: Set<HostID>) {
        var affectedProjects = Set<ProjectID>()
        var affectedHosts = Set<HostID>()
        for (id, user) in changes.users {
            affectedProjects.formUnion(projectsByMember[id] ?? [])
            users[id] = user
        }
        for (id, project) in changes.projects {
            affectedProjects.insert(id)
            if let old = projects[id] { remove(project: old) }
            if let project { set(project: project) }
        }
        for (id, cluster) in changes.clusters {
            if let old = clusters[id] { affectedProjects.insert(old.project) }
            if let cluster { affectedProjects.insert(cluster.project) }
            clusters[id] = cluster
        }
        for (id, record) in changes.keys {
            for owner in [keys[id]?.owner, record?.owner].compactMap({ $0 }) {
                switch owner {
                case .project(let project): affectedProjects.insert(project)
                case .user(let user): affectedProjects.formUnion(projectsByMember[user] ?? [])
                }
            }
            if let old = keys[id] { remove(key: old) }
            if let record { set(key: record) }
        }
        for (id, host) in changes.hosts {
            affectedHosts.insert(id)
            if let old = hosts[id] {
                hostsByProject[old.project]?.remove(id)
                if hostsByProject[old.project]?.isEmpty == true { hostsByProject[old.project] = nil }
            }
            hosts[id] = nil
            if let host { set(host: host) }
        }
        return (affectedProjects, affectedHosts)
    }

    private mutating func set(project: Project) {
        projects[project.id] = project
        for user in project.members.keys { projectsByMember[user, default: []].insert(project.id) }
    }

    private mutating func remove(project: Project) {
        projects[project.id] = nil
        for user in project.members.keys {
            projectsByMember[user]?.remove(project.id)
            if projectsByMember[user]?.isEmpty == true { projectsByMember[user] = nil }
        }
    }

    private mutating func set(key record: SSHKeyRecord) {
        keys[record.id] = record
        var ids = keysByOwner[record.owner] ?? []
        let index = ids.partitioningIndex { $0 >= record.id }
        if index == ids.endIndex || ids[index] != record.id { ids.insert(record.id, at: index) }
        keysByOwner[record.owner] = ids
    }

    private mutating func remove(key record: SSHKeyRecord) {
        keys[record.id] = nil
        guard var ids = keysByOwner[record.owner] else { return }
        ids.removeAll { $0 == record.id }
        keysByOwner[record.owner] = ids.isEmpty ? nil : ids
    }

    private mutating func set(host: Host) {
        hosts[host.id] = host
        hostsByProject[host.project, default: []].insert(host.id)
    }
}

/// Changes to a ``RegistrySnapshot``: each changed object's state after them, nil when it was removed.
public struct RegistryChanges: Sendable {
    /// Changed users.
    public var users: [UserID: User?] = [:]
    /// Changed projects.
    public var projects: [ProjectID: Project?] = [:]
    /// Changed keys.
    public var keys: [KeyID: SSHKeyRecord?] = [:]
    /// Changed hosts.
    public var hosts: [HostID: Host?] = [:]
    /// Changed clusters.
    public var clusters: [ClusterID: Cluster?] = [:]

    /// No changes.
    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool { users.isEmpty && projects.isEmpty && keys.isEmpty && hosts.isEmpty && clusters.isEmpty }
}

extension Array {
    /// The first index whose element satisfies `belongs`, for an array in which every element that does
    /// follows every element that does not (a binary search).
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Index {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
