import Foundation
import Testing

/// Every listing checks its shared query parameters (limit, cursor, label, name) by the same rules.
@Suite("Listing parameters are checked alike on every listing")
struct ListParametersTests {
    static let listings = ["/v1/ssh-keys", "/v1/projects", "/v1/hosts", "/v1/clusters", "/v1/users", "/v1/tokens", "/v1/audit"]

    @Test("a cursor that is empty or over 512 bytes is refused as malformed", arguments: listings)
    func malformedCursor(path: String) async throws {
        try await TestRegistry.with { registry, client in
            for cursor in ["", String(repeating: "a", count: 513)] {
                let answer = try await client.call(.get, "\(path)?cursor=\(cursor)", token: registry.adminToken)
                #expect(answer.status == 400, "\(path) cursor of \(cursor.count): \(answer.text)")
                #expect(answer.code == "invalid-input" && answer.object["field"] as? String == "cursor", "\(answer.text)")
            }
        }
    }

    @Test("a limit outside 1 to 1000 is refused", arguments: listings)
    func limitOutOfRange(path: String) async throws {
        try await TestRegistry.with { registry, client in
            for limit in [0, 1001] {
                let answer = try await client.call(.get, "\(path)?limit=\(limit)", token: registry.adminToken)
                #expect(answer.status == 400 && answer.object["field"] as? String == "limit", "\(path) limit \(limit): \(answer.text)")
            }
        }
    }

    @Test("a label filter that is not a valid key=value label is refused", arguments: ["/v1/ssh-keys", "/v1/hosts"])
    func invalidLabel(path: String) async throws {
        try await TestRegistry.with { registry, client in
            // No '=', an empty key, a control character in the value.
            for label in ["env", "%3Dprod", "env%3Dpr%01od"] {
                let answer = try await client.call(.get, "\(path)?label=\(label)", token: registry.adminToken)
                #expect(answer.status == 400 && answer.object["field"] as? String == "label", "\(path) label \(label): \(answer.text)")
            }
        }
    }

    @Test("a name filter that could not be a name is refused", arguments: ["/v1/ssh-keys", "/v1/projects", "/v1/hosts", "/v1/clusters", "/v1/users"])
    func invalidName(path: String) async throws {
        try await TestRegistry.with { registry, client in
            for name in [String(repeating: "n", count: 65), "%20web"] {
                let answer = try await client.call(.get, "\(path)?name=\(name)", token: registry.adminToken)
                #expect(answer.status == 400 && answer.object["field"] as? String == "name", "\(path) name \(name): \(answer.text)")
            }
        }
    }
}
