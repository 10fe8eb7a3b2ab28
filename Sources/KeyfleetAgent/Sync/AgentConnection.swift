public import KeyfleetAPI
internal import KeyfleetClient

/// The registry's API as the agent calls it: any implementation of the contract's generated `APIProtocol`,
/// the server's URL for messages, and how to release what the implementation holds.
///
/// The agent decides nothing from how the API is carried: it sees the generated operations' outputs and
/// what they throw, told apart by type (``KeyfleetClient/RegistryError/init(_:server:)``). Production
/// wiring is made in one place, ``registry(server:credential:)``; tests hand the agent an API of their own.
public struct AgentConnection: Sendable {
    /// The server's URL, as messages name it.
    public let server: String
    /// The API.
    public let api: any APIProtocol
    private let release: @Sendable () async -> Void

    /// A connection to `server` through `api`; `shutdown` releases what `api` holds.
    public init(server: String, api: any APIProtocol, shutdown: @escaping @Sendable () async -> Void = {}) {
        self.server = server
        self.api = api
        release = shutdown
    }

    /// Releases what the API holds (the HTTP client's connections).
    public func shutdown() async {
        await release()
    }

    /// The production wiring: the client generated from the OpenAPI document over AsyncHTTPClient, trusting
    /// only the certificate pinned at enrollment when there is one, sending `credential` as bearer token
    /// when given, turning every answer of 400 or more into a problem, and cutting every answer at its limit
    /// while it arrives (``KeyfleetClient/RegistryConnection``).
    public static func registry(server: AgentState.Server, credential: String?) throws(AgentError) -> AgentConnection {
        var pin: PinnedCertificate?
        if let pem = server.caCertificatePEM {
            do {
                pin = try PinnedCertificate(pem: pem, isLeaf: server.pinnedLeaf == true)
            } catch {
                throw AgentError.local("\(error.reason) (kept in the state directory)")
            }
        }
        let settings = RegistrySettings(
            connectTimeout: .seconds(10), readTimeout: .seconds(90), callTimeout: .seconds(90), retriesConnecting: true, pin: pin,
            answerLimit: AgentClient.answerLimit)
        let connection: RegistryConnection
        do {
            connection = try RegistryConnection(server: server.url, token: credential, settings: settings)
        } catch {
            throw AgentError(.usage, error.reason)
        }
        return AgentConnection(server: connection.server, api: connection.api, shutdown: { await connection.shutdown() })
    }
}

/// Makes the agent's connection to the server it enrolled with, sending the host's credential (nil while
/// enrolling). ``AgentConnection/registry(server:credential:)`` in production.
public typealias AgentConnector = @Sendable (_ server: AgentState.Server, _ credential: String?) throws(AgentError) -> AgentConnection
