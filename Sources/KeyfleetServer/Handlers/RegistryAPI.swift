public import KeyfleetAPI
public import KeyfleetCore
public import KeyfleetStore
public import Logging
internal import Synchronization

/// The registry's HTTP operations, as the OpenAPI document names them.
///
/// Handlers return only their success answers; every refusal is thrown (``APIProblem``, ``PolicyError``,
/// ``StoreError``) and becomes a problem document in ``ProblemMiddleware``. The caller is
/// ``Caller/current``, bound by ``Authenticator``.
public struct RegistryAPI: APIProtocol {
    /// The store.
    public let store: any Store
    /// Seconds since 1970, the clock every handler reads.
    public let clock: @Sendable () -> UInt64
    /// Where agents reach the server and how they pin it (known once the server listens).
    public var endpoint: ServerEndpoint { endpointBox.value }
    let endpointBox: EndpointBox
    /// Wakes waiting agent syncs after a change.
    public let changes: ChangeSignal
    /// The callers ``Authenticator`` found recently, by the hash of their secret.
    public let credentials = CredentialCache()
    /// Effective access in memory, rebuilt when the store's version moves (hosts, sync).
    public let access: AccessCache
    /// The encoded answers of host access reads, kept with the views they were made from.
    public let accessAnswers = HostAccessAnswers.Store()
    /// The server's version, for `/health` and agent reports.
    public let serverVersion: String
    let logger: Logger

    /// The operations over `store`.
    public init(
        store: any Store, clock: @escaping @Sendable () -> UInt64, endpoint: EndpointBox, changes: ChangeSignal,
        serverVersion: String, logger: Logger
    ) {
        self.store = store
        self.clock = clock
        self.endpointBox = endpoint
        self.changes = changes
        self.access = AccessCache(store: store, changes: changes)
        self.serverVersion = serverVersion
        self.logger = logger
    }
}

/// How host agents reach and pin this server; goes into enrollments and cloud-init.
public struct ServerEndpoint: Sendable, Hashable {
    /// The base URL agents use, e.g. `https://keys.example.net:8443`.
    public var url: String
    /// `sha256:` and the hex SHA-256 of the CA certificate (DER) agents pin, or nil for plain HTTP.
    public var caCertHash: String?
    /// The agent package new hosts install when their image has none.
    public var agentPackage: AgentPackage?

    /// An endpoint.
    public init(url: String, caCertHash: String?, agentPackage: AgentPackage? = nil) {
        self.url = url
        self.caCertHash = caCertHash
        self.agentPackage = agentPackage
    }
}

/// The server's endpoint, set once the listening address is known.
public final class EndpointBox: Sendable {
    private let mutex: Mutex<ServerEndpoint>

    /// A box holding `endpoint`.
    public init(_ endpoint: ServerEndpoint) {
        mutex = Mutex(endpoint)
    }

    /// The endpoint.
    public var value: ServerEndpoint {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}
