internal import AsyncHTTPClient
internal import KeyfleetAPI
internal import NIOCore
internal import NIOPosix
internal import NIOSSL
internal import OpenAPIRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension RegistryError {
    /// What went wrong in a call to `server`, told apart by the type of `error` (and its fields), never by
    /// its text: the generated client wraps what the transport, the middlewares and the decoding threw in
    /// a `ClientError`; AsyncHTTPClient, SwiftNIO and NIOSSL each have their own error types.
    public init(_ error: any Error, server: String) {
        var operation = "the call"
        var answered = false
        var underlying = error
        if let clientError = error as? ClientError {
            underlying = clientError.underlyingError
            operation = clientError.operationID
            answered = clientError.response != nil
        }
        if let error = underlying as? RegistryError {
            self = error
            return
        }
        if let (code, why) = Self.transportFailure(underlying) {
            self = code == .tlsFailure ? .tlsFailure(server, why) : .unreachable(server, why)
            return
        }
        let text = Self.printable(String(describing: underlying).split(whereSeparator: \.isNewline).first.map(String.init) ?? "")
        if underlying is DecodingError || underlying is UnexpectedContentType || answered {
            self = .answerNotInContract(server, operation: operation, text)
            return
        }
        self = .unreachable(server, text)
    }

    /// A failure of the connection itself, by type: ``Code/tlsFailure`` or ``Code/unreachable``, and why in
    /// a few words; nil for anything else.
    static func transportFailure(_ error: any Error) -> (Code, String)? {
        switch error {
        case NIOSSLError.uncleanShutdown:
            return (.unreachable, "the connection closed before the answer was complete")
        case let error as NIOSSLError:
            return (.tlsFailure, printable(String(describing: error)))
        case let error as BoringSSLError:
            return (.tlsFailure, printable(String(describing: error)))
        case let error as NIOSSLExtraError:
            return (.tlsFailure, printable(String(describing: error)))
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout:
                return (.unreachable, "timed out")
            case .tlsHandshakeTimeout:
                return (.tlsFailure, "the TLS handshake timed out")
            case .remoteConnectionClosed:
                return (.unreachable, "the connection closed before the answer was complete")
            case .cancelled:
                return (.unreachable, "cancelled")
            default:
                return nil
            }
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first {
                return transportFailure(failure.error) ?? (.unreachable, printable(String(describing: failure.error)))
            }
            return (.unreachable, "cannot resolve the host name")
        case is SocketAddressError.UnknownHost:
            return (.unreachable, "cannot resolve the host name")
        case let error as IOError:
            return (.unreachable, reason(errno: error.errnoCode))
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return (.unreachable, "timed out")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return (.unreachable, "the connection closed before the answer was complete")
            default: return nil
            }
        case is CancellationError:
            return (.unreachable, "cancelled")
        default:
            return nil
        }
    }

    /// A few words for the `errno` of a failed connection.
    private static func reason(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ETIMEDOUT: "timed out"
        case ECONNRESET, EPIPE: "the connection was reset"
        case ENETUNREACH, EHOSTUNREACH: "no route to the host"
        default: String(cString: strerror(code))
        }
    }
}
