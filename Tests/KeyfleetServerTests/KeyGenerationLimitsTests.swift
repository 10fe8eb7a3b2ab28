import Foundation
import HTTPTypes
import HummingbirdTesting
import KeyfleetCore
import Logging
import OpenAPIRuntime
import Testing

@testable import KeyfleetServer

/// Server-side generation cannot hold the server: one per user, a few in all, RSA at most 4096 bits.
@Suite("Key generation limits")
struct KeyGenerationLimitsTests {
    @Test("one generation per user and at most the generator's capacity in all; beyond, 429 with Retry-After")
    func admission() async throws {
        let generator = KeyGenerator(threads: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let alice = try UserID("alice")
        let bob = try UserID("bob")
        let carol = try UserID("carol")
        async let first: Int = generator.run(for: alice) {
            started.signal()
            release.wait()
            return 1
        }
        await Task.detached { started.wait() }.value
        // Alice's second is refused at once, whatever the capacity.
        let again = await #expect(throws: APIProblem.self) { try await generator.run(for: alice) { 2 } }
        #expect(again?.code == "too-many-requests")
        // Bob's waits its turn (capacity 2 with one thread); Carol's is over the capacity.
        async let second: Int = generator.run(for: bob) { 3 }
        try await Task.sleep(for: .milliseconds(100))
        let refused = await #expect(throws: APIProblem.self) { try await generator.run(for: carol) { 4 } }
        #expect(refused?.status == 429)
        #expect(refused?.retryAfter == 2)
        release.signal()
        #expect(try await first == 1)
        #expect(try await second == 3)
        // Once done, everyone may generate again.
        #expect(try await generator.run(for: alice) { 5 } == 5)
        #expect(try await generator.run(for: carol) { 6 } == 6)
    }

    @Test("a 429 carries Retry-After and a problem document")
    func retryAfterHeader() async throws {
        let middleware = ProblemMiddleware(logger: Logger(label: "test"), maximumBodySize: 1024)
        let (response, body) = try await middleware.intercept(
            HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/v1/ssh-keys/generate"), body: nil,
            metadata: ServerRequestMetadata(), operationID: "generateSSHKey"
        ) { _, _, _ in throw APIProblem.tooManyRequests("busy", retryAfter: 2) }
        #expect(response.status.code == 429)
        #expect(response.headerFields[.retryAfter] == "2")
        let text = try await String(collecting: try #require(body), upTo: 4096)
        #expect(text.contains(#""code":"too-many-requests""#))
    }

    @Test("the server generates RSA keys of 2048 to 4096 bits; 8192 is refused before any work")
    func rsaCap() async throws {
        try await TestRegistry.with { registry, client in
            let refused = try await client.call(
                .post, "/v1/ssh-keys/generate", token: registry.adminToken, json: ["name": "big", "type": "rsa", "bits": 8192])
            #expect(refused.status == 422, "\(refused.text)")
            #expect(refused.code == "invalid-key")
            #expect((refused.object["detail"] as? String)?.contains("keyfleet keygen") == true, "says where larger keys come from")
            let made = try await client.call(
                .post, "/v1/ssh-keys/generate", token: registry.adminToken, json: ["name": "ok", "type": "rsa", "bits": 2048])
            #expect(made.status == 201, "\(made.text)")
        }
    }
}
