import KeyfleetCLI
import KeyfleetAPI
import OpenAPIRuntime

/// Names to identifiers: paths take identifiers, so a name is looked up with the listing's `name` filter.
extension Registry {
    /// The identifier of the one object named `reference`; when none has that name and `reference` looks
    /// like an identifier, it is taken as one (the call that uses it answers 404 if it is not). A reference
    /// that names nothing but is close to a name that exists (a slip: `web-l` for `web-1`) is refused with
    /// that name, unless it is the identifier of one of them.
    ///
    /// `lookup` lists one page of the objects, those named by its last argument, or all when it is nil.
    private func resolve(
        _ kind: String, _ reference: String, within: String? = nil,
        _ lookup: (Client, String?, String?) async throws -> (items: [(id: String, name: String)], next: String?)
    ) async throws(CLIError) -> String {
        var matches: [String] = []
        if reference.unicodeScalars.count <= 64, !reference.isEmpty {
            matches = try await all { client, cursor in try await lookup(client, cursor, reference) }.filter { $0.name == reference }.map(\.id)
        }
        if matches.count == 1, let id = matches.first { return id }
        let scope = within.map { " \($0)" } ?? ""
        if matches.count > 1 {
            throw CLIError(
                "\(matches.count) \(kind)s\(scope) are named \"\(Terminal.safe(reference))\"; "
                    + "give the identifier (\(matches.map(Terminal.safe).joined(separator: ", ")))")
        }
        // Identifiers the store makes are UUIDs: one of those is used as it is, without a second listing.
        if ClientInput.isIdentifier(reference), Self.isUUID(reference) { return reference }
        // One page of every name (a slip is found among the first thousand), to suggest the closest.
        let everything = try await call { client in try await lookup(client, nil, nil).items }
        if everything.contains(where: { $0.id == reference }) { return reference }
        if let closest = Suggestions.closest(to: reference, among: everything.map(\.name)) {
            throw CLIError(
                "no \(kind)\(scope) is named \"\(Terminal.safe(reference))\"; did you mean \"\(Terminal.safe(closest))\"?", code: "not-found")
        }
        if ClientInput.isIdentifier(reference) { return reference }
        throw CLIError("no \(kind)\(scope) is named \"\(Terminal.safe(reference))\"", code: "not-found")
    }

    /// Whether `text` is a UUID as the store makes identifiers (8-4-4-4-12 hexadecimal digits).
    private static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    func projectID(_ reference: String) async throws(CLIError) -> String {
        try await resolve("project", reference) { client, cursor, name in
            let page = try await client.listProjects(query: .init(limit: 1000, cursor: cursor, name: name)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func keyID(_ reference: String, project: String? = nil) async throws(CLIError) -> String {
        try await resolve("key", reference, within: project.map { "of project \($0)" }) { client, cursor, name in
            let page = try await client.listSSHKeys(query: .init(limit: 1000, cursor: cursor, name: name, project: project)).ok.body.json
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
        try await resolve("host", reference, within: project.map { "of project \($0)" }) { client, cursor, name in
            let page = try await client.listHosts(query: .init(limit: 1000, cursor: cursor, name: name, project: project)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func clusterID(_ reference: String, project: String? = nil) async throws(CLIError) -> String {
        try await resolve("cluster", reference, within: project.map { "of project \($0)" }) { client, cursor, name in
            let page = try await client.listClusters(query: .init(limit: 1000, cursor: cursor, name: name, project: project)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    func userID(_ reference: String) async throws(CLIError) -> String {
        try await resolve("user", reference) { client, cursor, name in
            let page = try await client.listUsers(query: .init(limit: 1000, cursor: cursor, name: name)).ok.body.json
            return (page.items.map { ($0.id, $0.name) }, page.nextCursor)
        }
    }

    /// `--project P` resolved, or nil when not given.
    func optionalProjectID(_ reference: String?) async throws(CLIError) -> String? {
        guard let reference else { return nil }
        return try await projectID(reference)
    }
}
