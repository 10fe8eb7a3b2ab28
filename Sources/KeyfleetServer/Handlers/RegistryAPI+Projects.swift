public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    public func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        let user = try currentUser().user
        let page = try PageRequest.fromQuery(limit: input.query.limit, cursor: input.query.cursor)
        let name = try nameFromQuery(input.query.name)
        let projects = try await store.projects(member: user.role == .admin ? nil : user.id, named: name, page: page)
        let items = try await named(projects.items.map(Components.Schemas.Project.init))
        return .ok(.init(body: .json(.init(items: items, nextCursor: projects.nextCursor))))
    }

    public func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let user = try currentUser().user
        let project = try await store.createProject(name: body.name, owner: user.id, by: principal)
        logger.info("project created", metadata: ["project.id": "\(project.id)"])
        let answer = Components.Schemas.Project(project)
        return .created(
            .init(headers: .init(location: "/v1/projects/\(project.id.rawValue)", eTag: EntityTag.of(answer)), body: .json(try await named(answer))))
    }

    public func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output {
        let project = try await readableProject(try identifier(input.path.projectId, "project"))
        let answer = Components.Schemas.Project(project)
        let tag = EntityTag.of(answer)
        if EntityTag.ifNoneMatch(input.headers.ifNoneMatch, matches: tag) {
            return .notModified(.init(headers: .init(eTag: tag)))
        }
        return .ok(.init(headers: .init(eTag: tag), body: .json(try await named(answer))))
    }

    public func deleteProject(_ input: Operations.DeleteProject.Input) async throws -> Operations.DeleteProject.Output {
        let project = try await managedProject(try identifier(input.path.projectId, "project"))
        try EntityTag.check(ifMatch: input.headers.ifMatch, current: EntityTag.of(Components.Schemas.Project(project)))
        // Deleting a project with hosts takes every key off them: only on purpose, with If-Match.
        if input.headers.ifMatch == nil, !(try await store.hosts(HostFilter(project: project.id), page: PageRequest(limit: 1)).items.isEmpty) {
            throw APIProblem.preconditionRequired(
                "the project \"\(project.name)\" still has hosts, which would lose every key; "
                    + "delete it with If-Match (keyfleet project delete --force)")
        }
        try await store.deleteProject(project.id, by: principal)
        logger.info("project deleted", metadata: ["project.id": "\(project.id)"])
        return .noContent(.init())
    }

    public func setProjectMember(_ input: Operations.SetProjectMember.Input) async throws -> Operations.SetProjectMember.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let project = try await managedProject(try identifier(input.path.projectId, "project"))
        guard let user = UserID(rawValue: input.path.userId) else {
            throw StoreError(.invalidReference, "user: no user has the identifier \(input.path.userId.prefix(64))")
        }
        // Membership by consent: only an administrator adds someone directly. An owner's request for a user
        // who is not yet a member is an invitation, and nothing of theirs reaches the project until they accept.
        if try currentUser().user.role != .admin, project.members[user] == nil {
            let invitation = try await store.invite(user, role: body.role.model, to: project.id, by: principal)
            logger.info("project invitation", metadata: ["project.id": "\(project.id)", "user.id": "\(user)"])
            return .accepted(.init(body: .json(try await named(Components.Schemas.Invitation(invitation)))))
        }
        let changed = try await store.setMember(user, role: body.role.model, in: project.id, by: principal)
        let answer = Components.Schemas.Project(changed)
        return .ok(.init(headers: .init(eTag: EntityTag.of(answer)), body: .json(try await named(answer))))
    }

    public func removeProjectMember(_ input: Operations.RemoveProjectMember.Input) async throws -> Operations.RemoveProjectMember.Output {
        let project = try await managedProject(try identifier(input.path.projectId, "project"))
        let user: UserID = try identifier(input.path.userId, "member")
        // Not a member: withdraw their invitation, if there is one (one write; none, and the removal says 404).
        if project.members[user] == nil {
            do {
                try await store.removeInvitation(to: project.id, user: user, by: principal)
                let answer = Components.Schemas.Project(project)
                return .ok(.init(headers: .init(eTag: EntityTag.of(answer)), body: .json(try await named(answer))))
            } catch let error as StoreError where error.code == .notFound {
                // Fall through to the member removal's own 404.
            }
        }
        let changed = try await store.removeMember(user, from: project.id, by: principal)
        let answer = Components.Schemas.Project(changed)
        return .ok(.init(headers: .init(eTag: EntityTag.of(answer)), body: .json(try await named(answer))))
    }

    public func listProjectInvitations(_ input: Operations.ListProjectInvitations.Input) async throws -> Operations.ListProjectInvitations.Output {
        let project = try await readableProject(try identifier(input.path.projectId, "project"))
        let items = try await named(try await store.invitations(of: project.id).map(Components.Schemas.Invitation.init))
        return .ok(.init(body: .json(.init(items: items))))
    }

    public func listInvitations(_ input: Operations.ListInvitations.Input) async throws -> Operations.ListInvitations.Output {
        let user = try currentUser().user
        let items = try await named(try await store.invitations(to: user.id).map(Components.Schemas.Invitation.init))
        return .ok(.init(body: .json(.init(items: items))))
    }

    public func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws -> Operations.AcceptInvitation.Output {
        let user = try currentUser().user
        let project: ProjectID = try identifier(input.path.projectId, "invitation")
        let joined = try await store.acceptInvitation(to: project, user: user.id, by: principal)
        logger.info("project invitation accepted", metadata: ["project.id": "\(project)"])
        return .ok(.init(body: .json(try await named(Components.Schemas.Project(joined)))))
    }

    public func declineInvitation(_ input: Operations.DeclineInvitation.Input) async throws -> Operations.DeclineInvitation.Output {
        let user = try currentUser().user
        let project: ProjectID = try identifier(input.path.projectId, "invitation")
        try await store.removeInvitation(to: project, user: user.id, by: principal)
        return .noContent(.init())
    }
}
