public import KeyfleetCore

/// What `keyfleet server` is told on its command line and in its environment.
public struct ServerConfiguration: Sendable {
    /// The directory holding the embedded database; made (mode 0700) on first start. Unused with
    /// ``databaseURL``.
    public var dataDirectory: String
    /// The PostgreSQL database holding the registry (`postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...`),
    /// or nil for the embedded SQLite database in ``dataDirectory``.
    public var databaseURL: String?
    /// How long the first connection to ``databaseURL`` may take before the server gives up starting.
    public var databaseConnectTimeout: Duration = .seconds(10)
    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 picks a free one (tests), which the ready line names.
    public var port: Int
    /// PEM certificate chain and private key for HTTPS, or nil for plain HTTP.
    public var tls: (certificateFile: String, keyFile: String)?
    /// The URL agents and cloud-init use to reach the server, when it differs from the listening address.
    public var publicURL: String?
    /// The administrator token to use instead of a random one (`KEYFLEET_ADMIN_TOKEN`).
    public var adminToken: String?
    /// The agent package new hosts install when their image has none (it goes into their cloud-init user data).
    public var agentPackage: AgentPackage?
    /// The largest request body accepted.
    public var maximumBodySize: Int = 1 << 20
    /// Connections at once, and how long a client may keep one without sending.
    public var connectionLimits = ConnectionLimits()
    /// How long a portal session lasts idle and in all.
    public var portalSessions = PortalSessions.Limits()

    /// A configuration.
    public init(
        dataDirectory: String, databaseURL: String? = nil, host: String = "127.0.0.1", port: Int = 8080,
        tls: (certificateFile: String, keyFile: String)? = nil, publicURL: String? = nil, adminToken: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.host = host
        self.port = port
        self.tls = tls
        self.publicURL = publicURL
        self.adminToken = adminToken
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT` or `:PORT`.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon].isEmpty ? "0.0.0.0" : text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port), portText.allSatisfy(\.isASCII) else { return nil }
        return (String(host), port)
    }
}
