/// A line of a user's `~/.ssh/authorized_keys`, outside the keyfleet block (legacy mode), carrying a key the
/// agent once delivered to that login and the registry no longer grants it: most likely copied out of the
/// block by the account's user. The agent reports it and never touches it (the line is the user's).
public struct StrayKey: Hashable, Sendable, Comparable {
    /// The login whose file holds the line.
    public var login: String
    /// The key's SHA256 fingerprint (`SHA256:...`).
    public var fingerprint: String
    /// The 1-based line number in that file.
    public var line: Int

    /// A finding.
    public init(login: String, fingerprint: String, line: Int) {
        self.login = login
        self.fingerprint = fingerprint
        self.line = line
    }

    public static func < (lhs: StrayKey, rhs: StrayKey) -> Bool {
        (lhs.login, lhs.line, lhs.fingerprint) < (rhs.login, rhs.line, rhs.fingerprint)
    }
}
