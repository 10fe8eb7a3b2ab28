import KeyfleetCLI
import AsyncHTTPClient
import KeyfleetAPI
import KeyfleetClient

/// The registry's API over HTTP, with one-line errors: a ``RegistryConnection`` (KeyfleetClient), whose
/// failures become ``CLIError``s.
struct Registry {
    let context: ClientContext
    let connection: RegistryConnection

    /// What a command run by a person needs: a refused or failed connection fails the call at once instead
    /// of being retried until the deadline, since a person waiting at a terminal wants to hear that the
    /// server is not there.
    private static let settings = RegistrySettings(connectTimeout: .seconds(10), callTimeout: .seconds(60), retriesConnecting: false)

    /// One HTTP client for the process, never shut down (it lives as long as the command).
    private static let httpClient = HTTPClient.registry(settings)

    init(_ context: ClientContext) throws(CLIError) {
        self.context = context
        do {
            connection = try RegistryConnection(server: context.server, token: context.token, settings: Self.settings, sharing: Self.httpClient)
        } catch {
            throw CLIError("server \"\(Terminal.safe(context.server))\" is not a URL")
        }
    }

    /// Runs one or more calls, turning every failure into a one-line ``CLIError``.
    func call<T>(_ body: (Client) async throws -> T) async throws(CLIError) -> T {
        do {
            return try await body(connection.api)
        } catch {
            throw describe(error)
        }
    }

    /// Runs calls that send what `subject` (a file) holds: when the server refuses that content (409, 413,
    /// 422), the error names the file; other failures (an unreachable server, a bad token) do not.
    func call<T>(about subject: String, _ body: (Client) async throws -> T) async throws(CLIError) -> T {
        do {
            return try await body(connection.api)
        } catch {
            var failure = describe(error)
            if let status = RegistryError(error, server: context.server).problem?.status, [409, 413, 422].contains(status) {
                failure.message = "\(Terminal.safe(subject)): \(failure.message)"
            }
            throw failure
        }
    }

    /// A one-line error for anything a call can throw: a problem document, an unreachable server, TLS,
    /// an answer the contract does not allow. A ``CLIError`` a call threw itself is kept as it is.
    func describe(_ error: any Error) -> CLIError {
        if let error = error as? CLIError { return error }
        let failure = RegistryError(error, server: context.server)
        if let problem = failure.problem {
            return CLIError(failure.reason, code: problem.code, problemDocument: problem.document)
        }
        return CLIError(failure.reason, code: failure.code.rawValue)
    }

    /// Every item of a listing, following `next_cursor` to the last page.
    func all<Item>(_ page: (Client, String?) async throws -> (items: [Item], next: String?)) async throws(CLIError) -> [Item] {
        var items: [Item] = []
        var cursor: String?
        var pages = 0
        repeat {
            let (batch, next) = try await call { try await page($0, cursor) }
            items += batch
            pages += 1
            if let next, next == cursor { throw CLIError("the server repeated a page cursor; stopping") }
            cursor = next
        } while cursor != nil && pages < 1_000_000
        return items
    }
}
