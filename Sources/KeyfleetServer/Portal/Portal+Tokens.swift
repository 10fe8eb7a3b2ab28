internal import Foundation
internal import Hummingbird
internal import KeyfleetAPI
internal import KeyfleetCore
internal import OpenAPIRuntime

/// API tokens and the audit log.
extension Portal {
    func registerTokens(on router: Router<BasicRequestContext>) {
        page("/tokens", on: router, operation: "listTokens") { try await tokensPage($0) }
        page("/tokens", on: router, operation: "createToken", write: true) { visit in
            let scope = Components.Schemas.TokenScope(rawValue: visit.form["scope"]) ?? .readOnly
            let created = try await api.createToken(.init(body: .json(.init(scope: scope)))).created.body.json
            let values: [String: Any] = ["id": created.token.id, "scope": created.token.scope.rawValue, "secret": created.secret]
            return render(
                PortalPage(title: "Token created", template: "token-created", section: "Tokens", values: values), status: .created,
                visit: visit)
        }
        page("/tokens/:id/revoke", on: router, operation: "revokeToken", write: true) { visit, path in
            let id = path["id"]
            _ = try await api.revokeToken(.init(path: .init(tokenId: id))).ok
            if id == visit.token.id.rawValue {
                // The session's own token: the session ends with it.
                sessions.end(visit.sessionID)
                return signInPage(status: .ok, error: nil, notice: "Token \(id) was revoked; this session has ended.")
            }
            sessions.leave("Token \(id) was revoked.", for: visit.sessionID)
            return Self.redirect("/tokens")
        }
    }

    private func tokensPage(_ visit: Visit) async throws -> Response {
        let tokens = try await api.listTokens(.init(query: .init(limit: 200, user: visit.user.id.rawValue))).ok.body.json.items
        let rows: [[String: Any]] = tokens.map { token in
            [
                "id": token.id, "scope": token.scope.rawValue, "created": PortalFormat.time(token.createdAt),
                "state": token.revokedAt.map { "revoked " + PortalFormat.time($0) } ?? "active",
                "current": token.id == visit.token.id.rawValue,
                "mayRevoke": token.revokedAt == nil && (visit.mayWrite || token.id == visit.token.id.rawValue),
            ]
        }
        return render(PortalPage(title: "Tokens", template: "tokens", section: "Tokens", values: ["tokens": rows]), visit: visit)
    }

    func registerAudit(on router: Router<BasicRequestContext>) {
        page("/audit", on: router, operation: "listAuditEntries") { try await auditPage($0) }
    }

    private func auditPage(_ visit: Visit) async throws -> Response {
        let actorName = visit.query("actor").trimmingCharacters(in: .whitespaces)
        let objectType = visit.query("object_type")
        let object = visit.query("object").trimmingCharacters(in: .whitespaces)
        let since = visit.query("since")
        let action = visit.query("action").trimmingCharacters(in: .whitespaces)
        let cursor = visit.query("cursor")
        var actor: String?
        if !actorName.isEmpty {
            let users = try await api.listUsers(.init(query: .init(limit: 1, name: actorName))).ok.body.json.items
            guard let user = users.first else { throw APIProblem.badRequest("no user is named \(actorName.prefix(64))", field: "actor") }
            actor = user.id
        }
        let type: Components.Schemas.ObjectType?
        if objectType.isEmpty {
            type = nil
        } else {
            guard let parsed = Components.Schemas.ObjectType(rawValue: objectType) else {
                throw APIProblem.badRequest("the object type \(objectType.prefix(32)) is not one the log records", field: "object_type")
            }
            type = parsed
        }
        let listing = try await api.listAuditEntries(
            .init(
                query: .init(
                    limit: 50, cursor: cursor.isEmpty ? nil : cursor, since: try PortalFormat.day(since, field: "since"), actor: actor,
                    object: object.isEmpty ? nil : object, objectType: type, action: action.isEmpty ? nil : action))
        ).ok.body.json
        let filters = [("actor", actorName), ("object_type", objectType), ("object", object), ("action", action), ("since", since)]
        let values: [String: Any] = [
            "actor": actorName, "object": object, "since": since, "action": action,
            "objectTypes": Components.Schemas.ObjectType.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == objectType] },
            "caption": "Changes, oldest first",
            "entries": listing.items.map { entry -> [String: Any] in
                [
                    "sequence": entry.sequence, "at": PortalFormat.time(entry.at), "actor": entry.actorName ?? entry.actor ?? "system",
                    "action": entry.action, "objectType": entry.objectType.rawValue, "objectName": entry.objectName ?? entry.objectId,
                    "hasChange": entry.before != nil || entry.after != nil, "before": Self.json(entry.before), "after": Self.json(entry.after),
                ]
            },
            "next": listing.nextCursor.map { "/audit" + PortalFormat.query(filters + [("cursor", $0)]) } ?? "",
        ]
        return render(PortalPage(title: "Audit log", template: "audit", section: "Audit", values: values), visit: visit)
    }

    /// An audit entry's before or after as indented JSON, `none` when absent.
    private static func json(_ object: OpenAPIObjectContainer?) -> String {
        guard let object else { return "none" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return "(not shown)" }
        return String(decoding: data, as: UTF8.self)
    }
}
