/// A group of hosts and the people who work on them.
///
/// A member's personal keys reach the project's hosts when their role ``Role/grantsHostAccess``: owners and
/// members do, viewers do not. Removing a member (or making them a viewer) removes their personal keys from
/// every host of the project, whichever way those keys reached it.
public struct Project: Hashable, Sendable, Identifiable {
    /// A member's role in one project.
    public enum Role: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
        /// Manages the project: members, hosts, clusters, project keys.
        case owner
        /// Works on the project's hosts: their personal keys reach them.
        case member
        /// Reads the project (hosts, keys, audit) but never logs in: their personal keys reach no host.
        /// A viewer is someone who should see, not touch; granting SSH would make the role meaningless.
        case viewer

        /// Whether a member with this role has their personal keys on the project's hosts.
        public var grantsHostAccess: Bool { self != .viewer }

        private var rank: Int {
            switch self {
            case .owner: 0
            case .member: 1
            case .viewer: 2
            }
        }

        /// Orders owner before member before viewer.
        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    }

    /// The project's identifier.
    public let id: ProjectID
    /// The project's name (checked by ``NamePolicy``).
    public private(set) var name: String
    /// The members and their roles; one role per user.
    public var members: [UserID: Role]

    /// Makes a project, checking the name.
    public init(id: ProjectID, name: String, members: [UserID: Role] = [:]) throws(PolicyError) {
        try NamePolicy.validate(name)
        self.id = id
        self.name = name
        self.members = members
    }

    /// Renames the project, checking the new name.
    public mutating func rename(_ newName: String) throws(PolicyError) {
        try NamePolicy.validate(newName)
        name = newName
    }

    /// The users whose personal keys reach this project's hosts (owners and members, not viewers).
    public var usersWithHostAccess: [UserID] {
        members.filter { $0.value.grantsHostAccess }.keys.sorted()
    }
}
