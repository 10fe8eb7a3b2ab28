internal import KeyfleetAPI
internal import KeyfleetCore

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
