/// The identifier of a registry object, typed by what it identifies so that a ``HostID`` can never be passed
/// where a ``KeyID`` is expected.
///
/// Identifiers are made outside this module (the store generates UUIDs) and passed in; this type only
/// checks their shape: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter or digit.
/// They order by their text, which is what makes effective access deterministic.
public struct Identifier<Subject>: Hashable, Comparable, Sendable, RawRepresentable, CustomStringConvertible, Codable {
    /// The identifier's text.
    public let rawValue: String

    /// The longest identifier.
    public static var maximumLength: Int { 64 }

    /// The identifier, or nil when `rawValue` has the wrong shape.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The identifier, or ``PolicyError/Code-swift.struct/invalidIdentifier``.
    public init(_ text: String) throws(PolicyError) {
        guard Self.isValid(text) else {
            throw PolicyError(
                .invalidIdentifier, "the identifier \"\(PolicyError.printable(text))\" is not 1 to 64 letters, digits, '.', '_' or '-'",
                field: "id")
        }
        rawValue = text
    }

    /// Whether `text` has the shape of an identifier.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        guard isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Orders by the identifier's text.
    public static func < (lhs: Identifier, rhs: Identifier) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The identifier's text.
    public var description: String { rawValue }
}

/// Identifies a ``User``.
public typealias UserID = Identifier<User>
/// Identifies a ``Project``.
public typealias ProjectID = Identifier<Project>
/// Identifies an ``SSHKeyRecord``.
public typealias KeyID = Identifier<SSHKeyRecord>
/// Identifies a ``Host``.
public typealias HostID = Identifier<Host>
/// Identifies a ``Cluster``.
public typealias ClusterID = Identifier<Cluster>
