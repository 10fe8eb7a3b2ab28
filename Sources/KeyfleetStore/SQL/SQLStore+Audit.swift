import KeyfleetCore
import SQLKit

extension SQLStore {
    // MARK: Audit

    public func audit(_ filter: AuditFilter, page: PageRequest) async throws -> Page<AuditEntry> {
        let after: Int64
        if let position = try Coding.position(page.cursor) {
            guard let value = Int64(position) else { throw StoreError(.invalidInput, "the page cursor is malformed") }
            after = value
        } else {
            after = 0
        }
        return try await read { db in
            var query: SQLQueryString = "SELECT * FROM audit_log WHERE sequence > \(bind: after)"
            if let since = filter.since {
                query.appendLiteral(" AND at >= ")
                query.appendInterpolation(bind: Int64(clamping: since))
            }
            if let actor = filter.actor {
                query.appendLiteral(" AND user_id = ")
                query.appendInterpolation(bind: actor.rawValue)
            }
            if let objectType = filter.objectType {
                query.appendLiteral(" AND object_type = ")
                query.appendInterpolation(bind: objectType)
            }
            if let objectID = filter.objectID {
                query.appendLiteral(" AND object_id = ")
                query.appendInterpolation(bind: objectID)
            }
            // The handler lets through only letters, dots and dashes, so a prefix needs no LIKE escapes.
            if let action = filter.action, action.hasSuffix(".") {
                query.appendLiteral(" AND action LIKE ")
                query.appendInterpolation(bind: action + "%")
            } else if let action = filter.action {
                query.appendLiteral(" AND action = ")
                query.appendInterpolation(bind: action)
            }
            query.appendLiteral(" ORDER BY sequence LIMIT \(page.limit + 1)")
            let entries = try await db.raw(query).all().map { row in
                AuditEntry(
                    sequence: UInt64(clamping: try row.decode(column: "sequence", as: Int64.self)), at: try Coding.time(row, "at") ?? 0,
                    user: try Coding.optionalID(row, "user_id"), token: try Coding.optionalID(row, "token_id"),
                    action: try Coding.string(row, "action"),
                    objectType: try Coding.string(row, "object_type"), objectID: try Coding.string(row, "object_id"),
                    before: try row.decode(column: "before_json", as: String?.self), after: try row.decode(column: "after_json", as: String?.self))
            }
            return Coding.page(entries, limit: page.limit) { String($0.sequence) }
        }
    }
}
