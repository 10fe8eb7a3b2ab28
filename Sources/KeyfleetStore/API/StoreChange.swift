/// What kind of change a committed transaction made, as servers sharing one database tell each other.
public enum StoreChange: String, Sendable, CaseIterable {
    /// Something effective access depends on (the ``Store/version()`` moved).
    case access
    /// A credential may have ended: a token revoked, a user, host or project deleted, a host's credential
    /// replaced. Servers forget the callers they remember.
    case credentials
}
