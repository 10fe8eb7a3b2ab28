import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet project`: projects and their members.
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Create, list, describe and delete projects; invite and remove members.",
        discussion: """
            Membership needs consent: add-member invites the user, who sees the invitation with \
            `keyfleet project invitations` and joins with `keyfleet project accept PROJECT`; until then nothing of \
            theirs reaches the project. Administrators add members directly.
            """,
        subcommands: [
            Create.self, List.self, Describe.self, Delete.self, AddMember.self, RemoveMember.self, Invitations.self, Accept.self,
            Decline.self,
        ]
    )

    static func show(
        _ project: Components.Schemas.Project, _ output: OutputFormat, registry: Registry,
        invitations: [Components.Schemas.Invitation] = []
    ) async throws(CLIError) {
        if output == .json { return try ClientOutput.printJSON(project) }
        ClientOutput.printFields([("ID", project.id), ("Name", project.name), ("Members", String(project.members.count))])
        if !project.members.isEmpty {
            Terminal.print("")
            ClientOutput.printTable(
                ["USER", "ROLE", "ID"], project.members.map { [ClientOutput.name($0.userName, or: $0.user), $0.role.rawValue, $0.user] })
        }
        if !invitations.isEmpty {
            Terminal.print("")
            Terminal.print("Invited (not yet members):")
            ClientOutput.printTable(
                ["USER", "ROLE", "INVITED BY", "INVITED"],
                invitations.map {
                    [
                        ClientOutput.name($0.userName, or: $0.user), $0.role.rawValue, ClientOutput.name($0.invitedByName, or: $0.invitedBy),
                        ClientOutput.time($0.invitedAt),
                    ]
                })
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project; you become its owner.")
        @Argument(help: "The project's name.") var name: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let project = try await registry.call { client in try await client.createProject(body: .json(.init(name: name))).created.body.json }
            try await ProjectCommand.show(project, output.output, registry: registry)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the projects you belong to (all, for an administrator).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projects = try await registry.all { client, cursor in
                let page = try await client.listProjects(query: .init(cursor: cursor)).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(projects) }
            ClientOutput.printTable(
                ["ID", "NAME", "MEMBERS"], projects.map { [$0.id, $0.name, String($0.members.count)] })
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a project with its members.")
        @Argument(help: "The project's name or id.") var project: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let id = try await registry.projectID(project)
            let (found, invitations) = try await registry.call { client in
                (
                    try await client.getProject(path: .init(projectId: id)).ok.body.json,
                    try await client.listProjectInvitations(path: .init(projectId: id)).ok.body.json.items
                )
            }
            try await ProjectCommand.show(found, output.output, registry: registry, invitations: invitations)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a project with its keys, hosts and clusters.",
            discussion: "A project that still has hosts is deleted only with --force: its hosts' agents then remove every key they manage.")
        @Argument(help: "The project's name or id.") var project: String
        @Flag(help: "Delete the project even though it has hosts, which lose every key it gave them.") var force = false
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let id = try await registry.projectID(project)
            // --force sends the project's current ETag, which is how the API is told the hosts go too.
            let ifMatch = force ? try await registry.call { client in try await client.getProject(path: .init(projectId: id)).ok.headers.eTag } : nil
            _ = try await registry.call { client in
                try await client.deleteProject(path: .init(projectId: id), headers: .init(ifMatch: ifMatch)).noContent
            }
            Terminal.print("Project \(Terminal.safe(project)) deleted")
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite a user to a project, or change a member's role.",
            discussion:
                "The user becomes a member when they accept (keyfleet project accept PROJECT); an administrator's add-member adds them at once.")
        @Argument(help: "The project's name or id.") var project: String
        @Argument(help: "The user's name or id.") var user: String
        @Option(help: "owner, member (default) or viewer.") var role: String = "member"
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard let role = Components.Schemas.ProjectRole(rawValue: role) else {
                throw CLIError.usage("--role \"\(Terminal.safe(role))\" is not owner, member or viewer")
            }
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.projectID(project)
            let userID = try await registry.userID(user)
            let answer = try await registry.call { client in
                try await client.setProjectMember(path: .init(projectId: projectID, userId: userID), body: .json(.init(role: role)))
            }
            let changed: Components.Schemas.Project
            switch answer {
            case .accepted(let accepted):
                let invitation = try await registry.call { _ in try accepted.body.json }
                if output.output == .json { return try ClientOutput.printJSON(invitation) }
                Terminal.print(
                    "Invited \(Terminal.safe(user)) to \(Terminal.safe(invitation.projectName)) as \(invitation.role.rawValue); "
                        + "they become a member when they run: keyfleet project accept \(Terminal.safe(invitation.projectName))")
                return
            default:
                changed = try await registry.call { _ in try answer.ok.body.json }
            }
            try await ProjectCommand.show(changed, output.output, registry: registry)
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member (their personal keys leave the project's hosts), or withdraw an invitation.")
        @Argument(help: "The project's name or id.") var project: String
        @Argument(help: "The user's name or id.") var user: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.projectID(project)
            let userID = try await registry.userID(user)
            let changed = try await registry.call { client in
                try await client.removeProjectMember(path: .init(projectId: projectID, userId: userID)).ok.body.json
            }
            try await ProjectCommand.show(changed, output.output, registry: registry)
        }
    }

    struct Invitations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your invitations to projects.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let invitations = try await registry.call { client in try await client.listInvitations().ok.body.json.items }
            if output.output == .json { return try ClientOutput.printJSON(invitations) }
            ClientOutput.printTable(
                ["PROJECT", "ROLE", "INVITED BY", "INVITED"],
                invitations.map {
                    [$0.projectName, $0.role.rawValue, ClientOutput.name($0.invitedByName, or: $0.invitedBy), ClientOutput.time($0.invitedAt)]
                })
        }
    }

    /// The project of the caller's invitation named (or identified by) `reference`.
    static func invitation(_ reference: String, registry: Registry) async throws(CLIError) -> Components.Schemas.Invitation {
        let invitations = try await registry.call { client in try await client.listInvitations().ok.body.json.items }
        let matches = invitations.filter { $0.projectName == reference || $0.project == reference }
        guard let invitation = matches.first else {
            throw CLIError("you have no invitation to a project named \"\(Terminal.safe(reference))\" (see keyfleet project invitations)")
        }
        return invitation
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept an invitation: join the project with the role offered.",
            discussion: "As an owner or member, your personal keys then reach the project's hosts.")
        @Argument(help: "The project's name or id.") var project: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let invitation = try await ProjectCommand.invitation(project, registry: registry)
            let joined = try await registry.call { client in
                try await client.acceptInvitation(path: .init(projectId: invitation.project)).ok.body.json
            }
            try await ProjectCommand.show(joined, output.output, registry: registry)
        }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decline an invitation to a project.")
        @Argument(help: "The project's name or id.") var project: String
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let invitation = try await ProjectCommand.invitation(project, registry: registry)
            _ = try await registry.call { client in try await client.declineInvitation(path: .init(projectId: invitation.project)).noContent }
            Terminal.print("Invitation to \(Terminal.safe(invitation.projectName)) declined")
        }
    }
}
