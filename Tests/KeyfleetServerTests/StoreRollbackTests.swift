import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import SQLKit
import Testing

@testable import KeyfleetStore

/// A database that goes back in time under a running server: restored from a backup, or failed over to a
/// replica that had not received the last commits. The server must serve what the store holds now.
@Suite("A store whose version goes back")
struct StoreRollbackTests {
    /// `type base64` of a stored key, as every line that grants it holds.
    static func material(_ key: SSHKeyRecord) -> String {
        key.publicKey.openSSHLine.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// The sync answer's version and every line it grants.
    static func sync(_ client: some TestClientProtocol, _ credential: String, known: Int64) async throws -> (
        status: Int, version: Int64, lines: [String]
    ) {
        let answer = try await client.call(.get, "/v1/agent/sync?version=\(known)&wait=0", token: credential)
        let logins = answer.object["logins"] as? [String: [String]] ?? [:]
        return (answer.status, (answer.object["version"] as? NSNumber)?.int64Value ?? known, logins.values.flatMap { $0 })
    }

    @Test("commits lost under a running server: the agent is sent what the store holds, at a version above every earlier one")
    func lostCommitsAreNotServed() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            let (_, credential) = try await DeletionTests.enrolledHost(client, world)
            let first = try await Self.sync(client, credential, known: 0)
            #expect(first.status == 200 && !first.lines.isEmpty)
            let before = try await registry.store.version()

            // A key granted, then lost with the commit that made it.
            let extra = try await registry.key("lost", owner: .project(world.project.id), by: world.owner.id)
            let granted = try await Self.sync(client, credential, known: first.version)
            #expect(granted.status == 200 && granted.lines.contains { $0.contains(Self.material(extra)) })
            // In a transaction of the store's own, so that it does not run inside one the server has open.
            try await registry.store.write(by: .system) { tx in
                try await tx.run("DELETE FROM ssh_keys WHERE id = \(bind: extra.id.rawValue)")
                try await tx.run("UPDATE registry_state SET version = \(bind: Int64(before)) WHERE id = 1")
            }
            // The version check (StoreWatcher) sees the version move and signals.
            registry.api.changes.changed()

            let restored = try await Self.sync(client, credential, known: granted.version)
            #expect(restored.status == 200, "the server kept serving the lost key")
            #expect(!restored.lines.contains { $0.contains(Self.material(extra)) })
            #expect(restored.version > granted.version)

            // The next change, at a store version the server saw before, is served too.
            let later = try await registry.key("later", owner: .project(world.project.id), by: world.owner.id)
            let next = try await Self.sync(client, credential, known: restored.version)
            #expect(next.status == 200 && next.lines.contains { $0.contains(Self.material(later)) })
            #expect(next.version > restored.version)
        }
    }
}
