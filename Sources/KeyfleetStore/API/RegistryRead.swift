public import KeyfleetCore

/// The whole registry as effective access needs it, at one version of one history.
public struct VersionedRegistry: Sendable {
    /// The store version (``Store/version()``).
    public let version: UInt64
    /// What tells this history's `version` from another's with the same number (a database restored from a
    /// backup, or failed over to a copy that lost the last commits, then changed again); nil when the store
    /// keeps none for it. Pass it to ``Store/changes(after:mark:)``.
    public let mark: Int64?
    /// The registry.
    public let registry: RegistrySnapshot

    /// A registry at `version` of the history marked `mark`.
    public init(version: UInt64, mark: Int64?, registry: RegistrySnapshot) {
        self.version = version
        self.mark = mark
        self.registry = registry
    }
}

/// What changed in the registry between two versions of one history.
public struct RegistryDelta: Sendable {
    /// The version the changes reach.
    public let version: UInt64
    /// The mark of `version`, for the next ``Store/changes(after:mark:)``.
    public let mark: Int64?
    /// Each object changed after the earlier version, as it is at `version`; nil when it is gone.
    public let changes: RegistryChanges

    /// Changes up to `version` of the history marked `mark`.
    public init(version: UInt64, mark: Int64?, changes: RegistryChanges) {
        self.version = version
        self.mark = mark
        self.changes = changes
    }
}
