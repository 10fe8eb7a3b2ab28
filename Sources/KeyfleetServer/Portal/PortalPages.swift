internal import Foundation
internal import Mustache

/// One page to render: its template, title, the values its template reads, and a notice or error line.
struct PortalPage {
    var title: String
    var template: String
    /// The values the template reads, by name (strings, booleans, numbers, arrays and dictionaries of them).
    var values: [String: Any] = [:]
    var notice: String?
    var error: String?
    /// The navigation entry to mark as the current page (`Keys`, `Projects`, ...).
    var section: String?

    init(title: String, template: String, section: String? = nil, values: [String: Any] = [:]) {
        self.title = title
        self.template = template
        self.section = section
        self.values = values
    }
}

/// The compiled templates (``PortalTemplates``) and what every page shares: the layout's title,
/// navigation, the signed-in user, the form token and the notice.
struct PortalPages: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        for (name, text) in PortalTemplates.all {
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// The HTML of `page`, for `visit`'s user or signed out.
    func render(_ page: PortalPage, visit: Visit?) -> String {
        var values = page.values
        values["title"] = page.title
        if let notice = page.notice ?? visit?.notice { values["notice"] = notice }
        if let error = page.error { values["error"] = error }
        if let visit {
            values["signedIn"] = true
            values["userName"] = visit.user.name
            values["readOnly"] = !visit.mayWrite
            values["csrf"] = visit.formToken
            values["mayWrite"] = (values["mayWrite"] as? Bool) ?? visit.mayWrite
            if let section = page.section { values["nav" + section] = true }
        }
        return library.render(Self.withoutEmptyText(values), withTemplate: page.template) ?? ""
    }

    /// `values` without its empty strings, at every depth: a section over an empty value (`{{#next}}` with no
    /// next page) is then skipped, as Mustache skips a missing one.
    private static func withoutEmptyText(_ values: [String: Any]) -> [String: Any] {
        values.compactMapValues(withoutEmptyText)
    }

    private static func withoutEmptyText(_ value: Any) -> Any? {
        switch value {
        case let text as String: text.isEmpty ? nil : text
        case let dictionary as [String: Any]: withoutEmptyText(dictionary)
        case let dictionary as [String: String]: dictionary.filter { !$0.value.isEmpty }
        case let array as [[String: Any]]: array.map(withoutEmptyText)
        case let array as [[String: String]]: array.map { $0.filter { !$0.value.isEmpty } }
        default: value
        }
    }
}

/// How pages show times and sizes.
enum PortalFormat {
    /// `2026-12-08 14:03 UTC`.
    static func time(_ date: Date?) -> String {
        guard let date else { return "never" }
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(parts.year ?? 0)-\(two(parts.month))-\(two(parts.day)) \(two(parts.hour)):\(two(parts.minute)) UTC"
    }

    /// The `YYYY-MM-DD` of a date input as midnight UTC that day; nil when empty.
    static func day(_ text: String?, field: String) throws -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            let date = DateComponents(calendar: utc, timeZone: utc.timeZone, year: year, month: month, day: day).date,
            utc.component(.day, from: date) == day
        else {
            throw APIProblem.badRequest("\(field) is not a date (YYYY-MM-DD)", field: field)
        }
        return date
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()

    /// A `data:` URL carrying `text`, for a download link that needs no second request.
    static func dataURL(_ text: String, type: String = "application/octet-stream") -> String {
        "data:\(type);base64," + Data(text.utf8).base64EncodedString()
    }

    /// A query string of the non-empty `parameters`, percent-encoded.
    static func query(_ parameters: [(String, String)]) -> String {
        let pairs = parameters.filter { !$0.1.isEmpty }.map { "\(encode($0.0))=\(encode($0.1))" }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
