internal import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension Components.Schemas.Project {
    /// The project with its members in user identifier order.
    init(_ project: Project) {
        self.init(
            id: project.id.rawValue, name: project.name,
            members: project.members.sorted { $0.key < $1.key }.map { user, role in
                Components.Schemas.ProjectMember(user: user.rawValue, role: Components.Schemas.ProjectRole(role))
            })
    }
}

extension Components.Schemas.ProjectRole {
    /// A role as the API names it.
    init(_ role: Project.Role) {
        switch role {
        case .owner: self = .owner
        case .member: self = .member
        case .viewer: self = .viewer
        }
    }

    /// The role as the registry keeps it.
    var model: Project.Role {
        switch self {
        case .owner: .owner
        case .member: .member
        case .viewer: .viewer
        }
    }
}

extension Components.Schemas.Invitation {
    /// An open invitation as the API shows it.
    init(_ invitation: Invitation) {
        self.init(
            project: invitation.project.rawValue, projectName: invitation.projectName, user: invitation.user.rawValue,
            role: Components.Schemas.ProjectRole(invitation.role), invitedBy: invitation.invitedBy?.rawValue,
            invitedAt: Timestamps.date(invitation.invitedAt))
    }
}
