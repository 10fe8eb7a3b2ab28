import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import SSHKeys

/// Fills a registry data directory for the HTTP benchmark (scripts/bench-registry.sh):
/// `projects` projects, each with `keysPerProject` ed25519 project keys and `hostsPerProject` hosts that
/// inherit them (so one host's effective access is `keysPerProject` keys), and the administrator token
/// given. Prints `key=<id> host=<id> project=<id>` of one key, one host and that host's project.
///
/// ```
/// keyfleet-bench registry-seed --data-dir /tmp/kf --token kft_... --projects 1000 --keys 100 --hosts 10
/// ```
enum RegistrySeed {
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func run(arguments: [String]) async throws {
        var dataDirectory: String?
        var token: String?
        var projects = 1000
        var keysPerProject = 100
        var hostsPerProject = 10
        var remaining = arguments[...]
        while let option = remaining.popFirst() {
            guard let value = remaining.popFirst() else { throw UsageError(description: "\(option) needs a value") }
            switch option {
            case "--data-dir": dataDirectory = value
            case "--token": token = value
            case "--projects": projects = Int(value) ?? -1
            case "--keys": keysPerProject = Int(value) ?? -1
            case "--hosts": hostsPerProject = Int(value) ?? -1
            default: throw UsageError(description: "unknown option \(option)")
            }
        }
        guard let dataDirectory, let token, projects > 0, keysPerProject > 0, hostsPerProject > 0 else {
            throw UsageError(description: "usage: registry-seed --data-dir DIR --token TOKEN [--projects N] [--keys N] [--hosts N]")
        }
        let store = try await SQLStore.open(
            dataDirectory: dataDirectory, clock: RegistryServer.now, makeID: RegistryServer.makeIdentifier)
        _ = try await AdminBootstrap.ensureAdministrator(store: store, token: token)
        guard let admin = try await store.users(page: .first).items.first(where: { $0.role == .admin }) else {
            throw UsageError(description: "the registry has no administrator")
        }
        let principal = Principal(user: admin.id)
        var sampleKey: KeyID?
        var sampleProject: ProjectID?
        var sampleHost: HostID?
        for p in 0..<projects {
            let project = try await store.createProject(name: "project-\(p)", by: principal)
            // One transaction per project's keys: a million keys in ten thousand commits, not a million.
            let keys = try (0..<keysPerProject).map { k in
                NewKey(name: "key-\(k)", owner: .project(project.id), publicKey: try PrivateKey.generate(.ed25519).publicKey, comment: "bench")
            }
            let created = try await store.createKeys(keys, by: principal)
            sampleKey = sampleKey ?? created.first?.id
            sampleProject = sampleProject ?? project.id
            for h in 0..<hostsPerProject {
                let host = try await store.createHost(by: principal) { id in
                    try Host(id: id, project: project.id, name: "host-\(p)-\(h)", logins: [.root, try LoginName("deploy")])
                }
                sampleHost = sampleHost ?? host.id
            }
        }
        try await store.close()
        print("key=\(sampleKey?.rawValue ?? "") host=\(sampleHost?.rawValue ?? "") project=\(sampleProject?.rawValue ?? "")")
    }
}
