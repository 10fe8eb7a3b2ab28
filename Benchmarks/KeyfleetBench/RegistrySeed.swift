import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import SSHKeys

/// Fills a registry for the HTTP benchmarks (scripts/bench-registry.sh, scripts/bench-scale.sh):
/// `projects` projects, each with `keysPerProject` ed25519 project keys and `hostsPerProject` hosts that
/// inherit them (so one host's effective access is `keysPerProject` keys), and the administrator token
/// given. Prints `key=<id> host=<id> project=<id>` of one key, one host and that host's project.
///
/// The objects go in by bulk inserts (``SQLStore/importObjects(_:by:)``), a thousand projects per
/// transaction, each with its audit entry; real keys are made on every core while
/// the store writes the batch before.
///
/// ```
/// keyfleet-bench registry-seed --data-dir /tmp/kf --token kft_... --projects 1000 --keys 100 --hosts 10
/// keyfleet-bench registry-seed --database-url postgres://... --token kft_... --projects 10000
/// ```
enum RegistrySeed {
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static let usage =
        "usage: registry-seed (--data-dir DIR | --database-url URL) --token TOKEN [--projects N] [--keys N] [--hosts N]"

    static func run(arguments: [String]) async throws {
        var dataDirectory: String?
        var databaseURL: String?
        var token: String?
        var projects = 1000
        var keysPerProject = 100
        var hostsPerProject = 10
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            guard let value = remaining.popFirst() else { throw UsageError(description: "\(option) needs a value") }
            switch option {
            case "--data-dir": dataDirectory = value
            case "--database-url": databaseURL = value
            case "--token": token = value
            case "--projects": projects = Int(value) ?? -1
            case "--keys": keysPerProject = Int(value) ?? -1
            case "--hosts": hostsPerProject = Int(value) ?? -1
            default: throw UsageError(description: "unknown option \(option)")
            }
        }
        guard (dataDirectory == nil) != (databaseURL == nil), let token, projects > 0, keysPerProject > 0, hostsPerProject > 0 else {
            throw UsageError(description: usage)
        }
        let store: SQLStore
        if let databaseURL {
            store = try await SQLStore.open(databaseURL: databaseURL, clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        } else {
            store = try await SQLStore.open(
                dataDirectory: dataDirectory ?? "", clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        }
        _ = try await AdminBootstrap.ensureAdministrator(store: store, token: token)
        guard let admin = try await store.users(page: .first).items.first(where: { $0.role == .admin }) else {
            throw UsageError(description: "the registry has no administrator")
        }
        let shape = Shape(keys: keysPerProject, hosts: hostsPerProject, admin: admin.id)
        let batches = stride(from: 0, to: projects, by: Shape.projectsPerBatch).map { $0..<min($0 + Shape.projectsPerBatch, projects) }
        var sample: RegistryImport?
        // Makes batch n + 1 while the store writes batch n.
        var next: Task<RegistryImport, any Error>? = batches.first.map { range in Task { try await shape.batch(range) } }
        for index in batches.indices {
            guard let made = try await next?.value else { break }
            let following = batches.indices.contains(index + 1) ? batches[index + 1] : nil
            next = following.map { range in Task { try await shape.batch(range) } }
            try await store.importObjects(made, by: Principal(user: admin.id))
            sample = sample ?? made
        }
        try await store.close()
        let key = sample?.keys.first?.id.rawValue ?? ""
        print("key=\(key) host=\(sample?.hosts.first?.id.rawValue ?? "") project=\(sample?.projects.first?.id.rawValue ?? "")")
    }

    /// What each project holds.
    struct Shape: Sendable {
        static let projectsPerBatch = 1000
        var keys: Int
        var hosts: Int
        var admin: UserID

        /// The projects in `range` with their keys and hosts, the keys made on every core.
        func batch(_ range: Range<Int>) async throws -> RegistryImport {
            let now = RegistryServer.now()
            let projects = try range.map { index in
                try Project(id: ProjectID(rawValue: RegistryServer.makeIdentifier())!, name: "project-\(index)")
            }
            let deploy = try LoginName("deploy")
            let hosts = try zip(range, projects).flatMap { index, project in
                try (0..<self.hosts).map { h in
                    try Host(
                        id: HostID(rawValue: RegistryServer.makeIdentifier())!, project: project.id, name: "host-\(index)-\(h)",
                        logins: [.root, deploy])
                }
            }
            let keys = try await withThrowingTaskGroup(of: [SSHKeyRecord].self) { group in
                for project in projects {
                    group.addTask {
                        try (0..<self.keys).map { k in
                            try SSHKeyRecord(
                                id: KeyID(rawValue: RegistryServer.makeIdentifier())!, name: "key-\(k)", owner: .project(project.id),
                                publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench", createdBy: admin, createdAt: now)
                        }
                    }
                }
                return try await group.reduce(into: [SSHKeyRecord]()) { $0 += $1 }
            }
            return RegistryImport(projects: projects, keys: keys, hosts: hosts)
        }
    }
}
