internal import Foundation
internal import KeyfleetAPI
internal import KeyfleetCore
internal import SSHKeys

extension AccessEntry {
    /// The entry as the API shows it.
    var api: Components.Schemas.AccessEntry {
        Components.Schemas.AccessEntry(
            keyId: keyID.rawValue, grantedBy: grantedBy.map(\.rawValue), name: name, owner: owner.api, publicKey: publicKey.openSSHLine,
            fingerprint: fingerprint, expiresAt: expiresAt.map(Timestamps.date), rescue: source == .rescue ? true : nil, authorizedKey: line)
    }
}

extension KeyOwner {
    /// The owner as the API shows it.
    var api: Components.Schemas.KeyOwner {
        switch self {
        case .user(let user): Components.Schemas.KeyOwner(kind: .user, id: user.rawValue)
        case .project(let project): Components.Schemas.KeyOwner(kind: .project, id: project.rawValue)
        }
    }
}

extension AccessSource {
    /// The rule as the API shows it.
    var api: Components.Schemas.AccessSource {
        switch self {
        case .host: Components.Schemas.AccessSource(kind: .host)
        case .cluster(let cluster): Components.Schemas.AccessSource(kind: .cluster, cluster: cluster.rawValue)
        case .project: Components.Schemas.AccessSource(kind: .project)
        case .rescue: Components.Schemas.AccessSource(kind: .rescue)
        }
    }
}

extension AccessCache.HostView {
    /// The effective access as `getHostAccess` answers it; `only` keeps one login. `rescue` is each login's
    /// rescue keys (logins without any left out).
    func api(rescue: [(login: LoginName, entries: [AccessEntry])], only: LoginName?) -> Components.Schemas.HostAccess {
        let shown = logins.filter { only == nil || $0.login == only }
        return Components.Schemas.HostAccess(
            host: host.id.rawValue, version: Int64(clamping: version), computedAt: Timestamps.date(computedAt),
            logins: shown.map { view in
                // A login without a rule (its project is gone) gets no keys; it is shown as the project's.
                Components.Schemas.LoginAccessResult(login: view.login.rawValue, source: (view.source ?? .project).api, keys: view.entries.map(\.api))
            },
            rescueActive: host.rescueActive,
            rescue: rescue.filter { !$0.entries.isEmpty && (only == nil || $0.login == only) }.map { login, entries in
                Components.Schemas.LoginAccessResult(login: login.rawValue, source: AccessSource.rescue.api, keys: entries.map(\.api))
            })
    }
}
