/// The name of a Unix account that keys may log in as: `root`, `deploy`, `svc_backup`.
///
/// The rule is the one the host agent's lookup command applies to the user name sshd passes it:
/// `^[a-z_][a-z0-9._-]{0,31}$` and no `..`. So a login name never holds a `/`, a blank, an upper-case
/// letter, a leading `-` (no option injection into `useradd`), and is never `.` or `..`.
public struct LoginName: Hashable, Comparable, Sendable, RawRepresentable, CustomStringConvertible, Codable {
    /// The name.
    public let rawValue: String

    /// The longest name (the `useradd` limit).
    public static let maximumLength = 32

    /// `root`.
    public static let root = LoginName(checked: "root")

    /// The name, or nil when `rawValue` breaks the rule.
    public init?(rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// The name, or ``PolicyError/Code-swift.struct/invalidLogin`` naming the fault.
    public init(_ text: String) throws(PolicyError) {
        guard Self.isValid(text) else {
            throw PolicyError(
                .invalidLogin,
                "the login \"\(PolicyError.printable(text))\" is not 1 to 32 characters of a-z, 0-9, '.', '_' or '-' "
                    + "starting with a letter or '_' without '..'",
                field: "login")
        }
        rawValue = text
    }

    private init(checked: String) { rawValue = checked }

    /// Whether `text` matches `^[a-z_][a-z0-9._-]{0,31}$` and holds no `..`.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maximumLength else { return false }
        func isLower(_ byte: UInt8) -> Bool { byte >= 0x61 && byte <= 0x7A }
        guard isLower(first) || first == UInt8(ascii: "_") else { return false }
        var previous: UInt8 = 0
        for byte in bytes {
            let allowed =
                isLower(byte) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
            guard allowed else { return false }
            if byte == UInt8(ascii: "."), previous == UInt8(ascii: ".") { return false }
            previous = byte
        }
        return true
    }

    /// Orders by the name's text.
    public static func < (lhs: LoginName, rhs: LoginName) -> Bool { lhs.rawValue < rhs.rawValue }
    /// The name.
    public var description: String { rawValue }
}
