import Foundation
import KeyfleetCore
import SQLKit
import SSHKeys

/// Conversions between stored columns and values.
enum Coding {
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The stored form of a SHA-256 digest, refusing any other length.
    static func digest(_ bytes: [UInt8], field: String) throws -> String {
        guard bytes.count == 32 else { throw StoreError(.invalidInput, "\(field) is \(bytes.count) bytes, not a 32-byte SHA-256 digest") }
        return hex(bytes)
    }

    static func time(_ value: UInt64?) -> Int64? { value.map { Int64(clamping: $0) } }
    static func time(_ row: any SQLRow, _ column: String) throws -> UInt64? {
        try row.decode(column: column, as: Int64?.self).map { UInt64(clamping: $0) }
    }
    static func string(_ row: any SQLRow, _ column: String) throws -> String { try row.decode(column: column, as: String.self) }

    static func id<Subject>(_ row: any SQLRow, _ column: String, as _: Subject.Type = Subject.self) throws -> Identifier<Subject> {
        let text = try string(row, column)
        guard let id = Identifier<Subject>(rawValue: text) else {
            throw StoreError(.invalidInput, "the stored identifier \"\(text)\" in \(column) is malformed")
        }
        return id
    }

    static func optionalID<Subject>(_ row: any SQLRow, _ column: String, as _: Subject.Type = Subject.self) throws -> Identifier<Subject>? {
        guard let text = try row.decode(column: column, as: String?.self) else { return nil }
        guard let id = Identifier<Subject>(rawValue: text) else {
            throw StoreError(.invalidInput, "the stored identifier \"\(text)\" in \(column) is malformed")
        }
        return id
    }

    static func login(_ text: String) throws -> LoginName {
        guard let login = LoginName(rawValue: text) else { throw StoreError(.invalidInput, "the stored login \"\(text)\" is malformed") }
        return login
    }

    // MARK: Cursors

    /// An opaque cursor for a position after `key`: `c1_` and base64url, only characters the contract's
    /// cursor pattern (`^[A-Za-z0-9_-]+$`) allows.
    static func cursor(after key: String) -> String {
        "c1_"
            + Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The position a cursor stands for.
    static func position(_ cursor: String?) throws -> String? {
        guard let cursor else { return nil }
        guard cursor.hasPrefix("c1_") else { throw StoreError(.invalidInput, "the page cursor is malformed") }
        var base64 = String(cursor.dropFirst(3)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard base64.count <= 400, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            throw StoreError(.invalidInput, "the page cursor is malformed")
        }
        return text
    }

    /// A page from `limit + 1` fetched items ordered by `key`.
    static func page<Item>(_ items: [Item], limit: Int, key: (Item) -> String) -> Page<Item> {
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        let kept = Array(items.prefix(limit))
        return Page(items: kept, nextCursor: kept.last.map { cursor(after: key($0)) })
    }
}

/// The JSON kept in the audit log's before and after columns: every field of the object, keys sorted.
enum AuditJSON {
    static func render(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func optional(_ value: Any?) -> Any { value ?? NSNull() }

    static func user(_ user: User) -> String {
        render(["id": user.id.rawValue, "name": user.name, "role": user.role.rawValue])
    }

    static func token(_ token: APIToken) -> String {
        render([
            "id": token.id.rawValue, "user": token.user.rawValue, "scope": token.scope.rawValue, "createdAt": token.createdAt,
            "revokedAt": optional(token.revokedAt),
        ])
    }

    static func project(_ project: Project) -> String {
        render([
            "id": project.id.rawValue, "name": project.name,
            "members": Dictionary(uniqueKeysWithValues: project.members.map { ($0.key.rawValue, $0.value.rawValue) }),
        ])
    }

    /// Stored findings (`LOGIN FINGERPRINT LINE` lines) as `{"lines": [...]}`; nil for none.
    static func revokedLines(_ stored: String) -> String? {
        let lines = stored.split(separator: "\n").compactMap(RevokedKeyLine.init(stored:))
        guard !lines.isEmpty else { return nil }
        return render(["lines": lines.map { ["login": $0.login, "fingerprint": $0.fingerprint, "line": $0.line] as [String: Any] }])
    }

    static func invitation(_ invitation: Invitation) -> String {
        render([
            "project": invitation.project.rawValue, "user": invitation.user.rawValue, "role": invitation.role.rawValue,
            "invitedBy": optional(invitation.invitedBy?.rawValue), "invitedAt": invitation.invitedAt,
        ])
    }

    static func owner(_ owner: KeyOwner) -> [String: String] {
        switch owner {
        case .user(let id): ["user": id.rawValue]
        case .project(let id): ["project": id.rawValue]
        }
    }

    static func key(_ key: SSHKeyRecord) -> String {
        render([
            "id": key.id.rawValue, "name": key.name, "owner": owner(key.owner), "publicKey": key.publicKey.openSSHLine,
            "type": key.type.name, "bits": key.bits, "sha256Fingerprint": key.sha256Fingerprint, "md5Fingerprint": key.md5Fingerprint,
            "comment": key.comment, "labels": key.labels, "expiresAt": optional(key.expiresAt), "createdBy": key.createdBy.rawValue,
            "createdAt": key.createdAt,
        ])
    }

    static func host(_ host: KeyfleetCore.Host) -> String {
        let logins: [[String: Any]] = host.logins.map { login in
            switch host.access(for: login) {
            case .inherited: ["login": login.rawValue, "access": "inherited"]
            case .explicit(let keys): ["login": login.rawValue, "access": keys.map(\.rawValue)]
            }
        }
        return render([
            "id": host.id.rawValue, "project": host.project.rawValue, "name": host.name, "labels": host.labels, "logins": logins,
            "cluster": optional(host.cluster?.rawValue), "address": optional(host.address),
            "rescueKeys": Dictionary(uniqueKeysWithValues: host.rescueKeys.map { ($0.key.rawValue, $0.value.map(\.rawValue)) }),
            "rescueActive": host.rescueActive,
        ])
    }

    static func cluster(_ cluster: Cluster) -> String {
        render(["id": cluster.id.rawValue, "project": cluster.project.rawValue, "name": cluster.name, "keys": cluster.keys.map(\.rawValue)])
    }
}
