/// A group of hosts in one project that share a key list, as in Hetzner's Cluster API.
///
/// A host in a cluster gets the cluster's keys instead of the inherited project set, for every login left
/// in ``Host/LoginAccess/inherited`` mode; a host's own explicit list for a login overrides the cluster's.
public struct Cluster: Hashable, Sendable, Identifiable {
    /// The cluster's identifier.
    public let id: ClusterID
    /// The project the cluster and its hosts belong to.
    public let project: ProjectID
    /// The cluster's name (checked by ``NamePolicy``).
    public private(set) var name: String
    /// The cluster-wide keys, in the order given (effective access sorts them).
    public var keys: [KeyID]

    /// Makes a cluster, checking the name.
    public init(id: ClusterID, project: ProjectID, name: String, keys: [KeyID] = []) throws(PolicyError) {
        try NamePolicy.validate(name)
        self.id = id
        self.project = project
        self.name = name
        self.keys = keys
    }

    /// Renames the cluster, checking the new name.
    public mutating func rename(_ newName: String) throws(PolicyError) {
        try NamePolicy.validate(newName)
        name = newName
    }
}
