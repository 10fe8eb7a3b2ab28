internal import Foundation
internal import HTTPTypes
public import Hummingbird
internal import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore
internal import NIOCore

/// The web portal: server-rendered pages at `/` on the API's own port, for everything the API does.
///
/// A browser signs in with an API token and gets a session (``PortalSessions``). Every page runs as the
/// session's user through ``Authenticator/asUser(hash:operationID:isRead:_:)`` and calls the API's own
/// handlers (``RegistryAPI``), so that the portal has no rules of its own: what a user may see or change,
/// and every refusal, is the API's. Pages are Mustache templates (``PortalPages``) that escape every value;
/// the stylesheet and script are served from the binary (``PortalAssets``), and every answer carries a
/// content security policy that allows nothing else.
///
/// Writes are form posts. Each carries the session's form token, and a post a browser marks as cross-site
/// (`Sec-Fetch-Site`, or an `Origin` that is not this server) is refused with 403 before anything is read.
public struct Portal: Sendable {
    let api: RegistryAPI
    let authenticator: Authenticator
    let sessions: PortalSessions
    let pages: PortalPages
    /// Whether the server runs under TLS: the cookie is then `Secure` and `__Host-` prefixed.
    let secure: Bool

    /// The largest form accepted (an import form carries at most a 16 KiB key).
    static let maximumFormSize = 256 * 1024

    /// The portal over `api`.
    public init(api: RegistryAPI, sessions: PortalSessions, secure: Bool) throws {
        self.api = api
        self.authenticator = Authenticator(store: api.store, cache: api.credentials)
        self.sessions = sessions
        self.pages = try PortalPages()
        self.secure = secure
    }

    var cookieName: String { secure ? "__Host-keyfleet-session" : "keyfleet-session" }

    /// Adds the portal's routes to `router`.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in await self.home(request) }
        router.post("/sign-in") { request, _ in await self.signIn(request) }
        router.post("/sign-out") { request, _ in await self.signOut(request) }
        for asset in PortalAssets.all {
            router.get(RouterPath(asset.path)) { _, _ in asset.response }
        }
        registerKeys(on: router)
        registerProjects(on: router)
        registerHosts(on: router)
        registerClusters(on: router)
        registerAudit(on: router)
        registerTokens(on: router)
    }

    // MARK: Signing in and out

    private func home(_ request: Request) async -> Response {
        if let identifier = request.cookies[cookieName]?.value, sessions.use(identifier) != nil {
            return Self.redirect("/keys")
        }
        return signInPage(status: .ok, error: nil, notice: nil)
    }

    func signInPage(status: HTTPResponse.Status, error: String?, notice: String?) -> Response {
        var page = PortalPage(title: "Sign in", template: "sign-in")
        page.error = error
        page.notice = notice
        return render(page, status: status)
    }

    private func signIn(_ request: Request) async -> Response {
        do {
            try Self.refuseCrossSite(request)
            let form = try await PortalForm.read(request, limit: 4096)
            let token = form["token"].trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty, token.utf8.count <= 512 else {
                return signInPage(status: .unauthorized, error: "Paste an API token (kft_…) to sign in.", notice: nil)
            }
            let hash = Secrets.hash(token)
            _ = try await authenticator.asUser(hash: hash, operationID: "getCurrentUser", isRead: true) { try api.currentUser() }
            if let old = request.cookies[cookieName]?.value { sessions.end(old) }
            let identifier = sessions.start(tokenHash: hash)
            var response = Self.redirect("/keys")
            response.setCookie(sessionCookie(identifier, maxAge: Int(sessions.limits.lifetime.components.seconds)))
            return response
        } catch let error as APIProblem where error.status == 401 {
            return signInPage(status: .unauthorized, error: "That token is unknown or revoked.", notice: nil)
        } catch {
            return failure(error, signedIn: nil)
        }
    }

    private func signOut(_ request: Request) async -> Response {
        do {
            try Self.refuseCrossSite(request)
            let form = try await PortalForm.read(request, limit: 4096)
            if let identifier = request.cookies[cookieName]?.value, let session = sessions.use(identifier) {
                guard Self.sameToken(form["csrf"], session.formToken) else { throw PortalRefusal.forgedForm }
                sessions.end(identifier)
            }
            var response = Self.redirect("/")
            response.setCookie(sessionCookie("", maxAge: 0))
            return response
        } catch {
            return failure(error, signedIn: nil)
        }
    }

    private func sessionCookie(_ value: String, maxAge: Int) -> Cookie {
        Cookie(name: cookieName, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    // MARK: Signed-in pages

    /// The values a route's path names (`:id`, `:user`), empty when absent.
    struct PathValues: Sendable {
        let parameters: Parameters

        subscript(_ name: String) -> String { parameters.get(name) ?? "" }
    }

    /// Adds the signed-in page at `path`: GET, or POST when `write`, run as `operation` of the API (see
    /// ``visit(_:operation:write:_:)``).
    func page(
        _ path: String, on router: Router<BasicRequestContext>, operation: String, write: Bool = false,
        _ handle: @escaping @Sendable (Visit, PathValues) async throws -> Response
    ) {
        let responder: @Sendable (Request, BasicRequestContext) async -> Response = { request, context in
            let values = PathValues(parameters: context.parameters)
            return await visit(request, operation: operation, write: write) { try await handle($0, values) }
        }
        if write {
            router.post(RouterPath(path), use: responder)
        } else {
            router.get(RouterPath(path), use: responder)
        }
    }

    /// ``page(_:on:operation:write:_:)`` for a path that names nothing.
    func page(
        _ path: String, on router: Router<BasicRequestContext>, operation: String, write: Bool = false,
        _ handle: @escaping @Sendable (Visit) async throws -> Response
    ) {
        page(path, on: router, operation: operation, write: write) { visit, _ in try await handle(visit) }
    }

    /// Runs `handle` for the signed-in user of `request`, as `operation` of the API; a post is first checked
    /// for being same-site and carrying the session's form token, and its form is read.
    ///
    /// Without a live session a page sends the browser to sign in; every refusal becomes a page with the
    /// API's status and words.
    func visit(
        _ request: Request, operation: String, write: Bool = false, _ handle: @escaping @Sendable (Visit) async throws -> Response
    ) async -> Response {
        do {
            if write { try Self.refuseCrossSite(request) }
            guard let identifier = request.cookies[cookieName]?.value, let session = sessions.use(identifier) else {
                if write { throw PortalRefusal.noSession }
                return signInPage(status: .unauthorized, error: nil, notice: "Sign in to continue.")
            }
            let form = write ? try await PortalForm.read(request, limit: Self.maximumFormSize) : PortalForm()
            if write, !Self.sameToken(form["csrf"], session.formToken) { throw PortalRefusal.forgedForm }
            return try await authenticator.asUser(hash: session.tokenHash, operationID: operation, isRead: !write) {
                let (user, token) = try api.currentUser()
                let visit = Visit(
                    request: request, sessionID: identifier, formToken: session.formToken, notice: session.notice, user: user, token: token,
                    form: form)
                // A write tells waiting agents and the kept registry, as ChangeMiddleware does for the API's
                // writes (a refused one changed nothing, and the extra signal costs one version read).
                defer { if write, !ChangeMiddleware.silentOperations.contains(operation) { api.changes.changed() } }
                do {
                    return try await handle(visit)
                } catch let error as APIProblem where error.status == 401 {
                    throw error
                } catch {
                    return failure(error, signedIn: visit)
                }
            }
        } catch let error as APIProblem where error.status == 401 {
            if let identifier = request.cookies[cookieName]?.value { sessions.end(identifier) }
            var response = signInPage(status: .unauthorized, error: nil, notice: "Your token no longer signs you in; sign in again.")
            response.setCookie(sessionCookie("", maxAge: 0))
            return response
        } catch {
            return failure(error, signedIn: nil)
        }
    }

    /// A page for `error`: the API's status and words, or 403 for a refused form.
    func failure(_ error: any Error, signedIn visit: Visit?) -> Response {
        if let refusal = error as? PortalRefusal {
            var page = PortalPage(title: "Refused", template: "error")
            page.error = refusal.description
            return render(page, status: .forbidden, visit: visit)
        }
        let problem = ProblemMapping.problem(for: error)
        if ProblemMapping.isServerFault(problem) {
            api.logger.error("portal page failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        var page = PortalPage(title: problem.title, template: "error")
        page.error = problem.detail ?? problem.title
        return render(page, status: HTTPResponse.Status(code: problem.status), visit: visit)
    }

    /// The page `page` as HTML with the portal's headers.
    func render(_ page: PortalPage, status: HTTPResponse.Status = .ok, visit: Visit? = nil) -> Response {
        let html = pages.render(page, visit: visit)
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 to `path` (after a post, so that reloading does not post again).
    static func redirect(_ path: String) -> Response {
        var headers = securityHeaders
        headers[.location] = path
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// Headers on every portal answer: nothing but this server's own stylesheet and script runs, the page
    /// is never framed, and no other site learns its address. (`same-origin`, not `no-referrer`: under
    /// `no-referrer` browsers send `Origin: null` with the portal's own form posts.)
    static let securityHeaders: HTTPFields = {
        var headers: HTTPFields = [
            .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff",
        ]
        for (name, value) in [("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"), ("Cross-Origin-Opener-Policy", "same-origin")] {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return headers
    }()

    /// The API's refusal of what a form said (a 4xx other than a lost sign-in), for the page to show beside
    /// the form; any other error is thrown on, to the error page or the sign-in page.
    static func formRefusal(_ error: any Error) throws -> Components.Schemas.Problem {
        let problem = ProblemMapping.problem(for: error)
        guard (400..<500).contains(problem.status), problem.status != 401 else { throw error }
        return problem
    }

    // MARK: Cross-site posts

    /// Throws ``PortalRefusal/crossSite`` when the browser says the post comes from another site:
    /// `Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` whose host and port are not this
    /// server's `Host`.
    static func refuseCrossSite(_ request: Request) throws {
        if let name = HTTPField.Name.secFetchSite, let site = request.headers[name], site != "same-origin", site != "none" {
            throw PortalRefusal.crossSite
        }
        if let origin = request.headers[.origin] {
            guard let host = request.head.authority, let separator = origin.range(of: "://"), origin[separator.upperBound...] == host else {
                throw PortalRefusal.crossSite
            }
        }
    }

    /// Compares form tokens in time that does not depend on where they differ.
    static func sameToken(_ given: String, _ expected: String) -> Bool {
        let given = Array(given.utf8)
        let expected = Array(expected.utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// One signed-in request: who, their session, and the posted form.
struct Visit: Sendable {
    let request: Request
    let sessionID: String
    let formToken: String
    /// The notice left by the previous post, shown once.
    let notice: String?
    let user: User
    let token: APIToken
    let form: PortalForm

    /// Whether the session's token may change anything.
    var mayWrite: Bool { token.scope == .readWrite }
    var isAdmin: Bool { user.role == .admin }

    /// A query parameter, empty when absent.
    func query(_ name: String) -> String {
        request.uri.queryParameters.get(name) ?? ""
    }
}

/// A post the portal refuses before reading it.
enum PortalRefusal: Error, CustomStringConvertible {
    case crossSite
    case forgedForm
    case noSession

    var description: String {
        switch self {
        case .crossSite: "This form was sent from another site; nothing was changed."
        case .forgedForm: "This form is out of date or was not made by this portal; reload the page and try again."
        case .noSession: "You are not signed in (or your session ended); nothing was changed."
        }
    }
}

extension HTTPField.Name {
    /// `Sec-Fetch-Site`, which HTTPTypes does not name.
    static let secFetchSite = Self("Sec-Fetch-Site")
}
