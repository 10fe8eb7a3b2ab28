import KeyfleetCLI
import KeyfleetAPI

/// Identifiers to names, for tables: people read names, the API answers with identifiers.
extension Registry {
    /// Every user's name by identifier (any signed-in user may list users).
    func userNames() async throws(CLIError) -> [String: String] {
        let users = try await all { client, cursor in
            let page = try await client.listUsers(query: .init(limit: 1000, cursor: cursor)).ok.body.json
            return (page.items, page.nextCursor)
        }
        return Dictionary(users.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    /// The name of every project the caller may see, by identifier.
    func projectNames() async throws(CLIError) -> [String: String] {
        let projects = try await all { client, cursor in
            let page = try await client.listProjects(query: .init(limit: 1000, cursor: cursor)).ok.body.json
            return (page.items, page.nextCursor)
        }
        return Dictionary(projects.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}

extension Dictionary where Key == String, Value == String {
    /// The name for `id`, or the identifier itself when the name is not known (an object the caller may not see).
    func name(_ id: String?) -> String {
        guard let id else { return "-" }
        return self[id] ?? id
    }
}
