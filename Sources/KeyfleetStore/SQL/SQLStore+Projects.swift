public import KeyfleetCore
import SQLKit

extension SQLStore {
    public func createProject(name: String, by principal: Principal) async throws -> Project {
        try await insertProject(name: name, owner: nil, by: principal)
    }

    public func createProject(name: String, owner: UserID, by principal: Principal) async throws -> Project {
        try await insertProject(name: name, owner: owner, by: principal)
    }

    private func insertProject(name: String, owner: UserID?, by principal: Principal) async throws -> Project {
        try await write(by: principal) { tx in
            var project = try Project(id: tx.newID(), name: name)
            if let owner {
                guard try await Self.loadUser(tx.database, owner) != nil else {
                    throw StoreError.invalidReference("owner: no user has the identifier \(owner)")
                }
                project.members[owner] = .owner
            }
            try await Self.checkProjectName(tx, project)
            try await tx.run(
                "INSERT INTO projects (id, name, created_at) VALUES (\(bind: project.id.rawValue), \(bind: project.name), \(bind: tx.nowValue))")
            if let owner {
                try await tx.run(
                    "INSERT INTO project_members (project_id, user_id, role) VALUES (\(bind: project.id.rawValue), \(bind: owner.rawValue), 'owner')")
            }
            try await tx.audit("project.create", "project", project.id.rawValue, before: nil, after: AuditJSON.project(project))
            try await tx.bumpVersion()
            return project
        }
    }

    public func project(_ id: ProjectID) async throws -> Project? {
        try await read { db in try await Self.loadProject(db, id) }
    }

    public func project(named name: String) async throws -> Project? {
        try await read { db in
            try await Loaders.projects(db, try await db.raw("SELECT * FROM projects WHERE name = \(bind: name)").all()).first
        }
    }

    static func loadProject(_ db: any SQLDatabase, _ id: ProjectID) async throws -> Project? {
        try await Loaders.projects(db, try await db.raw("SELECT * FROM projects WHERE id = \(bind: id.rawValue)").all()).first
    }

    public func projects(member: UserID?, page: PageRequest) async throws -> Page<Project> {
        try await projects(member: member, named: nil, page: page)
    }

    public func projects(member: UserID?, named name: String?, page: PageRequest) async throws -> Page<Project> {
        let after = try Coding.position(page.cursor) ?? ""
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM projects WHERE id > \(bind: after)"
            if let name {
                query.appendLiteral(" AND name = ")
                query.appendInterpolation(bind: name)
            }
            if let member {
                query.appendLiteral(" AND id IN (SELECT project_id FROM project_members WHERE user_id = ")
                query.appendInterpolation(bind: member.rawValue)
                query.appendLiteral(")")
            }
            query.appendLiteral(" ORDER BY id LIMIT \(page.limit + 1)")
            let projects = try await Loaders.projects(db, try await db.raw(query).all())
            return Coding.page(projects, limit: page.limit) { $0.id.rawValue }
        }
    }

    public func updateProject(_ id: ProjectID, by principal: Principal, _ change: @Sendable (inout Project) throws -> Void) async throws -> Project {
        try await changeProject(id, action: "project.update", by: principal, change)
    }

    public func setMember(_ user: UserID, role: Project.Role, in project: ProjectID, by principal: Principal) async throws -> Project {
        try await changeProject(project, action: "project.member.set", by: principal) { $0.members[user] = role }
    }

    public func removeMember(_ user: UserID, from project: ProjectID, by principal: Principal) async throws -> Project {
        try await changeProject(project, action: "project.member.remove", by: principal) { project in
            guard project.members.removeValue(forKey: user) != nil else {
                throw StoreError.notFound("member of the project", user.rawValue)
            }
        }
    }

    private func changeProject(
        _ id: ProjectID, action: String, by principal: Principal, _ change: @Sendable (inout Project) throws -> Void
    ) async throws -> Project {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadProject(tx.database, id) else { throw StoreError.notFound("project", id.rawValue) }
            var after = before
            try change(&after)
            if before.members.values.contains(.owner), !after.members.values.contains(.owner) {
                throw StoreError(
                    .conflict, "the change would leave the project \"\(before.name)\" without an owner", existingID: before.id.rawValue,
                    existingName: before.name)
            }
            if after.name != before.name {
                try await Self.checkProjectName(tx, after)
                try await tx.run("UPDATE projects SET name = \(bind: after.name) WHERE id = \(bind: id.rawValue)")
            }
            if after.members != before.members {
                let users = after.members.keys.map(\.rawValue)
                if !users.isEmpty {
                    let found = try await tx.all("SELECT id FROM users WHERE id IN (\(binds: users))").map { try Coding.string($0, "id") }
                    if let missing = Set(users).subtracting(found).sorted().first {
                        throw StoreError.invalidReference("members: no user has the identifier \(missing)")
                    }
                }
                try await tx.run("DELETE FROM project_members WHERE project_id = \(bind: id.rawValue)")
                // A member added directly (by an administrator) no longer needs the invitation they had.
                if !users.isEmpty {
                    try await tx.run("DELETE FROM project_invitations WHERE project_id = \(bind: id.rawValue) AND user_id IN (\(binds: users))")
                }
                for (user, role) in after.members.sorted(by: { $0.key < $1.key }) {
                    try await tx.run(
                        """
                        INSERT INTO project_members (project_id, user_id, role) VALUES \
                        (\(bind: id.rawValue), \(bind: user.rawValue), \(bind: role.rawValue))
                        """)
                }
            }
            try await tx.audit(action, "project", id.rawValue, before: AuditJSON.project(before), after: AuditJSON.project(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func deleteProject(_ id: ProjectID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let before = try await Self.loadProject(tx.database, id) else { throw StoreError.notFound("project", id.rawValue) }
            // What goes with the project, each with its own audit entry: hosts first (their agents learn it
            // through the retired credentials), then clusters, then keys.
            let project = id.rawValue
            for host in try await Loaders.hosts(tx.database, try await tx.all("SELECT * FROM hosts WHERE project_id = \(bind: project) ORDER BY id"))
            {
                try await Self.removeHost(tx, host)
            }
            let clusters = try await tx.all("SELECT * FROM clusters WHERE project_id = \(bind: project) ORDER BY id")
            for cluster in try await Loaders.clusters(tx.database, clusters) {
                try await Self.removeCluster(tx, cluster)
            }
            let keys = try await tx.all("SELECT * FROM ssh_keys WHERE owner_project_id = \(bind: project) ORDER BY id")
            for key in try await Loaders.keys(tx.database, keys) {
                try await Self.removeKey(tx, key)
            }
            try await tx.run("DELETE FROM projects WHERE id = \(bind: project)")
            try await tx.announce(.credentials)
            try await tx.audit("project.delete", "project", project, before: AuditJSON.project(before), after: nil)
            try await tx.bumpVersion()
        }
    }

    static func checkProjectName(_ tx: Transaction, _ project: Project) async throws {
        if let row = try await tx.first("SELECT id, name FROM projects WHERE name = \(bind: project.name) AND id <> \(bind: project.id.rawValue)") {
            throw StoreError.conflict("a project with this name", id: try Coding.string(row, "id"), name: try Coding.string(row, "name"))
        }
    }
}
