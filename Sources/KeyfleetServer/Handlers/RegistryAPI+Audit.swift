public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    public func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let caller = try currentUser().user
        let query = input.query
        let page = try PageRequest.fromQuery(limit: query.limit, cursor: query.cursor)
        var filter = AuditFilter()
        if let since = query.since { filter.since = try Timestamps.seconds(since, field: "since") }
        if let actor = query.actor {
            guard let id = UserID(rawValue: actor) else {
                throw APIProblem.badRequest("the query parameter actor is not an identifier", field: "actor")
            }
            filter.actor = id
        }
        if caller.role != .admin {
            if let actor = filter.actor, actor != caller.id {
                throw APIProblem.forbidden("only administrators may read the entries of other users")
            }
            filter.actor = caller.id
        }
        if let object = query.object {
            guard Identifier<Void>.isValid(object) else {
                throw APIProblem.badRequest("the query parameter object is not an identifier", field: "object")
            }
            filter.objectID = object
        }
        filter.objectType = query.objectType?.rawValue
        if let action = query.action {
            guard Self.isAuditAction(action) else {
                throw APIProblem.badRequest(
                    "the query parameter action is not an action such as key.create, or a prefix such as key.", field: "action")
            }
            filter.action = action
        }
        let entries = try await store.audit(filter, page: page)
        let items = try await named(entries.items.map(Components.Schemas.AuditEntry.init))
        return .ok(.init(body: .json(.init(items: items, nextCursor: entries.nextCursor))))
    }

    /// Whether `text` is an action or a prefix of actions as the listing takes it: lower-case words joined by
    /// dots (the first of letters only, the others of letters and dashes), perhaps ending in a dot.
    static func isAuditAction(_ text: String) -> Bool {
        guard (1...64).contains(text.utf8.count) else { return false }
        let words = text.split(separator: ".", omittingEmptySubsequences: false)
        for (index, word) in words.enumerated() {
            let isLast = index == words.count - 1
            if word.isEmpty { return isLast && index > 0 }
            let allowed = word.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (index > 0 && $0 == UInt8(ascii: "-")) }
            guard allowed else { return false }
        }
        return true
    }
}
