public import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Enrollment

    public func createEnrollmentToken(host: HostID, tokenHash: [UInt8], expiresAt: UInt64, by principal: Principal) async throws {
        try await createEnrollmentToken(host: host, tokenHash: tokenHash, expiresAt: expiresAt, revokingCredentials: false, by: principal)
    }

    public func createEnrollmentToken(
        host: HostID, tokenHash: [UInt8], expiresAt: UInt64, revokingCredentials: Bool, by principal: Principal
    ) async throws {
        let hash = try Coding.digest(tokenHash, field: "the enrollment token hash")
        try await write(by: principal) { tx in
            guard try await tx.first("SELECT id FROM hosts WHERE id = \(bind: host.rawValue)") != nil else {
                throw StoreError.notFound("host", host.rawValue)
            }
            try await Self.insertEnrollmentToken(tx, host: host, hash: hash, expiresAt: expiresAt)
            if revokingCredentials {
                let revoked = try await tx.all(
                    "SELECT id FROM host_credentials WHERE host_id = \(bind: host.rawValue) AND revoked_at IS NULL ORDER BY id"
                ).map { try Coding.string($0, "id") }
                if !revoked.isEmpty {
                    try await tx.run(
                        "UPDATE host_credentials SET revoked_at = \(bind: tx.nowValue) WHERE host_id = \(bind: host.rawValue) AND revoked_at IS NULL")
                    try await tx.announce(.credentials)
                    try await tx.audit(
                        "host.credential.revoke", "host", host.rawValue, before: AuditJSON.render(["credentials": .strings(revoked)]), after: nil)
                }
            }
        }
    }

    /// Inserts a one-time enrollment token (its hash as stored) for an existing host inside `tx`, audited.
    static func insertEnrollmentToken(_ tx: Transaction, host: HostID, hash: String, expiresAt: UInt64) async throws {
        if let row = try await tx.first("SELECT id FROM enrollment_tokens WHERE token_hash = \(bind: hash)") {
            let id = try Coding.string(row, "id")
            throw StoreError.conflict("an enrollment token with this hash", id: id, name: id)
        }
        let id = tx.makeID()
        try await tx.run(
            """
            INSERT INTO enrollment_tokens (id, host_id, token_hash, expires_at, used_at, created_at) VALUES \
            (\(bind: id), \(bind: host.rawValue), \(bind: hash), \(bind: Int64(clamping: expiresAt)), NULL, \(bind: tx.nowValue))
            """)
        try await tx.audit(
            "host.enrollment-token.create", "host", host.rawValue, before: nil,
            after: AuditJSON.render(["enrollmentToken": .string(id), "expiresAt": .integer(expiresAt)]))
    }

    // MARK: Agents

    public func agentStatus(of hosts: [HostID]) async throws -> [HostID: AgentStatus] {
        let ids = Array(Set(hosts.map(\.rawValue))).sorted()
        guard !ids.isEmpty else { return [:] }
        return try await read { db in
            var result = [HostID: AgentStatus]()
            for row in try await db.raw(
                "SELECT DISTINCT host_id FROM host_credentials WHERE revoked_at IS NULL AND host_id IN (\(binds: ids))"
            ).all() {
                result[try Coding.id(row, "host_id")] = AgentStatus(enrolled: true, report: nil, reportedAt: nil)
            }
            for row in try await db.raw("SELECT * FROM host_agents WHERE host_id IN (\(binds: ids))").all() {
                let host: HostID = try Coding.id(row, "host_id")
                let keys = try Coding.string(row, "host_keys")
                let report = AgentReport(
                    agentVersion: try Coding.string(row, "agent_version"),
                    appliedVersion: try row.decode(column: "applied_version", as: Int64?.self).map { UInt64(clamping: $0) },
                    hostKeys: keys.isEmpty ? [] : keys.split(separator: "\n").map(String.init),
                    error: try row.decode(column: "error", as: String?.self),
                    delivery: try row.decode(column: "delivery", as: String?.self),
                    revokedKeysOutsideBlock: (try row.decode(column: "revoked_outside", as: String?.self) ?? "").split(separator: "\n")
                        .compactMap(RevokedKeyLine.init(stored:)))
                result[host] = AgentStatus(enrolled: result[host]?.enrolled ?? false, report: report, reportedAt: try Coding.time(row, "reported_at"))
            }
            return result
        }
    }

    public func enroll(tokenHash: [UInt8], credentialHash: [UInt8]) async throws -> HostID? {
        let hash = try Coding.digest(tokenHash, field: "the enrollment token hash")
        let credential = try Coding.digest(credentialHash, field: "the credential hash")
        return try await write(by: .system) { tx in
            guard
                let row = try await tx.first(
                    """
                    SELECT id, host_id FROM enrollment_tokens WHERE token_hash = \(bind: hash) AND used_at IS NULL \
                    AND expires_at > \(bind: tx.nowValue)
                    """)
            else { return nil }
            let tokenID = try Coding.string(row, "id")
            let host: HostID = try Coding.id(row, "host_id")
            // The guard `used_at IS NULL` again makes the consumption atomic even on an engine that runs
            // transactions concurrently: only one UPDATE can match.
            try await tx.run("UPDATE enrollment_tokens SET used_at = \(bind: tx.nowValue) WHERE id = \(bind: tokenID) AND used_at IS NULL")
            guard try await tx.first("SELECT used_at FROM enrollment_tokens WHERE id = \(bind: tokenID) AND used_at = \(bind: tx.nowValue)") != nil
            else {
                return nil
            }
            let credentialID = tx.makeID()
            try await tx.run(
                """
                INSERT INTO host_credentials (id, host_id, credential_hash, created_at, revoked_at) VALUES \
                (\(bind: credentialID), \(bind: host.rawValue), \(bind: credential), \(bind: tx.nowValue), NULL)
                """)
            try await tx.audit(
                "host.enroll", "host", host.rawValue, before: nil,
                after: AuditJSON.render(["enrollmentToken": .string(tokenID), "credential": .string(credentialID)]))
            return host
        }
    }

    public func host(credentialHash: [UInt8]) async throws -> HostID? {
        let hash = try Coding.digest(credentialHash, field: "the credential hash")
        return try await read { db in
            try await db.raw("SELECT host_id FROM host_credentials WHERE credential_hash = \(bind: hash) AND revoked_at IS NULL").first()
                .map { try Coding.id($0, "host_id") }
        }
    }

    public func isRetiredHostCredential(_ credentialHash: [UInt8]) async throws -> Bool {
        let hash = try Coding.digest(credentialHash, field: "the credential hash")
        return try await read { db in
            try await db.raw("SELECT host_id FROM retired_host_credentials WHERE credential_hash = \(bind: hash)").first() != nil
        }
    }
}
