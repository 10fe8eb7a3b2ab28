import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetServer
import KeyfleetStore
import Testing

@Suite("The API's JSON as curl shows it")
struct JSONOutputTests {
    @Test("a fingerprint with a slash reads SHA256:ab/cd, not SHA256:ab\\/cd")
    func slashesUnescaped() async throws {
        try await TestRegistry.with { registry, client in
            let world = try await HostWorld.make(registry)
            // About half of all SHA-256 fingerprints hold a `/`; make keys until one does.
            var record = world.projectKey
            for index in 0..<64 where !record.sha256Fingerprint.contains("/") {
                record = try await registry.key("slash-\(index)", owner: .project(world.project.id), by: world.owner.id)
            }
            try #require(record.sha256Fingerprint.contains("/"))
            let answer = try await client.call(.get, "/v1/ssh-keys/\(record.id.rawValue)", token: world.owner.token)
            #expect(answer.status == 200)
            #expect(answer.text.contains(record.sha256Fingerprint), "\(answer.text)")
            #expect(!answer.text.contains("\\/"), "\(answer.text)")
        }
    }
}
