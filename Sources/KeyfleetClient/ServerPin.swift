internal import KeyfleetCore
internal import NIOConcurrencyHelpers
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import NIOTLS

/// Pins the registry server at enrollment, as `kubeadm join --discovery-token-ca-cert-hash` does: the
/// agent is given the SHA-256 of a certificate in the server's chain (the CA, or the server's own
/// self-signed certificate), fetches the chain the server presents, and keeps the certificate with that
/// hash as the only trust root from then on (``PinnedCertificate``).
public enum ServerPin {
    /// The certificate of the server's presented chain whose hash is `pin`, found without trusting the
    /// chain (it is trusted only because of the pin).
    public static func fetchPinned(host: String, port: Int, pin: String) async throws(RegistryError) -> PinnedCertificate {
        let chain: [NIOSSLCertificate]
        do {
            chain = try await presentedChain(host: host, port: port)
        } catch {
            let (code, why) = RegistryError.transportFailure(error) ?? (.unreachable, RegistryError.printable(String(describing: error)))
            throw RegistryError(code, "cannot reach \(host):\(port) over TLS to check its certificate: \(why)")
        }
        for (index, certificate) in chain.enumerated() {
            if let der = try? certificate.toDERBytes(), CertificatePin.of(der: der) == pin {
                return PinnedCertificate(certificate, isLeaf: index == 0)
            }
        }
        throw RegistryError(.untrusted, "no certificate the server \(host):\(port) presents has the pinned hash \(pin)")
    }

    /// Connects, completes a TLS handshake that accepts any chain, and returns the chain.
    private static func presentedChain(host: String, port: Int) async throws -> [NIOSSLCertificate] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let captured = NIOLockedValueBox<[NIOSSLCertificate]>([])
        let serverName: String? = host.first?.isNumber == true || host.contains(":") ? nil : host
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let handshake = loop.makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(
                        context: context, serverHostname: serverName,
                        customVerificationCallback: { certificates, promise in
                            captured.withLockedValue { $0 = certificates }
                            promise.succeed(.certificateVerified)
                        })
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake))
                }
            }
            .connect(host: host, port: port).get()
        // A server that accepts the connection but never finishes the handshake must not hold enrollment
        // (run by cloud-init at boot) forever: closing the channel fails the wait (channelInactive).
        let timeout = loop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        try await handshake.futureResult.get()
        return captured.withLockedValue { $0 }
    }
}

/// Completes a promise when the TLS handshake is done, or fails it when the connection fails first.
private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>
    private var completed = false

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    private func complete(_ result: Result<Void, any Error>) {
        guard !completed else { return }
        completed = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event { complete(.success(())) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }
}
