import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

@Suite("Review fixes: contract conformance, atomic host creation, bounded lists")
struct ReviewFixesTests {
    @Test("next_cursor holds only the characters the contract's pattern allows, and is taken back")
    func cursorMatchesContractPattern() async throws {
        try await TestRegistry.with { registry, client in
            let first = try await client.call(.get, "/v1/audit?limit=1", token: registry.adminToken)
            #expect(first.status == 200)
            let cursor = try #require(first.object["next_cursor"] as? String)
            let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            #expect(!cursor.isEmpty && cursor.allSatisfy { allowed.contains($0) }, "\(cursor)")
            let second = try await client.call(.get, "/v1/audit?limit=1&cursor=\(cursor)", token: registry.adminToken)
            #expect(second.status == 200)
            #expect(second.items.first?["sequence"] as? Int != first.items.first?["sequence"] as? Int)
        }
    }
}
