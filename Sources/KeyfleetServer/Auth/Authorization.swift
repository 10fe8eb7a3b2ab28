internal import KeyfleetCore
internal import KeyfleetStore

/// The role rules of the API description, in one place.
///
/// Administrators may do everything. A project's owners manage it (members, hosts, clusters, project
/// keys); its members and viewers read it. Every user manages their own personal keys and tokens.
/// What a caller may not see is reported as not found, so existence is not revealed.
extension RegistryAPI {
    /// The user behind the current request; 401 for a host or no credential.
    func currentUser() throws -> (user: User, token: APIToken) {
        guard case .user(let user, let token) = Caller.current else { throw APIProblem.unauthorized() }
        return (user, token)
    }

    /// The principal the audit log records for the current request.
    var principal: Principal { Caller.current.principal }

    /// The current user's role in `project`, or nil when they have none (administrators: `.owner`).
    func role(in project: Project) throws -> Project.Role? {
        let user = try currentUser().user
        if user.role == .admin { return .owner }
        return project.members[user.id]
    }

    /// The project, if the current user may read it; 404 otherwise.
    func readableProject(_ id: ProjectID) async throws -> Project {
        guard let project = try await store.project(id), try role(in: project) != nil else {
            throw APIProblem.notFound("project", id.rawValue)
        }
        return project
    }

    /// The project, if the current user owns it (or is an administrator); 404 when they may not read it,
    /// 403 when they may read but not manage it.
    func managedProject(_ id: ProjectID) async throws -> Project {
        let project = try await readableProject(id)
        guard try role(in: project) == .owner else {
            throw APIProblem.forbidden("only the project's owners may change it")
        }
        return project
    }

    /// The current user's standing on a key: `.owner` for an administrator and for the person whose key it
    /// is, their role in the project for a project key, nil when they have none. `project` looks a project up
    /// (in the store, or in a snapshot).
    private func standing(on key: SSHKeyRecord, project: (ProjectID) async throws -> Project?) async throws -> Project.Role? {
        let user = try currentUser().user
        if user.role == .admin { return .owner }
        switch key.owner {
        case .user(let owner): return owner == user.id ? .owner : nil
        case .project(let projectID): return try await project(projectID)?.members[user.id]
        }
    }

    /// Whether the current user may read a key: their own, any key of a project they belong to, or any key
    /// at all for an administrator.
    func mayRead(_ key: SSHKeyRecord) async throws -> Bool {
        try await standing(on: key, project: { try await store.project($0) }) != nil
    }

    /// ``mayRead(_:)`` answered from a consistent snapshot of the registry instead of the store.
    func mayRead(_ key: SSHKeyRecord, in snapshot: RegistrySnapshot) async throws -> Bool {
        try await standing(on: key, project: { snapshot.projects[$0] }) != nil
    }

    /// Whether the current user may change or delete a key: their own personal key, a key of a project
    /// they own, or any key for an administrator.
    func mayChange(_ key: SSHKeyRecord) async throws -> Bool {
        try await standing(on: key, project: { try await store.project($0) }) == .owner
    }

    /// 403 unless the current user is an administrator.
    func requireAdmin() throws {
        guard try currentUser().user.role == .admin else {
            throw APIProblem.forbidden("only administrators may do this")
        }
    }

    /// An identifier from a path or body, 404 when it cannot name anything.
    func identifier<Subject>(_ text: String, _ kind: String, as type: Identifier<Subject>.Type = Identifier<Subject>.self) throws -> Identifier<
        Subject
    > {
        guard let id = Identifier<Subject>(rawValue: text) else { throw APIProblem.notFound(kind, String(text.prefix(64))) }
        return id
    }
}
