import Hummingbird
import Testing

@Suite("Service routes and authentication")
struct ServiceTests {
    @Test("health answers without a token; API routes refuse a missing, malformed or unknown token")
    func healthAndAuthentication() async throws {
        try await TestRegistry.with { registry, client in
            let health = try await client.call(.get, "/health", token: nil)
            #expect(health.status == 200)
            #expect(health.object["status"] as? String == "ok")
            for token in [nil, "", "kft_unknown-token-that-is-long-enough-to-pass", registry.adminToken + "x"] {
                let answer = try await client.call(.get, "/v1/users/me", token: token)
                #expect(answer.status == 401)
                #expect(answer.code == "unauthorized")
                #expect(answer.headers[.contentType] == "application/problem+json")
            }
            let document = try await client.call(.get, "/openapi.yaml", token: nil)
            #expect(document.status == 200)
            #expect(document.text.hasPrefix("openapi: 3.1.0"))
        }
    }

    @Test("an unknown path is a problem document")
    func unknownPath() async throws {
        try await TestRegistry.with { _, client in
            let answer = try await client.call(.get, "/v1/nothing-here", token: nil)
            #expect(answer.status == 404)
            #expect(answer.code == "not-found")
        }
    }

    @Test("a body over the limit is refused with 413 before a handler runs")
    func bodyLimit() async throws {
        try await TestRegistry.with { registry, client in
            let huge = "{\"name\":\"" + String(repeating: "a", count: 2 << 20) + "\"}"
            let answer = try await client.call(.post, "/v1/projects", token: registry.adminToken, json: huge)
            #expect(answer.status == 413)
            #expect(answer.code == "request-too-large")
        }
    }
}

@Suite("Bodies of a content type the operation does not take")
struct ContentTypeTests {
    @Test("a non-JSON body is 415 unsupported-media-type, and the server keeps serving", arguments: ["text/plain", "application/xml", "image/png"])
    func unsupportedContentType(_ contentType: String) async throws {
        try await TestRegistry.with { registry, client in
            var headers = HTTPFields()
            headers[.contentType] = contentType
            let answer = try await client.call(.post, "/v1/projects", token: registry.adminToken, json: #"{"name":"web"}"#, headers: headers)
            #expect(answer.status == 415, "\(answer.text)")
            #expect(answer.code == "unsupported-media-type")
            #expect(try await client.call(.get, "/health", token: nil).status == 200)
        }
    }
}

@Suite("The bearer header")
struct BearerHeaderTests {
    @Test("the scheme is case-insensitive and blanks around the token are ignored; other schemes and empty tokens are not tokens")
    func parsing() async throws {
        try await TestRegistry.with { registry, client in
            for header in ["Bearer \(registry.adminToken)", "bearer \(registry.adminToken)", "BEARER   \(registry.adminToken) \t"] {
                var headers = HTTPFields()
                headers[.authorization] = header
                let answer = try await client.call(.get, "/v1/users/me", token: nil, headers: headers)
                #expect(answer.status == 200, "\(header)")
            }
            for header in ["Basic \(registry.adminToken)", "Bearer", "Bearer    ", registry.adminToken] {
                var headers = HTTPFields()
                headers[.authorization] = header
                let answer = try await client.call(.get, "/v1/users/me", token: nil, headers: headers)
                #expect(answer.status == 401, "\(header)")
            }
        }
    }
}
