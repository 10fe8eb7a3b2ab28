public import SSHKeys

/// Why a key reaches a login: which rule of ``EffectiveAccess`` applied.
public enum AccessSource: Hashable, Sendable {
    /// The host's own explicit list for the login.
    case host
    /// The cluster's keys (the host is in this cluster and the login is inherited).
    case cluster(ClusterID)
    /// The project's keys and its owners' and members' personal keys (inherited, no cluster).
    case project
    /// The login's rescue keys, while the host is flagged for rescue.
    case rescue
}

/// One key that may log in, with what the server renders for it.
public struct AccessEntry: Hashable, Sendable {
    /// The record the line is rendered from (when several records hold the same key, the one that expires
    /// last; among equals, the smallest identifier).
    public let keyID: KeyID
    /// Every record that granted this same key material, sorted; ``keyID`` is one of them.
    public let grantedBy: [KeyID]
    /// The name of the record ``keyID``.
    public let name: String
    /// The owner of the record ``keyID``.
    public let owner: KeyOwner
    /// The key, without comment.
    public let publicKey: PublicKey
    /// The key's SHA256 fingerprint.
    public let fingerprint: String
    /// When the key stops working, in seconds since 1970 UTC; nil for never.
    public let expiresAt: UInt64?
    /// The rule that granted the key.
    public let source: AccessSource
    /// The authorized_keys line: only options the server decides (`expiry-time` when the key expires) and
    /// the comment `keyfleet:<name>` made of safe characters only.
    public let authorizedKey: AuthorizedKey

    /// The authorized_keys line, without a line break.
    public var line: String { authorizedKey.line }
}
