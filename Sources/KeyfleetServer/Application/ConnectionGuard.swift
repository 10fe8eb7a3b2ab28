internal import HummingbirdCore
internal import NIOCore
internal import NIOHTTPTypes
internal import Synchronization

/// Limits what one client can hold, so that no one, signed in or not, can stall the server:
///
/// - at most ``ConnectionLimits/maximumConnections`` connections at once; a connection over the limit is
///   closed as soon as it is accepted;
/// - a request must arrive whole, head and body, within ``ConnectionLimits/requestReadTimeout`` of its
///   first line, however slowly its bytes trickle in.
///
/// Hummingbird's idle timeout (``ConnectionLimits/idleTimeout``) closes connections that send nothing: before
/// the first request, inside a half-sent request head, and between keep-alive requests. It does not run
/// while a request is answered, so the agents' long-polls (up to a minute) are untouched.
public struct ConnectionLimits: Sendable {
    /// Connections served at once.
    public var maximumConnections: Int
    /// How long a connection may send nothing, outside an answer in progress.
    public var idleTimeout: Duration
    /// How long a request may take to arrive whole.
    public var requestReadTimeout: Duration

    /// The limits.
    public init(maximumConnections: Int = 10_000, idleTimeout: Duration = .seconds(5), requestReadTimeout: Duration = .seconds(30)) {
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.requestReadTimeout = requestReadTimeout
    }

    /// The HTTP/1 channel configuration that applies these limits with `counter`.
    func channelConfiguration(_ counter: ConnectionCounter) -> HTTP1Channel.Configuration {
        let limits = self
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(limits: limits, counter: counter)],
            idleTimeout: TimeAmount(idleTimeout))
    }
}

/// The number of open connections, shared by every connection's ``ConnectionGuard``.
final class ConnectionCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more; whether it stays within `limit`.
    func open(limit: Int) -> Bool {
        count.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    /// Counts one fewer.
    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}

/// One connection's share of ``ConnectionLimits``; sits after HTTP decoding.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limits: ConnectionLimits
    private let counter: ConnectionCounter
    private var counted = false
    private var readDeadline: Scheduled<Void>?

    init(limits: ConnectionLimits, counter: ConnectionCounter) {
        self.limits = limits
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        if !counter.open(limit: limits.maximumConnections) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        readDeadline?.cancel()
        readDeadline = nil
        if counted {
            counted = false
            counter.close()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readDeadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            readDeadline = context.eventLoop.scheduleTask(in: TimeAmount(limits.requestReadTimeout)) {
                loopBound.value.close(promise: nil)
            }
        case .end:
            readDeadline?.cancel()
            readDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }
}

extension TimeAmount {
    /// `duration` in NIO's unit.
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
