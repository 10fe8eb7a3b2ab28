public import Hummingbird
internal import HummingbirdCore
internal import Logging
internal import NIOCore

/// Where `keyfleet server` answers `GET /metrics` (`--metrics-listen`): an address of its own, apart from the
/// API's, in plain HTTP and without authentication.
///
/// The metrics hold counts and timings only (no names, keys, tokens or identifiers), but counts tell how many
/// hosts are connected and how busy the registry is, which the registry otherwise keeps to itself (its
/// identifiers are random so that they reveal no counts). The API's address is reached by every host and
/// often from the internet; the metrics address is meant for loopback or a monitoring network, so a
/// Prometheus server scrapes it without holding a registry token.
public struct MetricsListener: Sendable {
    /// The address to listen on.
    public var host: String
    /// The port to listen on; 0 picks a free one, which the announced line names.
    public var port: Int

    /// A listener on `host` and `port`.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

extension RegistryServer {
    /// The content type of the Prometheus text format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The router of the metrics address: `GET /metrics` answers `metrics` in the Prometheus text format;
    /// every other path is 404.
    public static func makeMetricsRouter(metrics: ServerMetrics) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            let text = await metrics.exposition()
            var headers = HTTPFields()
            headers[.contentType] = metricsContentType
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    /// The metrics address's HTTP server, announcing its URL once it listens.
    static func metricsApplication(
        _ listener: MetricsListener, metrics: ServerMetrics, logger: Logger, announce: @escaping @Sendable (String) -> Void
    ) -> some ApplicationProtocol {
        // A scraper needs few connections; the limit keeps a flood on this address from taking descriptors the
        // API needs.
        let limits = ConnectionLimits(maximumConnections: 64)
        return Application(
            router: makeMetricsRouter(metrics: metrics),
            server: .http1(configuration: limits.channelConfiguration(ConnectionCounter())),
            configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "keyfleet"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listener.port
                let host = listener.host.contains(":") ? "[\(listener.host)]" : listener.host
                announce("keyfleet server metrics on http://\(host):\(port)/metrics")
            },
            logger: logger
        )
    }
}
