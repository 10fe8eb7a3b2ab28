/// An error of the HTTP layer itself, with the stable `code` a client compares.
///
/// Library errors (``PolicyError``, ``StoreError``) keep their own codes; ``ProblemMapping`` turns every
/// error into one problem document, in one place.
public struct APIProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// The stable code, e.g. `read-only-token`.
    public var code: String
    /// One sentence saying what was wrong.
    public var reason: String
    /// The request field at fault, when there is one.
    public var field: String?
    /// Seconds after which the request may succeed, sent as `Retry-After`.
    public var retryAfter: Int?

    /// An error.
    public init(status: Int, code: String, _ reason: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.reason = reason
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String { reason }

    /// 400: the request is malformed.
    public static func badRequest(_ reason: String, field: String? = nil) -> APIProblem {
        APIProblem(status: 400, code: "bad-request", reason, field: field)
    }

    /// 401: no, unknown or revoked credential.
    public static func unauthorized(_ reason: String = "a valid bearer token is required") -> APIProblem {
        APIProblem(status: 401, code: "unauthorized", reason)
    }

    /// 403: the caller's role does not allow it.
    public static func forbidden(_ reason: String) -> APIProblem {
        APIProblem(status: 403, code: "forbidden", reason)
    }

    /// 403: a change with a read-only token.
    public static let readOnlyToken = readOnly("this token may only read")

    /// 403: a change a read-only token may not make, saying which.
    public static func readOnly(_ reason: String) -> APIProblem {
        APIProblem(status: 403, code: "read-only-token", reason)
    }

    /// 404: no such object, or one the caller may not see.
    public static func notFound(_ kind: String, _ id: String) -> APIProblem {
        APIProblem(status: 404, code: "not-found", "no \(kind) with identifier \"\(id)\"")
    }

    /// 410: the host credential belonged to a host that was deleted; its agent removes its keys and stops.
    public static let hostDeleted = APIProblem(
        status: 410, code: "host-deleted", "this host was deleted from the registry; its agent removes the keys it manages")

    /// 412: `If-Match` does not match.
    public static let preconditionFailed = APIProblem(
        status: 412, code: "precondition-failed", "the object changed since it was read (If-Match does not match its ETag)")

    /// 413: a body over the server's limit.
    public static func requestTooLarge(_ reason: String) -> APIProblem {
        APIProblem(status: 413, code: "request-too-large", reason)
    }

    /// 428: a change that removes more than its object needs `If-Match`.
    public static func preconditionRequired(_ reason: String) -> APIProblem {
        APIProblem(status: 428, code: "precondition-required", reason)
    }

    /// 429: too many requests of this kind are running; retry after `retryAfter` seconds.
    public static func tooManyRequests(_ reason: String, retryAfter: Int) -> APIProblem {
        APIProblem(status: 429, code: "too-many-requests", reason, retryAfter: retryAfter)
    }

    /// 415: a body that is not JSON.
    public static let unsupportedMediaType = APIProblem(
        status: 415, code: "unsupported-media-type", "the request body must be application/json")

    /// 400: a query parameter the store would not understand, such as a malformed page cursor.
    public static func invalidInput(_ reason: String, field: String) -> APIProblem {
        APIProblem(status: 400, code: "invalid-input", reason, field: field)
    }

    /// 422: an identifier in the body that names nothing the caller may use there.
    public static func invalidReference(_ reason: String, field: String) -> APIProblem {
        APIProblem(status: 422, code: "invalid-reference", reason, field: field)
    }

    /// 422: a bulk import of which some items were refused.
    public static func bulkImportRefused(_ reason: String) -> APIProblem {
        APIProblem(status: 422, code: "bulk-import-refused", reason)
    }

    /// 500: anything unexpected; the detail stays in the log.
    public static let `internal` = APIProblem(status: 500, code: "internal", "the server failed; the log has the cause")

    /// 503: the store cannot be reached or the server is stopping.
    public static let unavailable = APIProblem(status: 503, code: "unavailable", "the server cannot serve requests now")
}
