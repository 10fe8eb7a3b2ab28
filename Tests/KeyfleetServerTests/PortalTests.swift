import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import KeyfleetCore
import KeyfleetStore
import Synchronization
import Testing

@testable import KeyfleetServer

/// The web portal in process: sessions, form tokens, cross-site posts and the forms' parsing. The browser
/// suite (Tests/Portal, run by scripts/portal-tests.sh) drives the same pages in a real Chromium.
@Suite("Portal")
struct PortalTests {
    @Test("a key imported in the portal is what the API and the access reads see at once")
    func portalWritesSignalTheChange() async throws {
        try await TestRegistry.with { registry, client in
            let session = try await client.signIn(registry.adminToken)
            // The registry in memory is loaded and fresh before the write, as it is on a busy server.
            _ = try await client.call(.get, "/v1/ssh-keys", token: registry.adminToken)
            _ = try await registry.api.access.registry()
            let line = try TestKeys.ed25519Line()
            let answer = try await client.form(.post, "/keys/import", session: session, fields: ["name": "laptop", "public_key": line])
            #expect(answer.status == 303)
            let location = try #require(answer.headers[.location])
            let id = String(location.dropFirst("/keys/".count))
            let read = try await client.call(.get, "/v1/ssh-keys/\(id)", token: registry.adminToken)
            #expect(read.status == 200)
            let keyID = try #require(KeyID(rawValue: id))
            #expect((try await registry.api.access.registry()).snapshot.keys[keyID] != nil)
        }
    }

    @Test("a post without the session's form token, or that a browser marks cross-site, is refused and stores nothing")
    func forgedAndCrossSitePostsAreRefused() async throws {
        try await TestRegistry.with { registry, client in
            let session = try await client.signIn(registry.adminToken)
            let fetchSite = try #require(HTTPField.Name("Sec-Fetch-Site"))
            let refusals: [(HTTPFields, String)] = [
                ([:], "kff_" + String(repeating: "x", count: 43)),
                ([:], ""),
                ([.origin: "https://evil.example"], session.formToken),
                ([.origin: "null"], session.formToken),
                ([fetchSite: "cross-site"], session.formToken),
                ([fetchSite: "same-site"], session.formToken),
            ]
            for (headers, formToken) in refusals {
                let answer = try await client.form(
                    .post, "/projects", session: session, fields: ["name": "forged"], formToken: formToken, headers: headers)
                #expect(answer.status == 403, "\(headers) \(formToken)")
            }
            let projects = try await client.call(.get, "/v1/projects", token: registry.adminToken)
            #expect(projects.items.isEmpty)
            // The same post, same-origin and with the token, goes through.
            let accepted = try await client.form(
                .post, "/projects", session: session, fields: ["name": "real"], headers: [fetchSite: "same-origin"])
            #expect(accepted.status == 303)
        }
    }

    @Test("a session ends after its idle time, and with sign-out, on the server")
    func sessionsEnd() async throws {
        let clock = SessionClock()
        let sessions = PortalSessions(limits: .init(idle: .seconds(60), lifetime: .seconds(300)), now: { clock.now })
        try await TestRegistry.with(sessions: sessions) { registry, client in
            let session = try await client.signIn(registry.adminToken)
            clock.advance(.seconds(59))
            #expect(try await client.page("/keys", session: session).status == 200)
            clock.advance(.seconds(59))
            #expect(try await client.page("/keys", session: session).status == 200, "each request restarts the idle time")
            clock.advance(.seconds(61))
            #expect(try await client.page("/keys", session: session).status == 401)

            // However busy, a session ends at its lifetime.
            let busy = try await client.signIn(registry.adminToken)
            for _ in 0..<5 {
                clock.advance(.seconds(50))
                #expect(try await client.page("/keys", session: busy).status == 200)
            }
            clock.advance(.seconds(51))
            #expect(try await client.page("/keys", session: busy).status == 401)

            let second = try await client.signIn(registry.adminToken)
            #expect(try await client.form(.post, "/sign-out", session: second, fields: [:]).status == 303)
            #expect(try await client.page("/keys", session: second).status == 401)
        }
    }

    @Test("a read-only token's session may not write, whatever the form says")
    func readOnlySessionsDoNotWrite() async throws {
        try await TestRegistry.with { registry, client in
            let reader = try await client.apiUser(registry, "reader", scope: "read-only")
            let session = try await client.signIn(reader.token)
            let answer = try await client.form(.post, "/projects", session: session, fields: ["name": "nope"])
            #expect(answer.status == 403)
            #expect(answer.text.contains("may only read"))
            #expect(!(try await client.page("/keys", session: session).text.contains("/keys/new")))
            #expect(try await client.call(.get, "/v1/projects", token: registry.adminToken).items.isEmpty)
        }
    }

    @Test("what users type is escaped on the page")
    func valuesAreEscaped() async throws {
        try await TestRegistry.with { registry, client in
            let session = try await client.signIn(registry.adminToken)
            let hostile = "<script>alert('x')</script>&\""
            _ = try await client.apiProject(registry.adminToken, hostile)
            let page = try await client.page("/projects", session: session).text
            #expect(!page.contains(hostile))
            #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"))
        }
    }

    @Test("urlencoded forms decode + and %XX, and refuse a broken escape")
    func urlEncodedForms() throws {
        let form = try PortalForm.parseURLEncoded(Array("a=one+two&b=%3Cx%3E%26&a=second&empty=&flag".utf8))
        #expect(form["a"] == "one two")
        #expect(form["b"] == "<x>&")
        #expect(form["empty"] == "" && form["flag"] == "" && form["missing"] == "")
        #expect(throws: APIProblem.self) { try PortalForm.parseURLEncoded(Array("a=%4".utf8)) }
        #expect(throws: APIProblem.self) { try PortalForm.parseURLEncoded(Array("a=%ff".utf8)) }
    }

    @Test("random multipart forms read back field by field, and random bytes never crash the reader", arguments: 0..<200)
    func multipartForms(seed: Int) throws {
        let boundary = "----b" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var fields = [String: String]()
        for index in 0..<Int.random(in: 0...6) {
            // Values with line breaks, dashes and quotes, never the delimiter itself.
            let alphabet = Array("ab -\r\n\"'<>=&;:é🔑")
            fields["field\(index)"] = String((0..<Int.random(in: 0...40)).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
        }
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        body += "--\(boundary)--\r\n"
        let form = try PortalForm.parseMultipart(Array(body.utf8), boundary: boundary)
        #expect(form.fields == fields)

        var garbage = Array(body.utf8)
        for _ in 0..<Int.random(in: 1...8) where !garbage.isEmpty {
            garbage[Int.random(in: 0..<garbage.count)] = UInt8.random(in: 0...255)
        }
        _ = try? PortalForm.parseMultipart(garbage, boundary: boundary)
        _ = try? PortalForm.parseMultipart(RandomInput.bytes(Int.random(in: 0...200)), boundary: boundary)
        _ = try? PortalForm.parseURLEncoded(RandomInput.bytes(Int.random(in: 0...200)))
    }
}

/// The sessions' clock, moved by hand.
final class SessionClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(_ duration: Duration) {
        instant.withLock { $0 += duration }
    }
}

/// A signed-in portal session in the test client.
struct PortalSession: Sendable {
    let cookie: String
    let formToken: String
}

extension TestClientProtocol {
    /// Signs in with `token`; the session's cookie and the form token its pages carry.
    func signIn(_ token: String) async throws -> PortalSession {
        let answer = try await execute(
            uri: "/sign-in", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: "token=" + token)
        ) { response in (response.status.code, response.headers[.setCookie] ?? "") }
        guard answer.0 == 303, let cookie = answer.1.split(separator: ";").first else {
            throw FixtureError(description: "sign-in answered \(answer.0)")
        }
        let page = try await page("/tokens", session: PortalSession(cookie: String(cookie), formToken: ""))
        guard let start = page.text.range(of: "name=\"csrf\" value=\""), let end = page.text[start.upperBound...].firstIndex(of: "\"") else {
            throw FixtureError(description: "no form token on the page")
        }
        return PortalSession(cookie: String(cookie), formToken: String(page.text[start.upperBound..<end]))
    }

    /// Gets a portal page with the session's cookie.
    func page(_ path: String, session: PortalSession) async throws -> JSONAnswer {
        try await call(.get, path, token: nil, headers: [.cookie: session.cookie])
    }

    /// Posts an urlencoded form with the session's cookie and form token (or `formToken`).
    func form(
        _ method: HTTPRequest.Method, _ path: String, session: PortalSession, fields: [String: String], formToken: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> JSONAnswer {
        var all = fields
        all["csrf"] = formToken ?? session.formToken
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        var headers = headers
        headers[.cookie] = session.cookie
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await call(method, path, token: nil, json: body, headers: headers)
    }
}
