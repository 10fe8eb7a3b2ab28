import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet cluster`: groups of hosts sharing a key list.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Create, list, describe and delete clusters; their keys and hosts.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self, AddKey.self, RemoveKey.self, AddHost.self, RemoveHost.self]
    )

    struct Lookup: ParsableArguments {
        @Argument(help: "The cluster's name or id.") var cluster: String
        @Option(help: "The cluster's project (name or id), when the name alone is ambiguous.") var project: String?

        func resolve(_ registry: Registry) async throws(CLIError) -> String {
            let projectID = try await registry.optionalProjectID(project)
            return try await registry.clusterID(cluster, project: projectID)
        }

        /// The cluster as the registry has it now.
        func fetch(_ registry: Registry) async throws(CLIError) -> Components.Schemas.Cluster {
            let id = try await resolve(registry)
            return try await registry.call { client in try await client.getCluster(path: .init(clusterId: id)).ok.body.json }
        }
    }

    static func show(_ cluster: Components.Schemas.Cluster, _ output: OutputFormat) throws(CLIError) {
        if output == .json { return try ClientOutput.printJSON(cluster) }
        ClientOutput.printFields([
            ("ID", cluster.id), ("Name", cluster.name), ("Project", ClientOutput.name(cluster.projectName, or: cluster.project)),
            ("Keys", ClientOutput.keys(cluster.keys, cluster.keyNames)),
        ])
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a cluster in a project.")
        @Argument(help: "The cluster's name.") var name: String
        @Option(help: "Its project (name or id).") var project: String
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("A cluster-wide key (name or id); repeatable.", valueName: "key"))
        var keys: [String] = []
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.projectID(project)
            var keyIDs: [String] = []
            for key in keys { keyIDs.append(try await registry.keyID(key, preferring: projectID)) }
            let cluster = try await registry.call { client in
                try await client.createCluster(body: .json(.init(name: name, project: projectID, keys: keyIDs.isEmpty ? nil : keyIDs))).created.body
                    .json
            }
            try ClusterCommand.show(cluster, output.output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List clusters.")
        @Option(help: "Clusters of this project only (name or id).") var project: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            let clusters = try await registry.all { client, cursor in
                let page = try await client.listClusters(query: .init(cursor: cursor, project: projectID)).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(clusters) }
            ClientOutput.printTable(
                ["ID", "NAME", "PROJECT", "KEYS"],
                clusters.map { [$0.id, $0.name, ClientOutput.name($0.projectName, or: $0.project), String($0.keys.count)] })
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a cluster.")
        @OptionGroup var lookup: Lookup
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let cluster = try await lookup.fetch(registry)
            try ClusterCommand.show(cluster, output.output)
            guard output.output == .table else { return }
            let hosts = try await registry.all { client, cursor in
                let page = try await client.listHosts(query: .init(cursor: cursor, project: cluster.project, cluster: cluster.id)).ok.body.json
                return (page.items, page.nextCursor)
            }
            Terminal.print("")
            guard !hosts.isEmpty else { return Terminal.print("Hosts: none (keyfleet cluster add-host \(Terminal.safe(cluster.name)) HOST)") }
            ClientOutput.printTable(
                ["HOST", "LOGINS", "ENROLLED", "ID"],
                hosts.map { [$0.name, $0.logins.joined(separator: ","), ($0.agent?.enrolled ?? false) ? "yes" : "no", $0.id] })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a cluster; its hosts fall back to the project's keys.")
        @OptionGroup var lookup: Lookup
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let id = try await lookup.resolve(registry)
            _ = try await registry.call { client in try await client.deleteCluster(path: .init(clusterId: id)).noContent }
            Terminal.print("Cluster \(Terminal.safe(lookup.cluster)) deleted")
        }
    }

    struct AddKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a cluster-wide key.")
        @OptionGroup var lookup: Lookup
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("The key (name or id).", valueName: "key")) var key: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let cluster = try await lookup.fetch(registry)
            let id = cluster.id
            let keyID = try await registry.keyID(key, preferring: cluster.project)
            let changed = try await registry.call { client in
                try await client.addClusterKey(path: .init(clusterId: id), body: .json(.init(sshKey: keyID))).ok.body.json
            }
            try ClusterCommand.show(changed, output.output)
        }
    }

    struct RemoveKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a cluster-wide key.")
        @OptionGroup var lookup: Lookup
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("The key (name or id).", valueName: "key")) var key: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let cluster = try await lookup.fetch(registry)
            let id = cluster.id
            let keyID = try await registry.keyID(key, preferring: cluster.project)
            let changed = try await registry.call { client in
                try await client.removeClusterKey(path: .init(clusterId: id, keyId: keyID)).ok.body.json
            }
            try ClusterCommand.show(changed, output.output)
        }
    }

    struct AddHost: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a host in the cluster; its inherited logins get the cluster's keys.")
        @OptionGroup var lookup: Lookup
        @Option(help: ArgumentHelp("The host (name or id).", valueName: "host")) var host: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let cluster = try await lookup.fetch(registry)
            let id = cluster.id
            let hostID = try await registry.hostID(host, project: cluster.project)
            let changed = try await registry.call { client in
                try await client.addClusterHost(path: .init(clusterId: id), body: .json(.init(host: hostID))).ok.body.json
            }
            try HostCommand.show(changed, output.output)
        }
    }

    struct RemoveHost: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a host out of the cluster.")
        @OptionGroup var lookup: Lookup
        @Option(help: ArgumentHelp("The host (name or id).", valueName: "host")) var host: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let cluster = try await lookup.fetch(registry)
            let id = cluster.id
            let hostID = try await registry.hostID(host, project: cluster.project)
            let changed = try await registry.call { client in
                try await client.removeClusterHost(path: .init(clusterId: id, hostId: hostID)).ok.body.json
            }
            try HostCommand.show(changed, output.output)
        }
    }
}
