import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import SSHKeys
import Testing

/// People, a project and keys made directly through the store, for the host, cluster and agent tests.
struct HostWorld: Sendable {
    let project: Project
    let owner: (id: UserID, token: String)
    let member: (id: UserID, token: String)
    let viewer: (id: UserID, token: String)
    let stranger: (id: UserID, token: String)
    let projectKey: SSHKeyRecord
    let memberKey: SSHKeyRecord
    let strangerKey: SSHKeyRecord

    static func make(_ registry: TestRegistry, project name: String = "web") async throws -> HostWorld {
        let owner = try await registry.person("owner-\(name)")
        let member = try await registry.person("member-\(name)")
        let viewer = try await registry.person("viewer-\(name)")
        let stranger = try await registry.person("stranger-\(name)")
        let project = try await registry.store.createProject(name: name, by: .system)
        _ = try await registry.store.setMember(owner.id, role: .owner, in: project.id, by: .system)
        _ = try await registry.store.setMember(member.id, role: .member, in: project.id, by: .system)
        let updated = try await registry.store.setMember(viewer.id, role: .viewer, in: project.id, by: .system)
        let projectKey = try await registry.key("deploy", owner: .project(project.id), by: owner.id)
        let memberKey = try await registry.key("laptop", owner: .user(member.id), by: member.id)
        let strangerKey = try await registry.key("other", owner: .user(stranger.id), by: stranger.id)
        registry.api.changes.changed()
        return HostWorld(
            project: updated, owner: owner, member: member, viewer: viewer, stranger: stranger, projectKey: projectKey, memberKey: memberKey,
            strangerKey: strangerKey)
    }
}

extension TestRegistry {
    /// A user with a read-write token.
    func person(_ name: String, role: User.Role = .user) async throws -> (id: UserID, token: String) {
        let user = try await store.createUser(name: name, role: role, by: .system)
        let token = Secrets.make(.apiToken)
        _ = try await store.createToken(user: user.id, tokenHash: Secrets.hash(token), scope: .readWrite, by: .system)
        return (user.id, token)
    }

    /// A fresh Ed25519 key stored for `owner`.
    func key(_ name: String, owner: KeyOwner, expiresAt: UInt64? = nil, by creator: UserID) async throws -> SSHKeyRecord {
        let key = try PrivateKey.generate(.ed25519).publicKey
        let record = try await store.createKey(NewKey(name: name, owner: owner, publicKey: key, expiresAt: expiresAt), by: Principal(user: creator))
        api.changes.changed()
        return record
    }
}

extension TestClientProtocol {
    /// Creates a host as `token` with `body` and returns the answer.
    func createHost(_ token: String, _ body: [String: Any]) async throws -> JSONAnswer {
        try await call(.post, "/v1/hosts", token: token, json: body)
    }

    /// Enrolls with `token`; returns the credential and host.
    func enroll(_ token: String) async throws -> JSONAnswer {
        try await call(.post, "/v1/agent/enroll", token: nil, json: ["token": token])
    }
}

extension JSONAnswer {
    /// `object[a][b]...` as a dictionary.
    func dictionary(_ key: String) -> [String: Any] { object[key] as? [String: Any] ?? [:] }
}
