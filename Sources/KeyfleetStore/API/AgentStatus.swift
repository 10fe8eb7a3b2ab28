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

    /// A report.
    public init(agentVersion: String, appliedVersion: UInt64? = nil, hostKeys: [String] = [], error: String? = nil) {
        self.agentVersion = agentVersion
        self.appliedVersion = appliedVersion
        self.hostKeys = hostKeys
        self.error = error
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
