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
        let entries = try await store.audit(filter, page: page)
        let items = try await named(entries.items.map(Components.Schemas.AuditEntry.init))
        return .ok(.init(body: .json(.init(items: items, nextCursor: entries.nextCursor))))
    }
}
