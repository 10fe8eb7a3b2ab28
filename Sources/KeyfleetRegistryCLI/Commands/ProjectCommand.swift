import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet project`: projects and their members.
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Create, list, describe and delete projects; add and remove members.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self, AddMember.self, RemoveMember.self]
    )

    static func show(_ project: Components.Schemas.Project, _ output: OutputFormat) throws(CLIError) {
        if output == .json { return try ClientOutput.printJSON(project) }
        ClientOutput.printFields([("ID", project.id), ("Name", project.name), ("Members", String(project.members.count))])
        if !project.members.isEmpty {
            Terminal.print("")
            ClientOutput.printTable(["USER", "ROLE"], project.members.map { [$0.user, $0.role.rawValue] })
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
            try ProjectCommand.show(project, output.output)
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
            let found = try await registry.call { client in try await client.getProject(path: .init(projectId: id)).ok.body.json }
            try ProjectCommand.show(found, output.output)
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
        static let configuration = CommandConfiguration(abstract: "Add a member to a project, or change a member's role.")
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
            let changed = try await registry.call { client in
                try await client.setProjectMember(path: .init(projectId: projectID, userId: userID), body: .json(.init(role: role))).ok.body.json
            }
            try ProjectCommand.show(changed, output.output)
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member; their personal keys leave the project's hosts.")
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
            try ProjectCommand.show(changed, output.output)
        }
    }
}
