public import KeyfleetCore

/// One change, as the append-only audit log records it.
public struct AuditEntry: Hashable, Sendable {
    /// The entry's position in the log (1, 2, ...).
    public let sequence: UInt64
    /// When the change was made, in seconds since 1970 UTC.
    public let at: UInt64
    /// The user who made it, or nil for the server itself.
    public let user: UserID?
    /// The API token used, if any.
    public let token: TokenID?
    /// What was done: `key.create`, `project.member.set`, `host.update`, ...
    public let action: String
    /// The kind of object changed: `user`, `token`, `project`, `key`, `host`, `cluster`.
    public let objectType: String
    /// The identifier of the object changed.
    public let objectID: String
    /// The object before the change as JSON (keys sorted), or nil for a creation.
    public let before: String?
    /// The object after the change as JSON (keys sorted), or nil for a deletion.
    public let after: String?

    /// An entry.
    public init(
        sequence: UInt64, at: UInt64, user: UserID?, token: TokenID?, action: String, objectType: String, objectID: String, before: String?,
        after: String?
    ) {
        self.sequence = sequence
        self.at = at
        self.user = user
        self.token = token
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.before = before
        self.after = after
    }
}

/// Which audit entries a listing returns; nil fields do not filter.
public struct AuditFilter: Hashable, Sendable {
    /// Entries at or after this time.
    public var since: UInt64?
    /// Entries made by this user.
    public var actor: UserID?
    /// Entries about this kind of object.
    public var objectType: String?
    /// Entries about this object.
    public var objectID: String?
    /// Entries of this action (`key.create`), or of every action under a prefix that ends in a dot (`key.`);
    /// lower-case letters, dots and dashes only.
    public var action: String?

    /// A filter.
    public init(since: UInt64? = nil, actor: UserID? = nil, objectType: String? = nil, objectID: String? = nil, action: String? = nil) {
        self.action = action
        self.since = since
        self.actor = actor
        self.objectType = objectType
        self.objectID = objectID
    }
}
