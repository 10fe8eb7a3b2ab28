internal import Foundation
internal import KeyfleetAPI
internal import KeyfleetStore
internal import OpenAPIRuntime

extension Components.Schemas.AuditEntry {
    /// The entry as the API shows it, with `before` and `after` in the API's own shape (snake_case, RFC 3339
    /// times, key owners as `{kind, id}`, project members as a list).
    init(_ entry: AuditEntry) {
        self.init(
            sequence: Int64(clamping: entry.sequence), at: Timestamps.date(entry.at), actor: entry.user?.rawValue,
            token: entry.token?.rawValue, action: entry.action,
            objectType: Components.Schemas.ObjectType(rawValue: entry.objectType) ?? .key, objectId: entry.objectID,
            before: AuditShape.container(entry.before), after: AuditShape.container(entry.after))
        objectName = AuditShape.name(in: entry.after) ?? AuditShape.name(in: entry.before)
    }
}

/// Turns the audit log's stored JSON into the shape the API shows objects in.
enum AuditShape {
    /// Stored names whose API name is not simply their snake_case form.
    private static let renamed = ["sha256Fingerprint": "fingerprint_sha256", "md5Fingerprint": "fingerprint_md5"]

    /// The `name` the stored object had, if it has one.
    static func name(in json: String?) -> String? {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return object["name"] as? String
    }

    static func container(_ json: String?) -> OpenAPIObjectContainer? {
        guard let json, let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        guard let data = try? JSONSerialization.data(withJSONObject: reshape(object), options: [.sortedKeys]) else { return nil }
        return try? JSONDecoder().decode(OpenAPIObjectContainer.self, from: data)
    }

    static func reshape(_ object: [String: Any]) -> [String: Any] {
        var result = [String: Any]()
        for (name, value) in object {
            let apiName = renamed[name] ?? snakeCase(name)
            switch (name, value) {
            case (_, let seconds as NSNumber) where name.hasSuffix("At"):
                result[apiName] = rfc3339(seconds.uint64Value)
            case ("owner", let owner as [String: Any]):
                if let user = owner["user"] {
                    result[apiName] = ["kind": "user", "id": user]
                } else if let project = owner["project"] {
                    result[apiName] = ["kind": "project", "id": project]
                } else {
                    result[apiName] = owner
                }
            case ("members", let members as [String: Any]):
                result[apiName] = members.keys.sorted().map { ["user": $0, "role": members[$0] ?? NSNull()] }
            case ("labels", let labels as [String: Any]):
                result[apiName] = labels
            case (_, let nested as [String: Any]):
                result[apiName] = reshape(nested)
            default:
                result[apiName] = value
            }
        }
        return result
    }

    static func snakeCase(_ name: String) -> String {
        var text = ""
        for character in name {
            if character.isUppercase {
                text += "_" + character.lowercased()
            } else {
                text.append(character)
            }
        }
        return text
    }

    static func rfc3339(_ seconds: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Timestamps.date(seconds))
    }
}
