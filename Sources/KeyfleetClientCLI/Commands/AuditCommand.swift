import KeyfleetCLI
import ArgumentParser
import KeyfleetAPI

/// `keyfleet audit`: the append-only log of every change.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit entries, oldest first.")
        @Option(help: ArgumentHelp("Entries at or after this time: a duration ago (30m, 2h, 7d) or an RFC 3339 time.", valueName: "when"))
        var since: String?
        @Option(help: ArgumentHelp("Entries made by this user (name or id).", valueName: "user")) var actor: String?
        @Option(help: ArgumentHelp("Entries about the object with this id.", valueName: "id")) var object: String?
        @Option(name: .customLong("object-type"), help: "Entries about this kind of object: user, token, project, key, host or cluster.")
        var objectType: String?
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let since = try ClientInput.since(since)
            var kind: Components.Schemas.ObjectType?
            if let objectType {
                guard let parsed = Components.Schemas.ObjectType(rawValue: objectType) else {
                    throw CLIError.usage("--object-type \"\(Terminal.safe(objectType))\" is not user, token, project, key, host or cluster")
                }
                kind = parsed
            }
            let registry = try Registry(connection.resolve())
            var actorID: String?
            if let actor { actorID = try await registry.userID(actor) }
            let entries = try await registry.all { client, cursor in
                let page = try await client.listAuditEntries(
                    query: .init(cursor: cursor, since: since, actor: actorID, object: object, objectType: kind)
                ).ok.body.json
                return (page.items, page.nextCursor)
            }
            if output.output == .json { return try ClientOutput.printJSON(entries) }
            ClientOutput.printTable(
                ["SEQ", "TIME", "ACTOR", "TOKEN", "ACTION", "TYPE", "OBJECT"],
                entries.map {
                    [
                        String($0.sequence), ClientOutput.time($0.at), $0.actor == nil ? "(server)" : ClientOutput.name($0.actorName, or: $0.actor),
                        $0.token ?? "-", $0.action, $0.objectType.rawValue, ClientOutput.name($0.objectName, or: $0.objectId),
                    ]
                })
        }
    }
}
