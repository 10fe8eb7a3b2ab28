/// What a host's agent last told the server, as stored.
public struct AgentReport: Hashable, Sendable {
    /// The agent's version.
    public var agentVersion: String
    /// The sync version whose keys the agent has written, if it said.
    public var appliedVersion: UInt64?
    /// The host's SSH host keys as canonical OpenSSH lines (no comment).
    public var hostKeys: [String]
    /// The last error the agent met, one line, if any.
    public var error: String?
    /// How the agent hands keys to sshd (`files`, `command` or `legacy`), if it said.
    public var delivery: String?
    /// Legacy mode: lines outside the keyfleet block that carry a key revoked for their login.
    public var revokedKeysOutsideBlock: [RevokedKeyLine]

    /// A report.
    public init(
        agentVersion: String, appliedVersion: UInt64? = nil, hostKeys: [String] = [], error: String? = nil, delivery: String? = nil,
        revokedKeysOutsideBlock: [RevokedKeyLine] = []
    ) {
        self.agentVersion = agentVersion
        self.delivery = delivery
        self.appliedVersion = appliedVersion
        self.hostKeys = hostKeys
        self.error = error
        self.revokedKeysOutsideBlock = revokedKeysOutsideBlock
    }
}

/// A line of a login's `~/.ssh/authorized_keys`, outside the keyfleet block, carrying a key the registry
/// revoked for that login (legacy mode cannot stop the account's user from copying it there).
public struct RevokedKeyLine: Hashable, Sendable {
    /// The login whose file holds it.
    public var login: String
    /// The key's SHA256 fingerprint.
    public var fingerprint: String
    /// The 1-based line number.
    public var line: Int

    /// A finding.
    public init(login: String, fingerprint: String, line: Int) {
        self.login = login
        self.fingerprint = fingerprint
        self.line = line
    }

    /// As stored: `LOGIN FINGERPRINT LINE`.
    var stored: String { "\(login) \(fingerprint) \(line)" }

    /// From its stored form; nil for a malformed one.
    init?(stored: some StringProtocol) {
        let fields = stored.split(separator: " ")
        guard fields.count == 3, let line = Int(fields[2]) else { return nil }
        self.init(login: String(fields[0]), fingerprint: String(fields[1]), line: line)
    }
}

/// A host's agent as the server knows it: enrolled or not, and its last report.
public struct AgentStatus: Hashable, Sendable {
    /// Whether the host holds an unrevoked credential.
    public var enrolled: Bool
    /// The last report, or nil before the first.
    public var report: AgentReport?
    /// When the last report came, in seconds since 1970 UTC.
    public var reportedAt: UInt64?

    /// A status.
    public init(enrolled: Bool, report: AgentReport?, reportedAt: UInt64?) {
        self.enrolled = enrolled
        self.report = report
        self.reportedAt = reportedAt
    }
}
