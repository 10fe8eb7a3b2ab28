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

/// The JSON kept in the audit log's before and after columns: every field of the object, keys sorted by
/// their UTF-8 bytes, no whitespace, `/` not escaped.
///
/// Written by hand rather than by `JSONSerialization`, whose sorted keys compare with a locale: that made
/// the audit entry most of the cost of writing a key.
enum AuditJSON {
    /// A JSON value of the kinds audit entries hold.
    enum Value: ExpressibleByStringLiteral {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case null
        case array([Value])
        case object([String: Value])

        init(stringLiteral value: String) { self = .string(value) }

        static func integer(_ value: UInt64) -> Value { .integer(Int64(clamping: value)) }
        static func integer(_ value: Int) -> Value { .integer(Int64(value)) }
        static func optional(_ value: String?) -> Value { value.map(Value.string) ?? .null }
        static func optional(_ value: UInt64?) -> Value { value.map { .integer($0) } ?? .null }
        static func strings(_ values: [String]) -> Value { .array(values.map(Value.string)) }
        static func strings(_ values: [String: String]) -> Value { .object(values.mapValues(Value.string)) }
    }

    static func render(_ object: [String: Value]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(512)
        write(.object(object), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: Value, to out: inout [UInt8]) {
        switch value {
        case .string(let text): write(string: text, to: &out)
        case .integer(let number): out += Array(String(number).utf8)
        case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(string: key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key] ?? .null, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, ... or `\u00XX`.
    private static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func user(_ user: User) -> String {
        render(["id": .string(user.id.rawValue), "name": .string(user.name), "role": .string(user.role.rawValue)])
    }

    static func token(_ token: APIToken) -> String {
        render([
            "id": .string(token.id.rawValue), "user": .string(token.user.rawValue), "scope": .string(token.scope.rawValue),
            "createdAt": .integer(token.createdAt), "revokedAt": .optional(token.revokedAt),
        ])
    }

    static func project(_ project: Project) -> String {
        render([
            "id": .string(project.id.rawValue), "name": .string(project.name),
            "members": .strings(Dictionary(uniqueKeysWithValues: project.members.map { ($0.key.rawValue, $0.value.rawValue) })),
        ])
    }

    /// Stored findings (`LOGIN FINGERPRINT LINE` lines) as `{"lines": [...]}`; nil for none.
    static func revokedLines(_ stored: String) -> String? {
        let lines = stored.split(separator: "\n").compactMap(RevokedKeyLine.init(stored:))
        guard !lines.isEmpty else { return nil }
        return render([
            "lines": .array(lines.map { .object(["login": .string($0.login), "fingerprint": .string($0.fingerprint), "line": .integer($0.line)]) })
        ])
    }

    static func invitation(_ invitation: Invitation) -> String {
        render([
            "project": .string(invitation.project.rawValue), "user": .string(invitation.user.rawValue), "role": .string(invitation.role.rawValue),
            "invitedBy": .optional(invitation.invitedBy?.rawValue), "invitedAt": .integer(invitation.invitedAt),
        ])
    }

    static func owner(_ owner: KeyOwner) -> Value {
        switch owner {
        case .user(let id): .strings(["user": id.rawValue])
        case .project(let id): .strings(["project": id.rawValue])
        }
    }

    static func key(_ key: SSHKeyRecord) -> String {
        render([
            "id": .string(key.id.rawValue), "name": .string(key.name), "owner": owner(key.owner), "publicKey": .string(key.publicKey.openSSHLine),
            "type": .string(key.type.name), "bits": .integer(key.bits), "sha256Fingerprint": .string(key.sha256Fingerprint),
            "md5Fingerprint": .string(key.md5Fingerprint), "comment": .string(key.comment), "labels": .strings(key.labels),
            "expiresAt": .optional(key.expiresAt), "createdBy": .string(key.createdBy.rawValue), "createdAt": .integer(key.createdAt),
        ])
    }

    static func host(_ host: KeyfleetCore.Host) -> String {
        let logins: [Value] = host.logins.map { login in
            switch host.access(for: login) {
            case .inherited: .object(["login": .string(login.rawValue), "access": "inherited"])
            case .explicit(let keys): .object(["login": .string(login.rawValue), "access": .strings(keys.map(\.rawValue))])
            }
        }
        return render([
            "id": .string(host.id.rawValue), "project": .string(host.project.rawValue), "name": .string(host.name),
            "labels": .strings(host.labels), "logins": .array(logins), "cluster": .optional(host.cluster?.rawValue),
            "address": .optional(host.address),
            "rescueKeys": .object(Dictionary(uniqueKeysWithValues: host.rescueKeys.map { ($0.key.rawValue, .strings($0.value.map(\.rawValue))) })),
            "rescueActive": .bool(host.rescueActive),
        ])
    }

    static func cluster(_ cluster: Cluster) -> String {
        render([
            "id": .string(cluster.id.rawValue), "project": .string(cluster.project.rawValue), "name": .string(cluster.name),
            "keys": .strings(cluster.keys.map(\.rawValue)),
        ])
    }
}
