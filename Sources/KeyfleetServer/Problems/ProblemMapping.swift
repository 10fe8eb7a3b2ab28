internal import Foundation
public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore
internal import OpenAPIRuntime

/// The one place where an error becomes an RFC 9457 problem document.
public enum ProblemMapping {
    /// The problem document for `error`, which may be wrapped in the runtime's `ServerError`.
    public static func problem(for error: any Error) -> Components.Schemas.Problem {
        switch error {
        case let error as ServerError:
            return fromServerError(error)
        case let error as APIProblem:
            return document(status: error.status, code: error.code, detail: error.reason, field: error.field)
        case let error as BulkImportRefusal:
            var problem = Self.problem(for: APIProblem.bulkImportRefused(error.description))
            problem.errors = error.problems
            return problem
        case let error as PolicyError:
            let status = error.code == .inputTooLarge ? 413 : 422
            return document(status: status, code: error.code.rawValue, detail: error.reason, field: error.field)
        case let error as StoreError:
            switch error.code {
            case .conflict:
                var problem = document(status: 409, code: error.code.rawValue, detail: error.reason)
                problem.existingId = error.existingID
                problem.existingName = error.existingName
                return problem
            case .notFound: return document(status: 404, code: error.code.rawValue, detail: error.reason)
            case .invalidReference: return document(status: 422, code: error.code.rawValue, detail: error.reason)
            case .invalidInput: return document(status: 400, code: error.code.rawValue, detail: error.reason)
            // The reason names the database; the caller learns only that it is away for now.
            case .unavailable:
                return document(status: 503, code: error.code.rawValue, detail: "the registry's database cannot be reached now; try again shortly")
            default: return document(status: 500, code: "database", detail: nil)
            }
        case is DecodingError:
            return problem(for: APIProblem.badRequest("the request body is not the JSON this operation takes"))
        default:
            return problem(for: APIProblem.internal)
        }
    }

    /// The `Retry-After` seconds `error` asks for, if any.
    public static func retryAfter(for error: any Error) -> Int? {
        switch error {
        case let error as APIProblem: error.retryAfter
        case let error as ServerError: retryAfter(for: error.underlyingError)
        case let error as StoreError where error.code == .unavailable: 2
        default: nil
        }
    }

    /// Whether an error is the server's fault (5xx), which is worth logging.
    public static func isServerFault(_ problem: Components.Schemas.Problem) -> Bool { problem.status >= 500 }

    private static func fromServerError(_ error: ServerError) -> Components.Schemas.Problem {
        let underlying = error.underlyingError
        if underlying is APIProblem || underlying is BulkImportRefusal || underlying is PolicyError || underlying is StoreError
            || underlying is ServerError
        {
            return problem(for: underlying)
        }
        if underlying is UnexpectedContentType {
            return problem(for: APIProblem.unsupportedMediaType)
        }
        if let decoding = underlying as? DecodingError {
            return problem(for: APIProblem.badRequest(describe(decoding)))
        }
        // The runtime's own errors (a missing or mistyped parameter, a wrong content type) are the
        // client's fault; it gives them statuses of 4xx through HTTPResponseConvertible.
        let status = error.httpStatus.code
        if (400..<500).contains(status) || String(describing: underlying).contains("RuntimeError") {
            if status == 415 || error.causeDescription.lowercased().contains("content type") {
                return problem(for: APIProblem.unsupportedMediaType)
            }
            return problem(for: APIProblem.badRequest(sanitized(error.causeDescription)))
        }
        return problem(for: APIProblem.internal)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return path.isEmpty ? "the body" : "field \"\(path.joined(separator: "."))\""
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "the body" : path(context)
            return "\(parent) lacks the required field \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)) has the wrong type"
        case .dataCorrupted(let context):
            return "\(path(context)) is malformed: \(sanitized(context.debugDescription))"
        @unknown default:
            return "the request body is not the JSON this operation takes"
        }
    }

    /// Keeps a runtime message to one printable line of bounded length.
    private static func sanitized(_ text: String) -> String {
        let printable = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        return printable.count > 300 ? String(printable.prefix(300)) + "…" : printable
    }

    static func document(status: Int, code: String, detail: String?, field: String? = nil) -> Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: "urn:keyfleet:problem:\(code)", title: title(status), status: status, detail: detail, code: code,
            field: field)
    }

    private static func title(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 410: "Gone"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 503: "Service Unavailable"
        default: "Internal Server Error"
        }
    }
}
