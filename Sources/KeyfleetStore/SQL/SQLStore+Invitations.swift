public import KeyfleetCore
import SQLKit

extension SQLStore {
    public func invite(_ user: UserID, role: Project.Role, to project: ProjectID, by principal: Principal) async throws -> Invitation {
        try await write(by: principal) { tx in
            guard let target = try await Self.loadProject(tx.database, project) else { throw StoreError.notFound("project", project.rawValue) }
            guard try await Self.loadUser(tx.database, user) != nil else {
                throw StoreError.invalidReference("user: no user has the identifier \(user)")
            }
            if target.members[user] != nil {
                throw StoreError(
                    .conflict, "the user \(user) is already a member of the project \"\(target.name)\"", existingID: target.id.rawValue,
                    existingName: target.name)
            }
            let before = try await Self.loadInvitations(tx.database, Self.invitationOf(user, to: project)).first
            let invitation = Invitation(
                project: project, projectName: target.name, user: user, role: role, invitedBy: principal.user, invitedAt: tx.now)
            try await tx.run("DELETE FROM project_invitations WHERE project_id = \(bind: project.rawValue) AND user_id = \(bind: user.rawValue)")
            try await tx.run(
                """
                INSERT INTO project_invitations (project_id, user_id, role, invited_by, created_at) \
                VALUES (\(bind: project.rawValue), \(bind: user.rawValue), \(bind: role.rawValue), \(bind: principal.user?.rawValue), \
                \(bind: tx.nowValue))
                """)
            try await tx.audit(
                "project.invitation.create", "project", project.rawValue, before: before.map(AuditJSON.invitation),
                after: AuditJSON.invitation(invitation))
            return invitation
        }
    }

    public func invitations(to user: UserID) async throws -> [Invitation] {
        try await read { db in try await Self.loadInvitations(db, "i.user_id = \(bind: user.rawValue)") }
    }

    public func invitations(of project: ProjectID) async throws -> [Invitation] {
        try await read { db in try await Self.loadInvitations(db, "i.project_id = \(bind: project.rawValue)") }
    }

    public func acceptInvitation(to project: ProjectID, user: UserID, by principal: Principal) async throws -> Project {
        try await write(by: principal) { tx in
            guard let invitation = try await Self.loadInvitations(tx.database, Self.invitationOf(user, to: project)).first,
                let before = try await Self.loadProject(tx.database, project)
            else { throw StoreError.notFound("invitation to a project", project.rawValue) }
            var after = before
            after.members[user] = invitation.role
            try await tx.run("DELETE FROM project_invitations WHERE project_id = \(bind: project.rawValue) AND user_id = \(bind: user.rawValue)")
            try await tx.run(
                """
                INSERT INTO project_members (project_id, user_id, role) VALUES \
                (\(bind: project.rawValue), \(bind: user.rawValue), \(bind: invitation.role.rawValue))
                """)
            try await tx.audit(
                "project.invitation.accept", "project", project.rawValue, before: AuditJSON.project(before), after: AuditJSON.project(after))
            try await tx.bumpVersion()
            return after
        }
    }

    public func removeInvitation(to project: ProjectID, user: UserID, by principal: Principal) async throws {
        try await write(by: principal) { tx in
            guard let invitation = try await Self.loadInvitations(tx.database, Self.invitationOf(user, to: project)).first else {
                throw StoreError.notFound("invitation to a project", project.rawValue)
            }
            try await tx.run("DELETE FROM project_invitations WHERE project_id = \(bind: project.rawValue) AND user_id = \(bind: user.rawValue)")
            try await tx.audit("project.invitation.remove", "project", project.rawValue, before: AuditJSON.invitation(invitation), after: nil)
        }
    }

    private static func invitationOf(_ user: UserID, to project: ProjectID) -> SQLQueryString {
        "i.project_id = \(bind: project.rawValue) AND i.user_id = \(bind: user.rawValue)"
    }

    /// The invitations matching `condition` (on `project_invitations i`), with their projects' names.
    static func loadInvitations(_ db: any SQLDatabase, _ condition: SQLQueryString) async throws -> [Invitation] {
        var query: SQLQueryString = """
            SELECT i.project_id, i.user_id, i.role, i.invited_by, i.created_at, p.name AS project_name \
            FROM project_invitations i JOIN projects p ON p.id = i.project_id WHERE 
            """
        query.appendInterpolation(condition)
        query.appendLiteral(" ORDER BY i.project_id, i.user_id")
        return try await db.raw(query).all().map { row in
            let roleText = try Coding.string(row, "role")
            guard let role = Project.Role(rawValue: roleText) else { throw StoreError(.invalidInput, "the stored role \"\(roleText)\" is unknown") }
            return Invitation(
                project: try Coding.id(row, "project_id"), projectName: try Coding.string(row, "project_name"), user: try Coding.id(row, "user_id"),
                role: role, invitedBy: try Coding.optionalID(row, "invited_by"), invitedAt: try Coding.time(row, "created_at") ?? 0)
        }
    }
}
