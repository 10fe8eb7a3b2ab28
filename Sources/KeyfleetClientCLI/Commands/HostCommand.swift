import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet host`: servers, who may log in to them, provisioning and enrollment.
struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Create, list, describe and delete hosts; choose their keys; see their effective access.",
        subcommands: [
            Create.self, List.self, Describe.self, Update.self, Delete.self, AddKey.self, RemoveKey.self, SetAccess.self, Keys.self,
            Rescue.self, EnrollToken.self,
        ]
    )

    /// `--project`, to find a host by name within one project.
    struct Lookup: ParsableArguments {
        @Argument(help: "The host's name or id.") var host: String
        @Option(help: "The host's project (name or id), when the name alone is ambiguous.") var project: String?

        func resolve(_ registry: Registry) async throws(CLIError) -> (host: String, project: String?) {
            let projectID = try await registry.optionalProjectID(project)
            return (try await registry.hostID(host, project: projectID), projectID)
        }
    }

    static func show(_ host: Components.Schemas.Host, _ output: OutputFormat) throws(CLIError) {
        if output == .json { return try ClientOutput.printJSON(host) }
        var fields = [
            ("ID", host.id), ("Name", host.name), ("Project", ClientOutput.name(host.projectName, or: host.project)),
            ("Cluster", ClientOutput.name(host.clusterName, or: host.cluster)), ("Address", host.address ?? "-"),
            ("Labels", ClientOutput.labels(host.labels)), ("Logins", host.logins.joined(separator: ",")),
            ("Rescue", host.rescueActive ? "ON: each login's rescue keys log in (keyfleet host rescue HOST off ends it)" : "off"),
            ("Enrolled", host.agent.map { $0.enrolled ? "yes" : "no" } ?? "no"),
        ]
        if let agent = host.agent, agent.enrolled {
            fields.append(("Agent version", agent.agentVersion ?? "-"))
            fields.append(("Last report", ClientOutput.time(agent.lastReportAt)))
            if let error = agent.error { fields.append(("Agent error", error)) }
        }
        ClientOutput.printFields(fields)
        if let strays = host.agent?.revokedKeysOutsideBlock, !strays.isEmpty {
            Terminal.print("")
            Terminal.print("Revoked keys still in a user's authorized_keys, outside the keyfleet block (legacy mode leaves them; remove them):")
            ClientOutput.printTable(["LOGIN", "LINE", "FINGERPRINT"], strays.map { [$0.login, String($0.line), $0.fingerprint] })
        }
        Terminal.print("")
        ClientOutput.printTable(
            ["LOGIN", "ACCESS", "KEYS", "RESCUE KEYS"],
            host.logins.map { login in
                let access = host.access.additionalProperties[login]
                let keys = access?.keys ?? []
                let rescue = host.rescueKeys.additionalProperties[login] ?? []
                return [
                    login, access?.mode.rawValue ?? "inherited",
                    access?.mode == .explicit ? (keys.isEmpty ? "(none)" : ClientOutput.keys(keys, host.keyNames)) : "-",
                    ClientOutput.keys(rescue, host.keyNames),
                ]
            })
    }

    /// Writes user data (which holds a one-time enrollment token) to `path`, mode 0600, or prints it.
    static func deliver(userData: String, to path: String?) throws(CLIError) {
        var text = userData
        if !text.hasSuffix("\n") { text += "\n" }
        if let path {
            try FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o600, replace: false)
        } else {
            Terminal.write(Array(text.utf8), to: 1)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a host and get its cloud-init user data (with a one-time enrollment token).",
            discussion: "Without --user-data-file the user data is printed on standard output and the host on standard error.")

        @Argument(help: "The host's name.") var name: String
        @Option(help: "Its project (name or id).") var project: String
        @Option(
            name: .customLong("ssh-key"),
            help: ArgumentHelp("Exactly these keys may log in (name or id); repeatable. Default: inherited.", valueName: "key"))
        var keys: [String] = []
        @Option(name: .customLong("login"), help: ArgumentHelp("A Unix account; repeatable (default root).", valueName: "user"))
        var logins: [String] = []
        @Option(help: "Put it in this cluster of the project (name or id).") var cluster: String?
        @Option(name: .customLong("label"), help: ArgumentHelp("A label, KEY=VALUE; repeatable.", valueName: "k=v")) var labels: [String] = []
        @Option(help: ArgumentHelp("Where it is reached: a DNS name or an IP address.", valueName: "address")) var address: String?
        @Option(
            name: .customLong("user-data-file"), help: ArgumentHelp("Write the user data here (mode 0600; never overwritten).", valueName: "file"))
        var userDataFile: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            if let userDataFile, FileSystem.exists(userDataFile) {
                throw CLIError("\(Terminal.safe(userDataFile)): already exists; refusing to overwrite it")
            }
            let labels = try ClientInput.labels(labels)
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.projectID(project)
            var keyIDs: [String] = []
            for key in keys { keyIDs.append(try await registry.keyID(key, preferring: projectID)) }
            var clusterID: String?
            if let cluster { clusterID = try await registry.clusterID(cluster, project: projectID) }
            let request = Components.Schemas.CreateHostRequest(
                name: name, project: projectID, labels: labels, logins: logins.isEmpty ? nil : logins, cluster: clusterID, address: address,
                sshKeys: keyIDs.isEmpty ? nil : keyIDs)
            let answer = try await registry.call { client in try await client.createHost(body: .json(request)).created.body.json }
            try HostCommand.deliver(userData: answer.userData, to: userDataFile)
            let summary =
                "Host \(Terminal.safe(answer.host.name)) created (\(Terminal.safe(answer.host.id))); "
                + "enrollment token valid until \(ClientOutput.time(answer.enrollment.expiresAt))"
            if let userDataFile {
                if output.output == .json { return try ClientOutput.printJSON(answer.host) }
                Terminal.print(summary + "; user data written to \(Terminal.safe(userDataFile))")
            } else {
                Terminal.printInfo(summary)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a host's name, labels, logins, cluster or address.",
            discussion: """
                What is not given stays as it is. A login removed loses its access rule, and the agent removes its keys. \
                The change is made against the host as read (If-Match), so a concurrent change is refused, not lost.
                """)
        @OptionGroup var lookup: Lookup
        @Option(help: "A new name.") var name: String?
        @Option(name: .customLong("label"), help: ArgumentHelp("Set a label, KEY=VALUE; repeatable.", valueName: "k=v")) var labels: [String] = []
        @Option(name: .customLong("remove-label"), help: ArgumentHelp("Remove a label; repeatable.", valueName: "key")) var removeLabels: [String] =
            []
        @Option(name: .customLong("login"), help: ArgumentHelp("Replace the logins with these; repeatable.", valueName: "user")) var logins:
            [String] = []
        @Option(name: .customLong("add-login"), help: ArgumentHelp("Add a login (inherited access); repeatable.", valueName: "user"))
        var addLogins: [String] = []
        @Option(name: .customLong("remove-login"), help: ArgumentHelp("Remove a login; repeatable.", valueName: "user")) var removeLogins: [String] =
            []
        @Option(help: ArgumentHelp("Move it into this cluster of its project (name or id).", valueName: "cluster")) var cluster: String?
        @Flag(name: .customLong("no-cluster"), help: "Take it out of its cluster.") var noCluster = false
        @Option(help: ArgumentHelp("Where it is reached: a DNS name or an IP address.", valueName: "address")) var address: String?
        @Flag(name: .customLong("clear-address"), help: "Remove the address.") var clearAddress = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if !logins.isEmpty && !(addLogins.isEmpty && removeLogins.isEmpty) {
                throw CLIError.usage("--login replaces the logins; give it without --add-login and --remove-login")
            }
            if cluster != nil && noCluster { throw CLIError.usage("--cluster and --no-cluster exclude each other") }
            if address != nil && clearAddress { throw CLIError.usage("--address and --clear-address exclude each other") }
            let changes = [
                name != nil, !labels.isEmpty, !removeLabels.isEmpty, !logins.isEmpty, !addLogins.isEmpty, !removeLogins.isEmpty,
                cluster != nil, noCluster, address != nil, clearAddress,
            ]
            if !changes.contains(true) {
                throw CLIError.usage(
                    "nothing to change: give --name, --label, --remove-label, --login, --add-login, --remove-login, --cluster, --no-cluster, "
                        + "--address or --clear-address")
            }
        }

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let read = try await registry.call { client in try await client.getHost(path: .init(hostId: hostID)).ok }
            let current = try await registry.call { _ in try read.body.json }

            var newLabels: Components.Schemas.Labels?
            if !labels.isEmpty || !removeLabels.isEmpty {
                var merged = current.labels.additionalProperties
                for key in removeLabels {
                    guard merged.removeValue(forKey: key) != nil else {
                        throw CLIError("the host \(Terminal.safe(current.name)) has no label \"\(Terminal.safe(key))\"")
                    }
                }
                for (key, value) in try ClientInput.labels(labels)?.additionalProperties ?? [:] { merged[key] = value }
                newLabels = .init(additionalProperties: merged)
            }
            var newLogins: [String]?
            if !logins.isEmpty {
                newLogins = logins
            } else if !addLogins.isEmpty || !removeLogins.isEmpty {
                var list = current.logins
                for login in removeLogins {
                    guard let index = list.firstIndex(of: login) else {
                        throw CLIError("the host \(Terminal.safe(current.name)) has no login \"\(Terminal.safe(login))\"")
                    }
                    list.remove(at: index)
                }
                for login in addLogins where !list.contains(login) { list.append(login) }
                guard !list.isEmpty else { throw CLIError("a host keeps at least one login; add one before removing the last") }
                newLogins = list
            }
            var targetCluster: String?
            if let cluster { targetCluster = try await registry.clusterID(cluster, project: current.project) }

            var host = current
            if name != nil || newLabels != nil || newLogins != nil || address != nil || clearAddress {
                let request = Components.Schemas.UpdateHostRequest(
                    name: name, labels: newLabels, logins: newLogins, address: address, clearAddress: clearAddress ? true : nil)
                host = try await registry.call { client in
                    try await client.updateHost(path: .init(hostId: hostID), headers: .init(ifMatch: read.headers.eTag), body: .json(request)).ok.body
                        .json
                }
            }
            // Cluster membership is the cluster's list: leave the old one, join the new one.
            if noCluster || targetCluster != nil, let old = host.cluster, old != targetCluster {
                host = try await registry.call { client in
                    try await client.removeClusterHost(path: .init(clusterId: old, hostId: hostID)).ok.body.json
                }
            }
            if let targetCluster, host.cluster != targetCluster {
                host = try await registry.call { client in
                    try await client.addClusterHost(path: .init(clusterId: targetCluster), body: .json(.init(host: hostID))).ok.body.json
                }
            }
            try HostCommand.show(host, output.output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List hosts.")
        @Option(help: "Hosts of this project only (name or id).") var project: String?
        @Option(help: "Hosts of this cluster only (name or id).") var cluster: String?
        @Option(help: ArgumentHelp("Hosts with this label only, KEY=VALUE.", valueName: "k=v")) var label: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let label = try ClientInput.labelFilter(label)
            let registry = try Registry(connection.resolve())
            let projectID = try await registry.optionalProjectID(project)
            var clusterID: String?
            if let cluster { clusterID = try await registry.clusterID(cluster, project: projectID) }
            let hosts = try await registry.all { client, cursor in
                let page = try await client.listHosts(query: .init(cursor: cursor, label: label, project: projectID, cluster: clusterID)).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(hosts) }
            ClientOutput.printTable(
                ["ID", "NAME", "PROJECT", "CLUSTER", "LOGINS", "ENROLLED", "LABELS"],
                hosts.map {
                    [
                        $0.id, $0.name, ClientOutput.name($0.projectName, or: $0.project), ClientOutput.name($0.clusterName, or: $0.cluster),
                        $0.logins.joined(separator: ","),
                        ($0.agent?.enrolled ?? false) ? "yes" : "no", ClientOutput.labels($0.labels),
                    ]
                })
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a host.")
        @OptionGroup var lookup: Lookup
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let (id, _) = try await lookup.resolve(registry)
            let host = try await registry.call { client in try await client.getHost(path: .init(hostId: id)).ok.body.json }
            try HostCommand.show(host, output.output)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a host; its agent can no longer sync.")
        @OptionGroup var lookup: Lookup
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let (id, _) = try await lookup.resolve(registry)
            _ = try await registry.call { client in try await client.deleteHost(path: .init(hostId: id)).noContent }
            Terminal.print("Host \(Terminal.safe(lookup.host)) deleted")
        }
    }

    struct AddKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a key log in to a host as one login, or add a rescue key for a login.",
            discussion: """
                A login either inherits its keys (from its cluster, or from its project) or has its own list. \
                Adding a key to a login that inherits gives it its own list, so say what becomes of the keys it \
                inherited: --keep-inherited copies them into the new list, --only lets only this key in. \
                keyfleet host set-access --inherit goes back to inheriting. With --rescue the key becomes a \
                break-glass key of the login: it logs in only while the host is flagged (keyfleet host rescue HOST on).
                """)
        @OptionGroup var lookup: Lookup
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("The key (name or id).", valueName: "key")) var key: String
        @Option(help: ArgumentHelp("The login (default root).", valueName: "user")) var login: String?
        @Flag(help: "Add it to the login's rescue keys instead (they log in only while the host is flagged for rescue).") var rescue = false
        @Flag(name: .customLong("keep-inherited"), help: "For a login that inherits: copy the keys it inherits into its own list too.")
        var keepInherited = false
        @Flag(help: "For a login that inherits: its own list holds only this key; the keys it inherited stop working there.")
        var only = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            if keepInherited, only { throw CLIError.usage("--keep-inherited and --only exclude each other") }
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let read = try await registry.call { client in try await client.getHost(path: .init(hostId: hostID)).ok }
            let host = try read.body.json
            let keyID = try await registry.keyID(key, preferring: host.project)
            let loginName = login ?? "root"
            let inherits = !rescue && host.access.additionalProperties[loginName]?.mode != .explicit && host.logins.contains(loginName)
            let changed: Components.Schemas.Host
            if inherits {
                let access = try await registry.call { client in
                    try await client.getHostAccess(path: .init(hostId: hostID), query: .init(login: loginName)).ok.body.json
                }
                let inherited = access.logins.first { $0.login == loginName }?.keys ?? []
                let names = inherited.map { "\($0.name) (\($0.fingerprint))" }
                let what = names.isEmpty ? "no keys" : "\(names.count) key(s): " + names.joined(separator: ", ")
                guard keepInherited || only else {
                    throw CLIError(
                        "the login \(Terminal.safe(loginName)) on \(Terminal.safe(host.name)) inherits \(Terminal.safe(what)); "
                            + "adding a key gives it its own list: pass --keep-inherited to keep them, or --only to let only this key in")
                }
                var keys = keepInherited ? inherited.map(\.keyId) : []
                if !keys.contains(keyID) { keys.append(keyID) }
                Terminal.printInfo(
                    "The login \(Terminal.safe(loginName)) inherited \(Terminal.safe(what)); it now has its own list of \(keys.count) key(s)"
                        + (keepInherited ? ", the inherited ones included." : ": only \(Terminal.safe(key))."))
                changed = try await registry.call { client in
                    try await client.setHostLoginAccess(
                        path: .init(hostId: hostID, login: loginName), headers: .init(ifMatch: read.headers.eTag),
                        body: .json(.init(mode: .explicit, keys: keys))
                    ).ok.body.json
                }
            } else {
                changed = try await registry.call { client in
                    try await client.addHostKey(
                        path: .init(hostId: hostID), body: .json(.init(sshKey: keyID, login: login, rescue: rescue ? true : nil))
                    ).ok.body.json
                }
            }
            try HostCommand.show(changed, output.output)
        }
    }

    struct RemoveKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a key off a host's own list for one login, or off the login's rescue keys.",
            discussion: "Taking off the last key that may log in as the login is refused unless --allow-empty is given.")
        @OptionGroup var lookup: Lookup
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("The key (name or id).", valueName: "key")) var key: String
        @Option(help: ArgumentHelp("The login (default root).", valueName: "user")) var login: String?
        @Flag(help: "Remove it from the login's rescue keys instead.") var rescue = false
        @Flag(name: .customLong("allow-empty"), help: "Remove it even when no key may then log in as the login.") var allowEmpty = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let host = try await registry.call { client in try await client.getHost(path: .init(hostId: hostID)).ok.body.json }
            let keyID = try await registry.keyID(key, preferring: host.project)
            let changed = try await registry.call { client in
                try await client.removeHostKey(
                    path: .init(hostId: hostID, keyId: keyID),
                    query: .init(login: login, allowEmpty: allowEmpty ? true : nil, rescue: rescue ? true : nil)
                ).ok.body.json
            }
            try HostCommand.show(changed, output.output)
        }
    }

    struct SetAccess: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-access",
            abstract: "Set how one login gets its keys: inherited (from its cluster or project) or its own list.",
            discussion: """
                --inherit: the cluster's keys, or the project's keys and its owners' and members' personal keys. \
                --explicit: exactly the --ssh-key keys given (none with --allow-empty). A change after which no key \
                may log in as the login is refused unless --allow-empty is given.
                """)
        @OptionGroup var lookup: Lookup
        @Option(help: ArgumentHelp("The login.", valueName: "user")) var login: String
        @Flag(help: "Inherit the keys from the host's cluster or project.") var inherit = false
        @Flag(help: "Use exactly the --ssh-key keys.") var explicit = false
        @Option(name: .customLong("ssh-key"), help: ArgumentHelp("A key of the explicit list (name or id); repeatable.", valueName: "key"))
        var keys: [String] = []
        @Flag(name: .customLong("allow-empty"), help: "Apply it even when no key may then log in as the login.") var allowEmpty = false
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard inherit != explicit else { throw CLIError.usage("give one of --inherit and --explicit") }
            if inherit, !keys.isEmpty { throw CLIError.usage("--ssh-key goes with --explicit; --inherit takes the cluster's or project's keys") }
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let read = try await registry.call { client in try await client.getHost(path: .init(hostId: hostID)).ok }
            let host = try read.body.json
            var ids: [String] = []
            for key in keys { ids.append(try await registry.keyID(key, preferring: host.project)) }
            let access = Components.Schemas.LoginAccess(mode: inherit ? .inherited : .explicit, keys: inherit ? nil : ids)
            let changed = try await registry.call { client in
                try await client.setHostLoginAccess(
                    path: .init(hostId: hostID, login: login), query: .init(allowEmpty: allowEmpty ? true : nil),
                    headers: .init(ifMatch: read.headers.eTag), body: .json(access)
                ).ok.body.json
            }
            try HostCommand.show(changed, output.output)
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The effective access of a host: exactly the keys that may log in now, per login.")
        @OptionGroup var lookup: Lookup
        @Option(help: ArgumentHelp("One login only.", valueName: "user")) var login: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let access = try await registry.call { client in
                try await client.getHostAccess(path: .init(hostId: hostID), query: .init(login: login)).ok.body.json
            }
            if output.output == .json { return try ClientOutput.printJSON(access) }
            var rows: [[String]] = []
            func row(_ login: String, _ source: String, _ key: Components.Schemas.AccessEntry) -> [String] {
                [login, source, key.name, ClientOutput.owner(key.owner), key.fingerprint, ClientOutput.time(key.expiresAt), key.keyId]
            }
            for entry in access.logins {
                for key in entry.keys { rows.append(row(entry.login, Keys.source(entry.source, key), key)) }
                if entry.keys.isEmpty { rows.append([entry.login, Keys.source(entry.source, nil), "(no keys)", "-", "-", "-", "-"]) }
            }
            // Flagged, the rescue keys are among the login's keys above; otherwise they are shown as what the flag would add.
            if !access.rescueActive {
                for entry in access.rescue {
                    for key in entry.keys { rows.append(row(entry.login, "rescue (off)", key)) }
                }
            }
            ClientOutput.printTable(["LOGIN", "SOURCE", "NAME", "OWNER", "FINGERPRINT", "EXPIRES", "KEY ID"], rows)
        }

        /// Why a key reaches the login, for people: `host`, `cluster (pool)`, `project` for a project key,
        /// `member (alice)` for a member's personal key, `rescue` for a rescue key while the host is flagged.
        static func source(_ source: Components.Schemas.AccessSource, _ key: Components.Schemas.AccessEntry?) -> String {
            if key?.rescue == true { return "rescue" }
            switch source.kind {
            case .cluster: return "cluster (\(ClientOutput.name(source.clusterName, or: source.cluster)))"
            case .project:
                guard let owner = key?.owner, owner.kind == .user else { return "project" }
                return "member (\(owner.name ?? owner.id))"
            case .host, .rescue: return source.kind.rawValue
            }
        }
    }

    struct Rescue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Flag a host for rescue, so that each login's rescue keys log in too, or end it.",
            discussion: """
                Rescue keys are break-glass keys kept per login (keyfleet host add-key HOST --ssh-key K --login L --rescue). \
                They reach the host's agent only while the host is flagged, within a second either way; both ends are \
                audited as host.rescue.on and host.rescue.off.
                """)
        @OptionGroup var lookup: Lookup
        @Argument(help: ArgumentHelp("on or off.", valueName: "on|off")) var state: String
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let active: Bool
            switch state {
            case "on": active = true
            case "off": active = false
            default: throw CLIError.usage("the rescue state must be on or off, not \"\(Terminal.safe(state))\"")
            }
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let changed = try await registry.call { client in
                try await client.updateHost(path: .init(hostId: hostID), body: .json(.init(rescueActive: active))).ok.body.json
            }
            if output.output == .table {
                let keys = changed.rescueKeys.additionalProperties.values.reduce(0) { $0 + $1.count }
                Terminal.printInfo(
                    active
                        ? "Rescue is on for \(Terminal.safe(changed.name)): \(keys) rescue key(s) log in "
                            + "until keyfleet host rescue \(Terminal.safe(lookup.host)) off"
                        : "Rescue is off for \(Terminal.safe(changed.name)): its rescue keys no longer log in")
            }
            try HostCommand.show(changed, output.output)
        }
    }

    struct EnrollToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enroll-token",
            abstract: "A fresh one-time enrollment token for a host (printed on standard output).")
        @OptionGroup var lookup: Lookup
        @Flag(name: .customLong("revoke-credential"), help: "Also revoke the host's current credential (a reinstalled server).")
        var revokeCredential = false
        @Option(
            name: .customLong("user-data-file"), help: ArgumentHelp("Also write user data for a fresh install here (mode 0600).", valueName: "file"))
        var userDataFile: String?
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            if let userDataFile, FileSystem.exists(userDataFile) {
                throw CLIError("\(Terminal.safe(userDataFile)): already exists; refusing to overwrite it")
            }
            let registry = try Registry(connection.resolve())
            let (hostID, _) = try await lookup.resolve(registry)
            let grant = try await registry.call { client in
                try await client.createHostEnrollmentToken(
                    path: .init(hostId: hostID), body: .json(.init(revokeCredential: revokeCredential ? true : nil))
                ).created.body.json
            }
            if let userDataFile { try HostCommand.deliver(userData: grant.userData, to: userDataFile) }
            Terminal.print(Terminal.safe(grant.enrollment.token))
            Terminal.printInfo("Valid until \(ClientOutput.time(grant.enrollment.expiresAt)), once")
        }
    }
}
