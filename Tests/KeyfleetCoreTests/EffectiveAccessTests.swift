import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

/// One rule of effective access: a change to the standard ``World``, a host and login, and the keys that must
/// then log in there (by identifier), no more, no fewer.
struct AccessCase: Sendable, CustomTestStringConvertible {
    let rule: String
    let host: String
    let login: String
    let expected: Set<String>
    let change: @Sendable (inout World) throws -> Void

    init(
        _ rule: String, _ host: String, _ login: String, _ expected: Set<String>, change: @escaping @Sendable (inout World) throws -> Void = { _ in }
    ) {
        self.rule = rule
        self.host = host
        self.login = login
        self.expected = expected
        self.change = change
    }

    var testDescription: String { rule }
}

@Suite("Effective access")
struct EffectiveAccessTests {
    static let base = World.p1Inherited

    static let cases: [AccessCase] = [
        AccessCase("project keys and owners' and members' personal keys", "h1", "root", base),
        AccessCase("every inherited login gets the same set", "h1", "deploy", base),
        AccessCase("a viewer's personal keys are excluded", "h1", "root", base),
        AccessCase("a viewer made member gains access", "h1", "root", base.union(["k-carol"])) { world in
            try world.updateProject("p1") { $0.members[try id("carol")] = .member }
        },
        AccessCase("member removed: their keys are gone", "h1", "root", base.subtracting(["k-bob"])) { world in
            try world.updateProject("p1") { $0.members[try id("bob")] = nil }
        },
        AccessCase("member demoted to viewer: their keys are gone", "h1", "root", base.subtracting(["k-bob"])) { world in
            try world.updateProject("p1") { $0.members[try id("bob")] = .viewer }
        },
        AccessCase("user deleted: their keys are gone though the membership remains", "h1", "root", base.subtracting(["k-alice"])) { world in
            world.deleteUser("alice")
        },
        AccessCase("personal keys reach every project of their owner (second project)", "h2", "root", ["k-bob", "k-dave", "k-p2"]),
        AccessCase("removed from one project, kept in the other", "h2", "root", ["k-bob", "k-dave", "k-p2"]) { world in
            try world.updateProject("p1") { $0.members[try id("bob")] = nil }
        },
        AccessCase("a global administrator gets no SSH access without membership", "h1", "root", base) { world in
            world.users = try world.users.map { $0.id.rawValue == "dave" ? try User(id: id("dave"), name: "dave", role: .admin) : $0 }
        },
        AccessCase("cluster keys replace the inherited set", "hc", "root", ["k-cl", "k-bob"]),
        AccessCase("cluster keys apply to every inherited login", "hc", "deploy", ["k-cl", "k-bob"]),
        AccessCase("the host's explicit list replaces the cluster's", "hx", "root", ["k-alice"]),
        AccessCase("per login: the other login of the same host keeps the cluster's keys", "hx", "deploy", ["k-cl", "k-bob"]),
        AccessCase("per login without a cluster: explicit list", "h3", "root", ["k-p1"]),
        AccessCase("per login without a cluster: inherited", "h3", "deploy", base),
        AccessCase("an empty explicit list means no keys", "h3", "root", []) { world in
            try world.updateHost("h3") { try $0.setAccess(.explicit([]), for: .root) }
        },
        AccessCase("back to inherited", "h3", "root", base) { world in
            try world.updateHost("h3") { try $0.setAccess(.inherited, for: .root) }
        },
        AccessCase("a login the host does not have gets nothing", "h1", "admin", []),
        AccessCase("expired and expiring-now keys are left out, expiring-later kept", "h3", "root", ["k-exp-soon"]) { world in
            try world.updateHost("h3") { try $0.setAccess(.explicit([id("k-exp-past"), id("k-exp-now"), id("k-exp-soon")]), for: .root) }
        },
        AccessCase("deleted key: gone from the inherited set", "h1", "root", base.subtracting(["k-p1"])) { world in
            world.deleteKey("k-p1")
        },
        AccessCase("deleted key: gone from an explicit list", "hx", "root", []) { world in
            world.deleteKey("k-alice")
        },
        AccessCase("deleted key: gone from a cluster list", "hc", "root", ["k-bob"]) { world in
            world.deleteKey("k-cl")
        },
        AccessCase("an explicit list reaches no other project's key and no non-member's or viewer's key", "h3", "root", ["k-p1", "k-alice"]) {
            world in
            try world.updateHost("h3") {
                try $0.setAccess(.explicit([id("k-p2"), id("k-dave"), id("k-carol"), id("k-p1"), id("k-alice")]), for: .root)
            }
        },
        AccessCase("member removed: their key leaves cluster lists too", "hc", "root", ["k-cl"]) { world in
            try world.updateProject("p1") { $0.members[try id("bob")] = nil }
        },
        AccessCase("member removed: their key leaves explicit lists too", "hx", "root", []) { world in
            try world.updateProject("p1") { $0.members[try id("alice")] = nil }
        },
        AccessCase("a cluster of another project gives nothing", "hc", "root", []) { world in
            try world.updateHost("hc") { $0.cluster = try id("c2") }
        },
        AccessCase("a missing cluster gives nothing and does not fall back to the project's keys", "hc", "root", []) { world in
            world.deleteCluster("c1")
        },
        AccessCase("a host leaving its cluster inherits the project's keys", "hc", "root", base) { world in
            try world.updateHost("hc") { $0.cluster = nil }
        },
        AccessCase("a missing project gives nothing", "h1", "root", []) { world in
            world.deleteProject("p1")
        },
        AccessCase("rescue keys reach no login while the host is not flagged for rescue", "hr", "root", ["k-p1"]),
        AccessCase("flagged for rescue, the login's rescue keys log in beside its own", "hr", "root", ["k-p1", "k-rescue"]) { world in
            try world.updateHost("hr") { $0.rescueActive = true }
        },
        AccessCase("flagged for rescue, a rescue key of another login adds nothing", "h3", "root", ["k-p1"]) { world in
            try world.updateHost("h3") {
                try $0.setRescueKeys([id("k-alice")], for: login("deploy"))
                $0.rescueActive = true
            }
        },
        AccessCase("a key listed twice appears once", "h3", "root", ["k-p1"]) { world in
            try world.updateHost("h3") { try $0.setAccess(.explicit([id("k-p1"), id("k-p1")]), for: .root) }
        },
    ]

    @Test("rules", arguments: cases)
    func rule(_ item: AccessCase) throws {
        var world = try World()
        try item.change(&world)
        let snapshot = world.snapshot
        let host = try world.host(item.host)
        let entries = EffectiveAccess.compute(host: host, login: try login(item.login), registry: snapshot, now: World.now)
        #expect(Set(entries.map(\.keyID.rawValue)) == item.expected)
        #expect(entries.count == item.expected.count, "no duplicates")
        #expect(entries.map(\.keyID) == entries.map(\.keyID).sorted(), "sorted by key id")
        for entry in entries {
            let record = try #require(snapshot.keys[entry.keyID])
            let options: [AuthorizedKeyOption] = record.expiresAt.map { [.expiryTime(ExpiryTime.authorizedKeysText($0))] } ?? []
            try expectSafe(entry, options: options)
            #expect(!entry.line.contains("user comment"), "the user's comment is never rendered")
        }
        // Every rule is deterministic: the same snapshot built from shuffled lists gives the same lines.
        let shuffled = RegistrySnapshot(
            users: world.users.shuffled(), projects: world.projects.shuffled(), keys: world.keys.shuffled(), hosts: world.hosts.shuffled(),
            clusters: world.clusters.shuffled())
        #expect(
            EffectiveAccess.compute(host: host, login: try login(item.login), registry: shuffled, now: World.now).map(\.line) == entries.map(\.line))
    }

    @Test("rescue keys are computed apart, follow the same rules, and are added only while the host is flagged")
    func rescue() throws {
        var world = try World()
        let host = try world.host("hr")
        let rescue = EffectiveAccess.rescue(host: host, login: .root, registry: world.snapshot, now: World.now)
        #expect(rescue.map(\.keyID.rawValue) == ["k-rescue"])
        #expect(rescue.allSatisfy { $0.source == .rescue })
        #expect(!EffectiveAccess.compute(host: host, login: .root, registry: world.snapshot, now: World.now).contains { $0.source == .rescue })
        try world.updateHost("hr") {
            try $0.setRescueKeys([id("k-exp-past"), id("k-dave"), id("k-exp-soon"), id("k-p1")], for: .root)
            $0.rescueActive = true
        }
        let flagged = try world.host("hr")
        let filtered = EffectiveAccess.rescue(host: flagged, login: .root, registry: world.snapshot, now: World.now)
        #expect(filtered.map(\.keyID.rawValue) == ["k-exp-soon", "k-p1"], "expired and ineligible keys are left out")
        // Flagged: the login's own key keeps its source; the rescue key that is not already there is added as rescue.
        let entries = EffectiveAccess.compute(host: flagged, login: .root, registry: world.snapshot, now: World.now)
        #expect(entries.map(\.keyID.rawValue) == ["k-exp-soon", "k-p1"])
        #expect(entries.map(\.source) == [.rescue, .host])
        // A host with no rescue keys gets none, even with inherited logins.
        #expect(EffectiveAccess.rescue(host: try world.host("h1"), login: .root, registry: world.snapshot, now: World.now).isEmpty)
        // Rescue keys of a login the host drops go with it.
        try world.updateHost("hr") { try $0.setLogins([try login("deploy")]) }
        #expect(try world.host("hr").rescueKeys.isEmpty)
    }

    @Test("the rule that applies is reported")
    func sources() throws {
        let world = try World()
        let snapshot = world.snapshot
        let deploy = try login("deploy")
        #expect(EffectiveAccess.source(host: try world.host("h1"), login: .root, registry: snapshot) == .project)
        #expect(EffectiveAccess.source(host: try world.host("hc"), login: .root, registry: snapshot) == .cluster(try id("c1")))
        #expect(EffectiveAccess.source(host: try world.host("hx"), login: .root, registry: snapshot) == .host)
        #expect(EffectiveAccess.source(host: try world.host("hx"), login: deploy, registry: snapshot) == .cluster(try id("c1")))
        #expect(EffectiveAccess.source(host: try world.host("h2"), login: deploy, registry: snapshot) == nil)
        let entries = EffectiveAccess.compute(host: try world.host("hx"), login: .root, registry: snapshot, now: World.now)
        #expect(entries.allSatisfy { $0.source == .host })
    }

    @Test("an expiring key carries expiry-time in UTC; it disappears once expired")
    func expiring() throws {
        let world = try World()
        let host = try world.host("h1")
        let entries = EffectiveAccess.compute(host: host, login: .root, registry: world.snapshot, now: World.now)
        let soon = try #require(entries.first { $0.keyID.rawValue == "k-exp-soon" })
        #expect(soon.expiresAt == World.now + 3600)
        let text = ExpiryTime.authorizedKeysText(World.now + 3600)
        #expect(text.hasSuffix("Z") && text.utf8.count == 15)
        #expect(soon.line.hasPrefix("expiry-time=\"\(text)\" ssh-ed25519 "))
        try expectSafe(soon, options: [.expiryTime(text)])
        for entry in entries where entry.keyID.rawValue != "k-exp-soon" {
            #expect(entry.authorizedKey.options.isEmpty)
        }
        // At the expiry second and after, the key is gone; one second before, it is there.
        #expect(
            EffectiveAccess.compute(host: host, login: .root, registry: world.snapshot, now: World.now + 3599).contains {
                $0.keyID.rawValue == "k-exp-soon"
            })
        #expect(
            !EffectiveAccess.compute(host: host, login: .root, registry: world.snapshot, now: World.now + 3600).contains {
                $0.keyID.rawValue == "k-exp-soon"
            })
    }

    struct DedupCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// Expiry of the copy of k-alice's key held as p1's project key k-copy, and of k-alice itself.
        let copyExpiry: Int64?
        let aliceExpiry: Int64?
        /// Which record renders the line, and its expiry (relative to now), or nil when none is valid.
        let chosen: String?
        let chosenExpiry: Int64?
        var testDescription: String { name }
    }

    static let dedupCases: [DedupCase] = [
        DedupCase(name: "both permanent: smallest id", copyExpiry: nil, aliceExpiry: nil, chosen: "k-alice", chosenExpiry: nil),
        DedupCase(name: "permanent beats expiring", copyExpiry: 3600, aliceExpiry: nil, chosen: "k-alice", chosenExpiry: nil),
        DedupCase(name: "permanent beats expiring (other way)", copyExpiry: nil, aliceExpiry: 3600, chosen: "k-copy", chosenExpiry: nil),
        DedupCase(name: "both expiring: the later one", copyExpiry: 7200, aliceExpiry: 3600, chosen: "k-copy", chosenExpiry: 7200),
        DedupCase(name: "both expiring at once: smallest id", copyExpiry: 3600, aliceExpiry: 3600, chosen: "k-alice", chosenExpiry: 3600),
        DedupCase(name: "one expired: the valid one", copyExpiry: -1, aliceExpiry: 60, chosen: "k-alice", chosenExpiry: 60),
        DedupCase(name: "both expired: none", copyExpiry: -1, aliceExpiry: 0, chosen: nil, chosenExpiry: nil),
    ]

    @Test("the same key reachable twice appears once, rendered from the record that expires last", arguments: dedupCases)
    func dedup(_ item: DedupCase) throws {
        var world = try World()
        let alice = try #require(world.keys.first { $0.id.rawValue == "k-alice" })
        func at(_ offset: Int64?) -> UInt64? { offset.map { UInt64(Int64(World.now) + $0) } }
        world.deleteKey("k-alice")
        world.keys.append(
            try SSHKeyRecord(
                id: id("k-alice"), name: "k-alice", owner: alice.owner, publicKey: alice.publicKey, expiresAt: at(item.aliceExpiry),
                createdBy: id("alice"),
                createdAt: 0))
        world.keys.append(
            try SSHKeyRecord(
                id: id("k-copy"), name: "k-copy", owner: .project(id("p1")), publicKey: alice.publicKey, expiresAt: at(item.copyExpiry),
                createdBy: id("alice"), createdAt: 0))
        let entries = EffectiveAccess.compute(host: try world.host("h1"), login: .root, registry: world.snapshot, now: World.now)
        let matching = entries.filter { $0.publicKey.isSameKey(as: alice.publicKey) }
        guard let chosen = item.chosen else {
            #expect(matching.isEmpty)
            return
        }
        #expect(matching.count == 1)
        let entry = try #require(matching.first)
        #expect(entry.keyID.rawValue == chosen)
        #expect(entry.expiresAt == at(item.chosenExpiry))
        let valid = [("k-alice", item.aliceExpiry), ("k-copy", item.copyExpiry)].filter { $0.1.map { $0 > 0 } ?? true }.map(\.0)
        #expect(entry.grantedBy.map(\.rawValue) == valid.sorted())
        try expectSafe(entry, options: entry.expiresAt.map { [.expiryTime(ExpiryTime.authorizedKeysText($0))] } ?? [])
        #expect(Set(entries.map(\.line)).count == entries.count)
    }

    static let hostileNames: [String] = [
        #"x" command="/bin/sh"#, #"a,command="id" "#.trimmingCharacters(in: .whitespaces), "a b c", #"back\slash\"#, "quote\"", "#hash",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", "é中 ж", "\u{FF02}fullwidth quote", "\u{200B}zero width", "keyfleet:other", "a=b,c",
        String(repeating: "\\", count: 64), "restrict no-pty",
    ]

    @Test("hostile key names cannot add a line or an option", arguments: hostileNames)
    func hostileName(_ name: String) throws {
        var world = try World()
        let alice = try #require(world.keys.first { $0.id.rawValue == "k-alice" })
        world.deleteKey("k-alice")
        world.keys.append(
            try SSHKeyRecord(
                id: id("k-alice"), name: name, owner: alice.owner, publicKey: alice.publicKey, comment: name, expiresAt: World.now + 10,
                createdBy: id("alice"), createdAt: 0))
        let entries = EffectiveAccess.compute(host: try world.host("h1"), login: .root, registry: world.snapshot, now: World.now)
        let entry = try #require(entries.first { $0.keyID.rawValue == "k-alice" })
        try expectSafe(entry, options: [.expiryTime(ExpiryTime.authorizedKeysText(World.now + 10))])
        #expect(entry.authorizedKey.comment.unicodeScalars.allSatisfy { $0.isASCII && $0 != " " && $0 != "\"" && $0 != "\\" && $0 != "," })
        #expect(AuthorizedKeysFile.parse(EffectiveAccess.authorizedKeysFile(entries)).count == entries.count)
    }

    @Test("names that would inject a line are refused before they are stored")
    func injectingNames() throws {
        let key = try TestKeys.ed25519()
        for name in ["a\nssh-ed25519 AAAA", "a\rb", "a\u{0}b", "a\u{2028}b", "a\u{85}b", "a\u{2029}b"] {
            #expect(throws: PolicyError(.forbiddenCharacter, "")) {
                try SSHKeyRecord(id: id("k"), name: name, owner: .user(id("u")), publicKey: key, createdBy: id("u"), createdAt: 0)
            }
        }
    }

    @Test("random names and comments: every line reads back as one key with only the server's options")
    func randomNames() throws {
        var world = try World()
        for index in 0..<100 {
            let name = RandomInput.comment(maxLength: 64)
            world.keys.append(
                try SSHKeyRecord(
                    id: id("k-r\(index)"), name: name, owner: .project(id("p1")), publicKey: TestKeys.ed25519(), comment: RandomInput.comment(),
                    expiresAt: Bool.random() ? World.now + UInt64.random(in: 1...1_000_000_000) : nil, createdBy: id("alice"), createdAt: 0))
        }
        let entries = EffectiveAccess.compute(host: try world.host("h1"), login: .root, registry: world.snapshot, now: World.now)
        #expect(entries.count == World.p1Inherited.count + 100)
        for entry in entries {
            try expectSafe(entry, options: entry.expiresAt.map { [.expiryTime(ExpiryTime.authorizedKeysText($0))] } ?? [])
        }
        // ssh-keygen reads the whole file as authorized_keys and finds every key.
        let dir = try TemporaryDirectory()
        let file = try dir.write("authorized_keys", EffectiveAccess.authorizedKeysFile(entries))
        let listed = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", file]).text.split(separator: "\n")
        #expect(listed.count == entries.count)
        for entry in entries { #expect(listed.contains { $0.contains(entry.fingerprint + " " + entry.authorizedKey.comment) }) }
    }

    @Test("real sshd accepts a rendered line with expiry-time and refuses one whose time has passed")
    func sshdHonoursExpiry() throws {
        let dir = try TemporaryDirectory()
        let keyPath = try TestKeys.sshKeygen("ed25519", in: dir)
        let imported = try KeyImport.parse(text: try TestKeys.read(keyPath + ".pub"))
        let now = UInt64(Date().timeIntervalSince1970)
        func line(expiresAt: UInt64) throws -> String {
            let record = try SSHKeyRecord(
                id: id("k1"), name: "sshd test", owner: .project(id("p1")), publicKey: imported.publicKey, expiresAt: expiresAt,
                createdBy: id("alice"),
                createdAt: 0)
            let snapshot = RegistrySnapshot(
                users: [try User(id: id("alice"), name: "alice")], projects: [try Project(id: id("p1"), name: "p1")], keys: [record],
                hosts: [try Host(id: id("h"), project: id("p1"), name: "h")])
            let entries = EffectiveAccess.compute(
                host: try Host(id: id("h"), project: id("p1"), name: "h"), login: .root, registry: snapshot, now: now - 7200)
            return EffectiveAccess.authorizedKeysFile(entries)
        }
        let valid = try line(expiresAt: now + 7200)
        let server = try LoopbackSSHD(authorizedKeys: valid)
        #expect(try server.ssh(identity: keyPath, command: "true").status == 0, "\(server.log.suffix(1500))")
        // Rendered while still valid (an hour ago), expired since: sshd alone refuses it.
        let stale = try line(expiresAt: now - 3600)
        #expect(stale.hasPrefix("expiry-time="))
        let staleServer = try LoopbackSSHD(authorizedKeys: stale)
        #expect(try staleServer.ssh(identity: keyPath, command: "true").status == 255)
    }
}
