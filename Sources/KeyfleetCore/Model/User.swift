/// A person (or a robot account) who holds API tokens and may own personal keys.
public struct User: Hashable, Sendable, Identifiable {
    /// What a user may do across the whole registry.
    public enum Role: String, Hashable, Sendable, Codable, CaseIterable {
        /// May manage every project, user and host.
        case admin
        /// May act only within the projects they belong to, as their project role allows.
        case user
    }

    /// The user's identifier.
    public let id: UserID
    /// The display name (checked by ``NamePolicy``).
    public private(set) var name: String
    /// The global role. Being an administrator gives no SSH access: only project membership does.
    public var role: Role

    /// Makes a user, checking the name.
    public init(id: UserID, name: String, role: Role = .user) throws(PolicyError) {
        try NamePolicy.validate(name)
        self.id = id
        self.name = name
        self.role = role
    }

    /// Renames the user, checking the new name.
    public mutating func rename(_ newName: String) throws(PolicyError) {
        try NamePolicy.validate(newName)
        name = newName
    }
}
