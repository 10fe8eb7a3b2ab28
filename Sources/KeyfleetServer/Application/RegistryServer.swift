internal import KeyfleetCore
internal import KeyfleetVersion
internal import Foundation
public import Hummingbird
internal import HummingbirdCore
internal import HummingbirdTLS
internal import KeyfleetAPI
internal import KeyfleetStore
public import Logging
internal import NIOCore
internal import NIOSSL
internal import OpenAPIHummingbird
internal import OpenAPIRuntime
internal import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `keyfleet server`: the registry's HTTP server over its store (embedded SQLite or PostgreSQL), until SIGTERM or SIGINT.
public enum RegistryServer {
    /// The server's version, reported by `/health`.
    public static let version = keyfleetVersion

    /// Opens the store (making it on first start), then runs the application as Hummingbird's template does:
    /// the store is the first service of the group, so it is closed last, after the requests under way; the
    /// administrator is made before the server starts listening; SIGTERM or SIGINT stops it all gracefully.
    ///
    /// - Parameters:
    ///   - metrics: Where to answer `GET /metrics` (see ``MetricsListener``), or nil for no metrics at all.
    ///   - announce: Receives the lines a person must see: the one-time administrator token on first start,
    ///     the listening URL once the socket is bound, and the metrics URL once that socket is bound.
    public static func run(
        _ configuration: ServerConfiguration, metrics: MetricsListener? = nil, logger: Logger,
        announce: @escaping @Sendable (String) -> Void
    ) async throws {
        let store = try await openStore(configuration, logger: logger)
        let app: Application<RouterResponder<BasicRequestContext>>
        do {
            app = try makeApplication(configuration, store: store, metricsListener: metrics, logger: logger, announce: announce)
        } catch {
            try? await store.close()
            throw error
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The store `configuration` names, opened and migrated; a store that cannot be is one line.
    private static func openStore(_ configuration: ServerConfiguration, logger: Logger) async throws -> SQLStore {
        var storeLogger = logger
        storeLogger[metadataKey: "component"] = "store"
        do {
            if let databaseURL = configuration.databaseURL {
                return try await SQLStore.open(
                    databaseURL: databaseURL, clock: now, makeID: makeIdentifier, connectTimeout: configuration.databaseConnectTimeout,
                    logger: storeLogger)
            }
            return try await SQLStore.open(dataDirectory: configuration.dataDirectory, clock: now, makeID: makeIdentifier, logger: storeLogger)
        } catch let error as StoreError {
            throw ServerStartError(error.reason)
        }
    }

    /// The application over `store`: its router, the store and the services that watch it, the metrics
    /// listener, and the administrator's bootstrap before the server starts.
    private static func makeApplication(
        _ configuration: ServerConfiguration, store: SQLStore, metricsListener: MetricsListener?, logger: Logger,
        announce: @escaping @Sendable (String) -> Void
    ) throws -> Application<RouterResponder<BasicRequestContext>> {
        let scheme = configuration.tls == nil ? "http" : "https"
        var limits = configuration.connectionLimits
        // Every connection holds a descriptor: take the whole allowance the system gives, and keep some for
        // the store and the log, so that a full house is refused by the limit rather than by accept(2).
        let descriptors = FileDescriptorLimit.raise()
        limits.maximumConnections = min(limits.maximumConnections, max(64, descriptors - 256))
        let http1: HTTPServerBuilder = .http1(configuration: limits.channelConfiguration(ConnectionCounter()))
        var server = http1
        var caCertHash: String?
        if let files = configuration.tls {
            let (tls, pin) = try tlsConfiguration(certificateFile: files.certificateFile, keyFile: files.keyFile)
            server = try .tls(http1, tlsConfiguration: tls)
            caCertHash = pin
        }
        let endpoint = EndpointBox(
            ServerEndpoint(url: configuration.publicURL ?? "", caCertHash: caCertHash, agentPackage: configuration.agentPackage))
        let changes = ChangeSignal()
        let api = RegistryAPI(
            store: store, clock: now, endpoint: endpoint, changes: changes, serverVersion: version, logger: logger)

        // Metrics are recorded only when someone can read them.
        let metrics = metricsListener.map { _ in ServerMetrics(store: store, access: api.access) }
        let router = try makeRouter(
            api: api, maximumBodySize: configuration.maximumBodySize, logger: logger, metrics: metrics,
            portal: Portal(api: api, sessions: PortalSessions(limits: configuration.portalSessions), secure: configuration.tls != nil))

        let publicURL = configuration.publicURL
        var app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "keyfleet"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                let url = "\(scheme)://\(host):\(port)"
                if publicURL == nil { endpoint.value.url = url }
                announce("keyfleet server \(version) listening on \(url)")
            },
            logger: logger
        )
        // First in, last out: the store closes after everything that uses it has stopped.
        app.addServices(
            StoreService(store: store), StoreWatcher(store: store, changes: changes, logger: logger), ChangeFollower(access: api.access))
        if store.announcesChanges {
            app.addServices(DatabaseChanges(store: store, changes: changes, credentials: api.credentials, logger: logger))
        }
        if let metricsListener, let metrics {
            app.addServices(metricsApplication(metricsListener, metrics: metrics, logger: logger, announce: announce))
        }
        let adminToken = configuration.adminToken
        app.beforeServerStarts {
            if let secret = try await AdminBootstrap.ensureAdministrator(store: store, token: adminToken) {
                announce("Administrator API token (shown once; keep it safe): \(secret)")
            }
        }
        return app
    }

    /// The router serving `api`, with the middlewares every request passes: problem documents and the
    /// body limit, authentication, the kept answers of host access reads, and the change signal for agent syncs; with `metrics`, every request is
    /// counted and timed there by route and status (see ``ServerMetrics``); with `portal`, the web portal's pages at `/`.
    public static func makeRouter(
        api: RegistryAPI, maximumBodySize: Int, logger: Logger, metrics: ServerMetrics? = nil, portal: Portal? = nil
    ) throws -> Router<BasicRequestContext> {
        let router = Router()
        if let metrics { router.middlewares.add(RequestMetricsMiddleware(metrics: metrics)) }
        router.middlewares.add(NotFoundMiddleware())
        portal?.register(on: router)
        var middlewares: [any ServerMiddleware] = [
            ProblemMiddleware(logger: logger, maximumBodySize: maximumBodySize),
            Authenticator(store: api.store, cache: api.credentials),
            HostAccessAnswers(access: api.access, answers: api.accessAnswers, clock: api.clock),
            ChangeMiddleware(changes: api.changes),
        ]
        if let metrics {
            middlewares.insert(OperationMetricsMiddleware(metrics: metrics), at: 0)
            middlewares.append(ChangeTimingMiddleware(metrics: metrics))
        }
        // `/` as it is (`SHA256:ab/cd`, not `SHA256:ab\/cd`), as the CLI's -o json writes it, so that grep and
        // copy and paste work on what curl shows.
        try api.registerHandlers(
            on: router,
            configuration: Configuration(jsonEncodingOptions: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]),
            middlewares: middlewares)
        return router
    }

    /// The TLS configuration and the pin agents use: the SHA-256 of the last certificate in the chain
    /// file (the CA for a chain, the certificate itself when it is self-signed).
    static func tlsConfiguration(certificateFile: String, keyFile: String) throws -> (TLSConfiguration, String) {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ServerStartError("cannot read the TLS certificate chain \(certificateFile): \(error)")
        }
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw ServerStartError("cannot read the TLS private key \(keyFile): \(error)")
        }
        guard let anchor = chain.last else { throw ServerStartError("\(certificateFile) holds no PEM certificate") }
        let der = try anchor.toDERBytes()
        let pin = CertificatePin.of(der: der)
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        return (tls, pin)
    }

    /// Seconds since 1970 now.
    @Sendable public static func now() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970))
    }

    /// 20 lower-case base-32 characters (100 random bits): identifiers that do not reveal counts.
    @Sendable public static func makeIdentifier() -> String {
        // Two draws from the system's generator give 128 random bits; each character takes 5 of them.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        let bytes = (0..<20).map { index -> UInt8 in
            let word = index < 12 ? high >> (5 * index) : low >> (5 * (index - 12))
            return identifierAlphabet[Int(word & 31)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let identifierAlphabet = Array("abcdefghijkmnpqrstuvwxyz23456789".utf8)
}

/// The process's limit on open file descriptors.
enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one and returns the limit now in force.
    static func raise() -> Int {
        #if os(Linux)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
        #else
        return 1024
        #endif
    }
}

/// A problem that stops the server from starting, said in one line.
public struct ServerStartError: Error, CustomStringConvertible {
    /// What was wrong.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Answers paths the API does not have with a problem document rather than an empty 404.
struct NotFoundMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            let problem = ProblemMapping.document(
                status: error.status.code, code: error.status == .notFound ? "not-found" : "method-not-allowed",
                detail: error.status == .notFound ? "no such path in the API" : "the path does not take this method")
            let (head, data) = ProblemMiddleware.encoded(problem)
            return Response(status: head.status, headers: head.headerFields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}

/// The store as a service of the application's group: it runs until the group shuts down (or is
/// cancelled), then closes the store. Being first in the group, it stops last.
struct StoreService: Service {
    let store: SQLStore

    func run() async throws {
        try? await gracefulShutdown()
        try await store.close()
    }
}
