public import KeyfleetCore

/// The objects whose names a caller wants, by identifier (API answers show names beside identifiers).
public struct NameQuery: Sendable, Equatable {
    public var users = Set<UserID>()
    public var projects = Set<ProjectID>()
    public var keys = Set<KeyID>()
    public var clusters = Set<ClusterID>()

    public init() {}

    public var isEmpty: Bool { users.isEmpty && projects.isEmpty && keys.isEmpty && clusters.isEmpty }

    /// Adds every identifier of `other`.
    public mutating func formUnion(_ other: NameQuery) {
        users.formUnion(other.users)
        projects.formUnion(other.projects)
        keys.formUnion(other.keys)
        clusters.formUnion(other.clusters)
    }
}

/// The names found for a ``NameQuery``; an object that no longer exists has none.
public struct NameBook: Sendable, Equatable {
    public var users = [UserID: String]()
    public var projects = [ProjectID: String]()
    public var keys = [KeyID: String]()
    public var clusters = [ClusterID: String]()

    public init() {}
}
