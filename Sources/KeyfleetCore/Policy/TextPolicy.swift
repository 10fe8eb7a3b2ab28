import SSHKeys

/// The characters user text may hold wherever the registry keeps or renders it: SSHKeys' ``CommentPolicy``
/// (no C0 or C1 control character, DEL, line or paragraph separator, bidirectional control or BOM), which is
/// the one place that rule is written.
enum TextPolicy {
    /// Whether `text` is free of every character ``CommentPolicy`` forbids.
    static func isAcceptable(_ text: some StringProtocol) -> Bool {
        CommentPolicy.isAcceptable(text.utf8)
    }

    /// Whether `scalar` ends a line or splits text the way a line break does for some reader: every C0
    /// control except tab, DEL, every C1 control (NEL, U+0085, among them), and U+2028/U+2029.
    static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false
        case 0..<0x20, 0x7F..<0xA0, 0x2028, 0x2029: true
        default: false
        }
    }
}
