internal import Crypto
internal import Foundation

/// Strong entity tags for single objects: a hash of the object's JSON, so any visible change gives a
/// new tag and an unchanged object keeps its tag across restarts.
public enum EntityTag {
    /// The quoted tag of `value`.
    public static func of(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = (try? encoder.encode(value)) ?? Data()
        let digest = SHA256.hash(data: data)
        return "\""
            + digest.prefix(12).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined() + "\""
    }

    /// Whether an `If-None-Match` header names `tag` (or is `*`).
    public static func ifNoneMatch(_ header: String?, matches tag: String) -> Bool {
        guard let header else { return false }
        return list(header).contains { $0 == "*" || weakComparable($0) == weakComparable(tag) }
    }

    /// Throws 412 unless an `If-Match` header is absent, `*`, or names `tag`.
    public static func check(ifMatch header: String?, current tag: String) throws {
        guard let header else { return }
        guard list(header).contains(where: { $0 == "*" || $0 == tag }) else { throw APIProblem.preconditionFailed }
    }

    private static func list(_ header: String) -> [String] {
        header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private static func weakComparable(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }
}
