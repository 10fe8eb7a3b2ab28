import KeyfleetCore
import SQLKit

extension SQLStore {
    public func names(_ query: NameQuery) async throws -> NameBook {
        guard !query.isEmpty else { return NameBook() }
        return try await read { db in
            var book = NameBook()
            book.users = try await Self.names(db, table: "users", ids: query.users)
            book.projects = try await Self.names(db, table: "projects", ids: query.projects)
            book.keys = try await Self.names(db, table: "ssh_keys", ids: query.keys)
            book.clusters = try await Self.names(db, table: "clusters", ids: query.clusters)
            return book
        }
    }

    /// `id -> name` for the rows of `table` among `ids`, in batches that stay under every engine's bind limit.
    private static func names<Tag>(_ db: any SQLDatabase, table: String, ids: Set<Identifier<Tag>>) async throws -> [Identifier<Tag>: String] {
        var result = [Identifier<Tag>: String]()
        let sorted = ids.map(\.rawValue).sorted()
        for start in stride(from: 0, to: sorted.count, by: 500) {
            let batch = Array(sorted[start..<min(start + 500, sorted.count)])
            let rows = try await db.raw("SELECT id, name FROM \(unsafeRaw: table) WHERE id IN (\(binds: batch))").all()
            for row in rows {
                result[try Coding.id(row, "id")] = try Coding.string(row, "name")
            }
        }
        return result
    }
}
