import Foundation
import PostgresNIO
import NIOSSL
import SSHKeys

/// A PostgreSQL address as people write it: `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`.
///
/// Read as libpq reads it, so that a URL that works with `psql` works here: `postgresql://` is the same
/// scheme, the port defaults to 5432, the database to the user's name, user and password are
/// percent-decoded, and `sslmode` means what it means to libpq:
///
/// | `sslmode` | TLS | the server's certificate |
/// | --- | --- | --- |
/// | `disable` | never | — |
/// | `prefer` (the default) | when the server offers it | not checked |
/// | `require` | always | not checked |
/// | `verify-ca` | always | signed by a trusted CA (`sslrootcert=FILE`, else the system's) |
/// | `verify-full` | always | as `verify-ca`, and its name is the host's |
///
/// Anything else in the URL is refused with a reason that names it, never ignored. The password is kept out
/// of ``description``.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    /// How the connection is secured.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public let user: String
    public let password: String?
    public let host: String
    public let port: Int
    public let database: String
    public let tlsMode: TLSMode
    /// The CA certificates file for `verify-ca` and `verify-full` (`sslrootcert`).
    public let rootCertificateFile: String?

    /// Reads `text`, or throws ``StoreError`` with code `.invalidInput` saying what is wrong.
    public init(_ text: String) throws {
        func refuse(_ reason: String) -> StoreError { StoreError(.invalidInput, "the database URL \(reason)") }
        func shown(_ text: String) -> String { KeyError.printable(text) }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw refuse("is not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw refuse("has the scheme \"\(shown(scheme))\"; only postgres:// and postgresql:// are read")
        }
        guard let host = components.host, !host.isEmpty else { throw refuse("names no host") }
        guard let user = components.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw refuse("names no user (postgres://USER@HOST/DATABASE)")
        }
        let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !database.contains("/") else { throw refuse("has a path with more than one part: \(shown(components.path))") }
        var tlsMode = TLSMode.prefer
        var rootCertificateFile: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    let allowed = TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw refuse("has sslmode=\(shown(item.value ?? "")); use one of \(allowed)")
                }
                tlsMode = mode
            case "sslrootcert":
                guard let value = item.value, !value.isEmpty else { throw refuse("has an empty sslrootcert") }
                rootCertificateFile = value
            default:
                throw refuse("has the parameter \"\(shown(item.name))\", which keyfleet does not read (sslmode and sslrootcert are)")
            }
        }
        self.user = user
        self.password = components.password?.removingPercentEncoding
        self.host = host
        self.port = components.port ?? 5432
        self.database = database.isEmpty ? user : database
        self.tlsMode = tlsMode
        self.rootCertificateFile = rootCertificateFile
    }

    /// The URL without its password.
    public var description: String {
        let address = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(address):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The driver's configuration, connecting within `connectTimeout`.
    func configuration(connectTimeout: Duration) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = .none
            let context = try NIOSSLContext(configuration: settings)
            tls = tlsMode == .prefer ? .prefer(context) : .require(context)
        case .verifyCA, .verifyFull:
            var settings = TLSConfiguration.makeClientConfiguration()
            settings.certificateVerification = tlsMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let rootCertificateFile {
                do {
                    settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(rootCertificateFile))
                } catch {
                    throw StoreError(.invalidInput, "the database URL's sslrootcert \(rootCertificateFile) cannot be read: \(error)")
                }
            }
            tls = .require(try NIOSSLContext(configuration: settings))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        let milliseconds = connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        configuration.options.connectTimeout = .milliseconds(milliseconds)
        return configuration
    }
}
