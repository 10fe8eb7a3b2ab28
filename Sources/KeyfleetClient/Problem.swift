internal import Foundation

/// What the server answered with an error status: the status, and the problem document (RFC 9457) it
/// sent, when it sent one.
public struct Problem: Hashable, Sendable {
    /// The HTTP status.
    public var status: Int
    /// The document's `code`, or `http-<status>` when the answer held no problem document.
    public var code: String
    /// The document's `detail` (or its `title`), or a sentence naming the status.
    public var detail: String
    /// The problem document as the server sent it (for `-o json`), when it sent one.
    public var document: [UInt8]?

    /// A problem.
    public init(status: Int, code: String, detail: String, document: [UInt8]? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.document = document
    }

    /// The problem of an answer with `status` (and `reasonPhrase`), whose body is `body` and whose
    /// `Content-Type` is `contentType`. A body counts as a problem document only under a JSON content type
    /// (`application/problem+json`, or `application/json`) and when it is a JSON object.
    public init(status: Int, reasonPhrase: String, contentType: String?, body: [UInt8]) {
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var document: Members?
        if mediaType == "application/problem+json" || mediaType == "application/json" {
            document = try? JSONDecoder().decode(Members.self, from: Data(body))
        }
        let reason = reasonPhrase.isEmpty ? "error" : reasonPhrase
        self.init(
            status: status, code: document?.code ?? "http-\(status)",
            detail: document?.detail ?? document?.title ?? "the server answered HTTP \(status) \(reason)",
            document: document == nil ? nil : body)
    }

    /// The members of a problem document the clients read; others are ignored.
    private struct Members: Decodable {
        var code: String?
        var detail: String?
        var title: String?
    }
}
