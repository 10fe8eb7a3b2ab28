public import AsyncHTTPClient
internal import Foundation
public import KeyfleetAPI
internal import NIOCore
public import NIOSSL
internal import OpenAPIAsyncHTTPClient
internal import OpenAPIRuntime

/// How the client and the agent reach the registry: timeouts, whose certificate they trust, how large an
/// answer may be.
public struct RegistrySettings: Sendable {
    /// How long establishing a connection may take.
    public var connectTimeout: Duration
    /// How long the server may be silent while an answer is under way; nil for no limit.
    public var readTimeout: Duration?
    /// How long one call may take as a whole.
    public var callTimeout: Duration
    /// Whether a failed connection is retried until ``callTimeout``: a person at a terminal wants to hear
    /// at once that the server is not there; a long-running agent may wait.
    public var retriesConnecting: Bool
    /// The one certificate trusted, instead of the system's roots; nil for the system's.
    public var pin: PinnedCertificate?
    /// The most bytes the answer to an operation may have, by its identifier.
    public var answerLimit: @Sendable (String) -> Int64

    /// Settings; by default those of a command run by a person: 10 s to connect, no retries, 60 s a call,
    /// the system's roots and answers of up to 1 MiB.
    public init(
        connectTimeout: Duration = .seconds(10), readTimeout: Duration? = nil, callTimeout: Duration = .seconds(60),
        retriesConnecting: Bool = false, pin: PinnedCertificate? = nil, answerLimit: @escaping @Sendable (String) -> Int64 = { _ in 1 << 20 }
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.callTimeout = callTimeout
        self.retriesConnecting = retriesConnecting
        self.pin = pin
        self.answerLimit = answerLimit
    }
}

/// A certificate that is the only trust anchor: the server's own self-signed certificate, or the CA that
/// signed it, as pinned at enrollment (see ``ServerPin``).
public struct PinnedCertificate: Sendable {
    /// The certificate.
    public let certificate: NIOSSLCertificate
    /// Whether it is the server's own certificate (which names the server by itself, whatever address
    /// reaches it) rather than a CA (whose certificates must still carry the name used).
    public let isLeaf: Bool

    /// The certificate `certificate` pins.
    public init(_ certificate: NIOSSLCertificate, isLeaf: Bool) {
        self.certificate = certificate
        self.isLeaf = isLeaf
    }

    /// The certificate in `pem`.
    public init(pem: String, isLeaf: Bool) throws(RegistryError) {
        do {
            certificate = try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)
        } catch {
            throw RegistryError(.invalidConfiguration, "the pinned certificate cannot be read: \(RegistryError.printable(String(describing: error)))")
        }
        self.isLeaf = isLeaf
    }
}

extension HTTPClient {
    /// An HTTP client set up for the registry with `settings`: redirects refused (a bearer token goes
    /// only where it was meant to), and TLS trusting only the pinned certificate when there is one. Its
    /// owner shuts it down (or keeps it for the life of the process).
    public static func registry(_ settings: RegistrySettings) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: TimeAmount(settings.connectTimeout), read: settings.readTimeout.map { TimeAmount($0) })
        configuration.connectionPool.retryConnectionEstablishment = settings.retriesConnecting
        configuration.redirectConfiguration = .disallow
        if let pin = settings.pin {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates([pin.certificate])
            tls.certificateVerification = pin.isLeaf ? .noHostnameVerification : .fullVerification
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// The registry's API at one server, through the client generated from the OpenAPI document: the bearer
/// token on every request, every answer of 400 or more thrown as a ``RegistryError`` with its ``Problem``,
/// every answer cut at its limit while it arrives, and every failure told apart by its type
/// (``RegistryError/init(_:server:)``).
public struct RegistryConnection: Sendable {
    /// The server's URL, as given.
    public let server: String
    /// The generated client.
    public let api: Client
    private let http: HTTPClient

    /// A connection to `server` over an HTTP client of its own, set up with `settings`, sending `token` as
    /// bearer token when given; ``shutdown()`` releases it.
    public init(server: String, token: String?, settings: RegistrySettings) throws(RegistryError) {
        let url = try Self.url(server)
        self.init(server: server, url: url, token: token, settings: settings, http: .registry(settings))
    }

    /// A connection to `server` over `http`, an HTTP client shared by the process (see
    /// ``AsyncHTTPClient/HTTPClient/registry(_:)``), which its owner shuts down or keeps for the life of
    /// the process.
    public init(server: String, token: String?, settings: RegistrySettings, sharing http: HTTPClient) throws(RegistryError) {
        self.init(server: server, url: try Self.url(server), token: token, settings: settings, http: http)
    }

    private init(server: String, url: URL, token: String?, settings: RegistrySettings, http: HTTPClient) {
        let middlewares: [any ClientMiddleware] =
            (token.map { [BearerToken(token: $0)] } ?? []) + [ProblemAnswers(), AnswerLimit(limit: settings.answerLimit)]
        let transport = AsyncHTTPClientTransport(configuration: .init(client: http, timeout: TimeAmount(settings.callTimeout)))
        self.server = server
        self.http = http
        api = Client(serverURL: url, transport: transport, middlewares: middlewares)
    }

    private static func url(_ server: String) throws(RegistryError) -> URL {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil else {
            throw RegistryError(.invalidConfiguration, "the server URL \"\(RegistryError.printable(server))\" is not an http(s) URL")
        }
        return url
    }

    /// Runs `body` with the API, turning whatever it throws into a ``RegistryError``.
    public func call<T>(_ body: (Client) async throws -> T) async throws(RegistryError) -> T {
        do {
            return try await body(api)
        } catch {
            throw RegistryError(error, server: server)
        }
    }

    /// Shuts down the HTTP client of the connection (also one it was given to share).
    public func shutdown() async {
        try? await http.shutdown()
    }
}
