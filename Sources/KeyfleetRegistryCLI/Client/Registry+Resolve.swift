import KeyfleetCLI
import KeyfleetAPI
import OpenAPIRuntime

/// Names to identifiers: paths take identifiers, so a name is looked up with the listing's `name` filter.
extension Registry {
    /// The identifier of the one object named `reference`; when none has that name and `reference` looks
    /// like an identifier, it is taken as one (the call that uses it answers 404 if it is not).
    private func resolve(
        _ kind: String, _ reference: String, within: String? = nil,
        _ lookup: (Client, String?) async throws -> (items: [(id: String, name: String)], next: String?)
    ) async throws(CLIError) -> String {
        var matches: [String] = []
        if reference.unicodeScalars.count <= 64, !reference.isEmpty {
            matches = try await all { client, cursor in try await lookup(client, cursor) }.filter { $0.name == reference }.map(\.id)
        }
        if matches.count == 1, let id = matches.first { return id }
        if matches.count > 1 {
            let scope = within.map { " \($0)" } ?? ""
            throw CLIError("\(matches.count) \(kind)s\(scope) are named \"\(Terminal.safe(reference))\"; give the identifier (\(matches.map(Terminal.safe).joined(separator: ", ")))")
        }
        if ClientInput.isIdentifier(reference) { return reference }
        throw CLIError("no \(kind) is named \"\(Terminal.safe(reference))\"")
    }

    func projectID(_ reference: String) async throws(CLIError) -> String {
        try await resolve("project", reference) { client, cursor in
            let page = try await client.listProjects(query: .init(limit: 1000, cursor: cursor, name: reference)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func keyID(_ reference: String, project: String? = nil) async throws(CLIError) -> String {
        try await resolve("key", reference, within: project.map { "of project \($0)" }) { client, cursor in
            let page = try await client.listSSHKeys(query: .init(limit: 1000, cursor: cursor, name: reference, project: project)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    /// A key for a host or cluster of `project`: the project's key of that name if there is one, otherwise
    /// any key you may see of that name (a personal key of a member).
    func keyID(_ reference: String, preferring project: String) async throws(CLIError) -> String {
        let projectKeys = try await all { client, cursor in
            let page = try await client.listSSHKeys(query: .init(limit: 1000, cursor: cursor, name: reference, project: project)).ok.body.json
            return (page.items.filter { $0.name == reference }.map(\.id), page.nextCursor)
        }
        if projectKeys.count == 1, let id = projectKeys.first { return id }
        return try await keyID(reference)
    }

    func hostID(_ reference: String, project: String? = nil) async throws(CLIError) -> String {
        try await resolve("host", reference, within: project.map { "of project \($0)" }) { client, cursor in
            let page = try await client.listHosts(query: .init(limit: 1000, cursor: cursor, name: reference, project: project)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func clusterID(_ reference: String, project: String? = nil) async throws(CLIError) -> String {
        try await resolve("cluster", reference, within: project.map { "of project \($0)" }) { client, cursor in
            let page = try await client.listClusters(query: .init(limit: 1000, cursor: cursor, name: reference, project: project)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func userID(_ reference: String) async throws(CLIError) -> String {
        try await resolve("user", reference) { client, cursor in
            let page = try await client.listUsers(query: .init(limit: 1000, cursor: cursor, name: reference)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    /// `--project P` resolved, or nil when not given.
    func optionalProjectID(_ reference: String?) async throws(CLIError) -> String? {
        guard let reference else { return nil }
        return try await projectID(reference)
    }
}
