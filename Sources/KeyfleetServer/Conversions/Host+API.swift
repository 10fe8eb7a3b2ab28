internal import Foundation
internal import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension KeyfleetCore.Host {
    /// The host as the API shows it, with its agent's status when there is one.
    func api(agent: AgentStatus? = nil) -> Components.Schemas.Host {
        var modes = [String: Components.Schemas.LoginAccess]()
        for login in logins { modes[login.rawValue] = access(for: login).api }
        return Components.Schemas.Host(
            id: id.rawValue, project: project.rawValue, name: name, labels: .init(additionalProperties: labels), logins: logins.map(\.rawValue),
            cluster: cluster?.rawValue, address: address, access: .init(additionalProperties: modes),
            rescueKeys: .init(additionalProperties: Dictionary(uniqueKeysWithValues: rescueKeys.map { ($0.key.rawValue, $0.value.map(\.rawValue)) })),
            rescueActive: rescueActive, agent: agent?.api)
    }

    /// The host's strong entity tag: its registry fields, not its agent's reports (which would spoil `If-Match`).
    var entityTag: String { EntityTag.of(api()) }
}

extension KeyfleetCore.Host.LoginAccess {
    /// The access mode as the API shows it.
    var api: Components.Schemas.LoginAccess {
        switch self {
        case .inherited: Components.Schemas.LoginAccess(mode: .inherited)
        case .explicit(let keys): Components.Schemas.LoginAccess(mode: .explicit, keys: keys.map(\.rawValue))
        }
    }
}

extension AgentStatus {
    /// The status as the API shows it.
    var api: Components.Schemas.AgentStatus {
        Components.Schemas.AgentStatus(
            enrolled: enrolled, agentVersion: report?.agentVersion, lastReportAt: reportedAt.map(Timestamps.date),
            appliedVersion: report?.appliedVersion.map { Int64(clamping: $0) }, hostKeys: report?.hostKeys, error: report?.error,
            delivery: report?.delivery.flatMap(Components.Schemas.DeliveryMode.init(rawValue:)),
            revokedKeysOutsideBlock: report.flatMap { report in
                report.revokedKeysOutsideBlock.isEmpty
                    ? nil
                    : report.revokedKeysOutsideBlock.map {
                        Components.Schemas.StrayKey(login: $0.login, fingerprint: $0.fingerprint, line: Int32(clamping: $0.line))
                    }
            })
    }
}

extension Enrollment {
    /// The enrollment as the API shows it, expiring at `expiresAt`.
    ///
    /// The contract requires `ca_cert_hash`; a plain-HTTP server has none to pin and sends an empty string.
    func api(expiresAt: UInt64) -> Components.Schemas.Enrollment {
        Components.Schemas.Enrollment(
            token: token, expiresAt: Timestamps.date(expiresAt), serverUrl: serverURL, caCertHash: caCertHash)
    }
}
