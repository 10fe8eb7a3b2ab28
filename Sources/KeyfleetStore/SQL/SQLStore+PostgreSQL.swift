import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import Synchronization

extension SQLStore {
    /// Opens the registry in the PostgreSQL database `databaseURL` names (see ``DatabaseURL``) and migrates it.
    ///
    /// The first connection is made here, so a wrong address, user, password or database, or a database that
    /// does not answer within `connectTimeout`, throws a ``StoreError`` whose reason says which, in one line,
    /// without the password. Later, a lost connection is made again for the next transaction; until it can be,
    /// transactions throw ``StoreError/Code-swift.struct/unavailable``. Queries are not logged: their binds
    /// include token hashes.
    public static func open(
        databaseURL: String, clock: @escaping @Sendable () -> UInt64, makeID: @escaping @Sendable () -> String,
        connectTimeout: Duration = .seconds(10), logger: Logger = Logger(label: "keyfleet.store")
    ) async throws -> SQLStore {
        let url = try DatabaseURL(databaseURL)
        let link = try PostgresLink(url: url, connectTimeout: connectTimeout, logger: logger)
        _ = try await link.database()
        do {
            return try await SQLStore(link: link, clock: clock, makeID: makeID)
        } catch {
            try? await link.close()
            throw error
        }
    }

    /// Calls `onChange` for every change another server (or this one) commits to the same database, until
    /// the task is cancelled. On PostgreSQL it listens on the change channel over its own connection; when
    /// that connection is lost it connects again and reports both kinds of change, since some may have been
    /// missed. On SQLite it returns at once: servers there read ``version()`` instead.
    public func listenForChanges(_ onChange: @escaping @Sendable (StoreChange) -> Void, logger: Logger) async {
        guard let link = link as? PostgresLink, let channel = flavor.changeChannel else { return }
        var lost = false
        while !Task.isCancelled {
            do {
                let connection = try await link.connect()
                if lost {
                    logger.info("listening for changes again")
                    for change in StoreChange.allCases { onChange(change) }
                }
                // The connection is closed however listening ends: PostgresNIO requires it of every one.
                do {
                    try await connection.listen(on: channel) { notifications in
                        for try await notification in notifications {
                            // Unknown kinds come from newer servers: treat them as every kind.
                            if let change = StoreChange(rawValue: notification.payload) {
                                onChange(change)
                            } else {
                                for change in StoreChange.allCases { onChange(change) }
                            }
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch is CancellationError {
                return
            } catch {
                if !lost { logger.warning("stopped listening for changes: \(PostgresLink.describe(error, url: link.url))") }
            }
            lost = true
            guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
        }
    }
}

/// The PostgreSQL connection a store runs its transactions on, made again when it was lost.
final class PostgresLink: DatabaseLink {
    let url: DatabaseURL
    let configuration: PostgresConnection.Configuration
    let logger: Logger
    let connectTimeout: Duration
    private let current = Mutex<PostgresConnection?>(nil)
    private let nextID = Atomic<Int>(0)

    init(url: DatabaseURL, connectTimeout: Duration, logger: Logger) throws {
        self.url = url
        self.configuration = try url.configuration(connectTimeout: connectTimeout)
        self.logger = logger
        self.connectTimeout = connectTimeout
    }

    var flavor: SQLFlavor { .postgres }

    func database() async throws -> any SQLDatabase {
        if let connection = current.withLock({ $0 }), !connection.isClosed { return connection.sql(queryLogLevel: nil) }
        let connection = try await connect()
        let previous = current.withLock { current in
            defer { current = connection }
            return current
        }
        if let previous { try? await previous.close() }
        return connection.sql(queryLogLevel: nil)
    }

    /// A new connection, or a ``StoreError`` with code `.unavailable` that says why there is none.
    func connect() async throws -> PostgresConnection {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            // The driver's own timeout covers the TCP connection; this one covers TLS and authentication too.
            return try await withThrowingTaskGroup(of: PostgresConnection?.self) { group in
                group.addTask {
                    let connection = try await PostgresConnection.connect(configuration: self.configuration, id: id, logger: self.logger)
                    // Too late: the caller has given up. The driver wants every connection closed before release.
                    if Task.isCancelled {
                        try? await connection.close()
                        throw CancellationError()
                    }
                    return connection
                }
                group.addTask {
                    try await Task.sleep(for: self.connectTimeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let connection = try await group.next() ?? nil else {
                    throw StoreError(.unavailable, "no answer from the database at \(url.host):\(url.port) within \(connectTimeout)")
                }
                return connection
            }
        } catch let error as StoreError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StoreError(.unavailable, Self.describe(error, url: url))
        }
    }

    func classify(_ error: any Error) -> DatabaseFailure {
        guard let error = error as? PSQLError else {
            if error is StoreError || error is CancellationError || error is DecodingError { return .error(error) }
            if error is IOError || error is ChannelError { return .unavailable(Self.describe(error, url: url)) }
            return .error(error)
        }
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            switch state {
            // serialization_failure, deadlock_detected, unique_violation: lost a race with another server.
            case "40001", "40P01", "23505": return .retry
            default:
                // Class 08 (connection exception) and 57P (operator intervention: shutdown, recovery).
                if state.hasPrefix("08") || state.hasPrefix("57P") { return .unavailable(Self.describe(error, url: url)) }
                return .error(StoreError(.database, Self.describe(error, url: url)))
            }
        }
        return .unavailable(Self.describe(error, url: url))
    }

    func close() async throws {
        let connection = current.withLock { current in
            defer { current = nil }
            return current
        }
        try await connection?.close()
    }

    func closeWhenReleased() {
        // The closure keeps the connection until it is closed: the driver wants it closed before release.
        guard let connection = current.withLock({ $0 }) else { return }
        connection.close().whenComplete { _ in _ = connection }
    }

    /// One line that says what went wrong with the database, naming it without its password.
    static func describe(_ error: any Error, url: DatabaseURL) -> String {
        let place = "\(url.host):\(url.port)"
        guard let error = error as? PSQLError else {
            return "cannot reach the database at \(place): \(reason(error))"
        }
        if error.code == .server, let info = error.serverInfo {
            let message = info[.message] ?? "no message"
            switch info[.sqlState] ?? "" {
            case "28P01": return "the database at \(place) refused the password of user \(url.user)"
            case "28000": return "the database at \(place) refused user \(url.user): \(message)"
            case "3D000": return "the database \(url.database) does not exist at \(place)"
            case let state: return "the database at \(place) answered \(state): \(message)"
            }
        }
        switch error.code {
        case .sslUnsupported: return "the database at \(place) does not offer TLS, which sslmode=\(url.tlsMode.rawValue) requires"
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return "the connection to the database at \(place) was lost"
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return "the database at \(place) asks for a way of signing in that failed for user \(url.user) (is the password set?)"
        default:
            if let underlying = error.underlying { return "cannot reach the database at \(place): \(Self.reason(underlying))" }
            return "cannot reach the database at \(place): \(error.code)"
        }
    }

    /// Why a connection could not be made, as the system says it (`connection refused`), rather than the
    /// driver's nested description.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return reason(first.error)
        }
        if let error = error as? IOError, let text = strerror(error.errnoCode) {
            return String(cString: text).lowercased()
        }
        return String(describing: error)
    }
}
