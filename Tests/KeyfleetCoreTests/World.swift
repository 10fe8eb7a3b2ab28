import SSHKeys
import Testing

@testable import KeyfleetCore

/// A small registry for effective-access tests, built fresh for each test: objects are named by their
/// identifiers (`k-alice` is the key with identifier and name `k-alice`).
///
/// - users alice, bob, carol, dave;
/// - project p1: alice owner, bob member, carol viewer; project p2: dave owner, bob member;
/// - personal keys k-alice, k-bob, k-carol, k-dave; project keys k-p1, k-cl, k-rescue and k-exp-past
///   (expired a minute ago), k-exp-now (expires exactly now), k-exp-soon (in an hour) of p1, k-p2 of p2;
/// - clusters c1 (p1: k-cl, k-bob), c2 (p2: k-p2);
/// - hosts h1 (p1; root, deploy), h2 (p2; root), hc (p1, in c1; root, deploy), hx (p1, in c1; root has the
///   explicit list [k-alice], deploy inherited), h3 (p1; root explicit [k-p1], deploy inherited), hr (p1;
///   root explicit [k-p1]; rescue keys [k-rescue]).
struct World {
    static let now: UInt64 = 1_800_000_000
    var users: [User]
    var projects: [Project]
    var keys: [SSHKeyRecord]
    var hosts: [Host]
    var clusters: [Cluster]

    /// The keys every inherited login of a p1 host without cluster gets.
    static let p1Inherited: Set<String> = ["k-alice", "k-bob", "k-p1", "k-cl", "k-rescue", "k-exp-soon"]

    init() throws {
        users = try ["alice", "bob", "carol", "dave"].map { try User(id: id($0), name: $0) }
        projects = [
            try Project(id: id("p1"), name: "Project One", members: [id("alice"): .owner, id("bob"): .member, id("carol"): .viewer]),
            try Project(id: id("p2"), name: "Project Two", members: [id("dave"): .owner, id("bob"): .member]),
        ]
        func key(_ name: String, _ owner: KeyOwner, expiresAt: UInt64? = nil) throws -> SSHKeyRecord {
            try SSHKeyRecord(
                id: id(name), name: name, owner: owner, publicKey: TestKeys.ed25519(comment: "user comment \(name)"), comment: "c",
                expiresAt: expiresAt, createdBy: id("alice"), createdAt: Self.now - 86_400)
        }
        keys = [
            try key("k-alice", .user(id("alice"))), try key("k-bob", .user(id("bob"))), try key("k-carol", .user(id("carol"))),
            try key("k-dave", .user(id("dave"))), try key("k-p1", .project(id("p1"))), try key("k-cl", .project(id("p1"))),
            try key("k-rescue", .project(id("p1"))), try key("k-exp-past", .project(id("p1")), expiresAt: Self.now - 60),
            try key("k-exp-now", .project(id("p1")), expiresAt: Self.now), try key("k-exp-soon", .project(id("p1")), expiresAt: Self.now + 3600),
            try key("k-p2", .project(id("p2"))),
        ]
        clusters = [
            try Cluster(id: id("c1"), project: id("p1"), name: "c1", keys: [id("k-cl"), id("k-bob")]),
            try Cluster(id: id("c2"), project: id("p2"), name: "c2", keys: [id("k-p2")]),
        ]
        let deploy = try login("deploy")
        hosts = [
            try Host(id: id("h1"), project: id("p1"), name: "h1", logins: [.root, deploy]),
            try Host(id: id("h2"), project: id("p2"), name: "h2"),
            try Host(id: id("hc"), project: id("p1"), name: "hc", logins: [.root, deploy], cluster: id("c1")),
            try Host(
                id: id("hx"), project: id("p1"), name: "hx", logins: [.root, deploy], cluster: id("c1"), access: [.root: .explicit([id("k-alice")])]),
            try Host(id: id("h3"), project: id("p1"), name: "h3", logins: [.root, deploy], access: [.root: .explicit([id("k-p1")])]),
            try Host(
                id: id("hr"), project: id("p1"), name: "hr", logins: [.root], access: [.root: .explicit([id("k-p1")])],
                rescueKeys: [.root: [id("k-rescue")]]),
        ]
    }

    var snapshot: RegistrySnapshot {
        RegistrySnapshot(users: users, projects: projects, keys: keys, hosts: hosts, clusters: clusters)
    }

    func host(_ name: String) throws -> Host {
        guard let host = hosts.first(where: { $0.id.rawValue == name }) else { throw WorldError(description: "no host \(name)") }
        return host
    }

    mutating func updateHost(_ name: String, _ change: (inout Host) throws -> Void) throws {
        guard let index = hosts.firstIndex(where: { $0.id.rawValue == name }) else { throw WorldError(description: "no host \(name)") }
        try change(&hosts[index])
    }

    mutating func updateProject(_ name: String, _ change: (inout Project) throws -> Void) throws {
        guard let index = projects.firstIndex(where: { $0.id.rawValue == name }) else { throw WorldError(description: "no project \(name)") }
        try change(&projects[index])
    }

    mutating func deleteKey(_ name: String) { keys.removeAll { $0.id.rawValue == name } }
    mutating func deleteUser(_ name: String) { users.removeAll { $0.id.rawValue == name } }
    mutating func deleteCluster(_ name: String) { clusters.removeAll { $0.id.rawValue == name } }
    mutating func deleteProject(_ name: String) { projects.removeAll { $0.id.rawValue == name } }
}

struct WorldError: Error, CustomStringConvertible {
    var description: String
}
