internal import KeyfleetCore
internal import KeyfleetStore

/// Query parameters every listing shares, checked as the API description says (the generated code does not
/// check minimums, maximums or patterns).
extension PageRequest {
    /// The page a listing's `limit` and `cursor` ask for; 400 `bad-request` for a limit outside 1 to 1000.
    /// A malformed cursor is refused by the store (400 `invalid-input`).
    static func fromQuery(limit: Int32?, cursor: String?) throws -> PageRequest {
        let size = Int(limit ?? 100)
        guard (1...PageRequest.maximumLimit).contains(size) else {
            throw APIProblem.badRequest("the query parameter limit is \(size); it must be between 1 and 1000", field: "limit")
        }
        if let cursor, cursor.isEmpty || cursor.utf8.count > 512 {
            throw APIProblem.invalidInput("the page cursor is malformed", field: "cursor")
        }
        return PageRequest(limit: size, cursor: cursor)
    }
}

extension LabelSelector {
    /// A `key=value` label filter; 400 `bad-request` when it is not one.
    static func fromQuery(_ text: String?) throws -> LabelSelector? {
        guard let text else { return nil }
        guard let equals = text.firstIndex(of: "=") else {
            throw APIProblem.badRequest("the query parameter label must be key=value", field: "label")
        }
        let key = String(text[..<equals])
        let value = String(text[text.index(after: equals)...])
        do {
            try LabelPolicy.validate([key: value])
        } catch {
            throw APIProblem.badRequest("the query parameter label is not a valid key=value label", field: "label")
        }
        return LabelSelector(key: key, value: value)
    }
}

/// A name filter; 400 `bad-request` when it could not be a name.
func nameFromQuery(_ text: String?) throws -> String? {
    guard let text else { return nil }
    do {
        try NamePolicy.validate(text)
    } catch {
        throw APIProblem.badRequest("the query parameter name is not a valid name", field: "name")
    }
    return text
}
