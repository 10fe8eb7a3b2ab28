/// The rules for labels (`env=prod`, `team/owner=ops`) on keys and hosts.
///
/// A label key is 1 to 63 characters: lower-case letters and digits, and inside also `.`, `_`, `/` and `-`
/// (`[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?`). A value is 0 to 63 characters, none of them a control
/// character, line break, line separator or bidirectional control. At most ``maximumCount`` labels.
public enum LabelPolicy {
    /// The most labels one object may carry.
    public static let maximumCount = 64
    /// The longest key and the longest value, in characters.
    public static let maximumLength = 63

    /// Throws ``PolicyError/Code-swift.struct/invalidLabel`` for the first label (in key order) that breaks
    /// the rules above, naming it.
    public static func validate(_ labels: [String: String], field: String = "labels") throws(PolicyError) {
        guard labels.count <= maximumCount else {
            throw PolicyError(.invalidLabel, "there are \(labels.count) labels, more than \(maximumCount)", field: field)
        }
        for key in labels.keys.sorted() {
            try validate(key: key, field: field)
            try validate(value: labels[key] ?? "", key: key, field: field)
        }
    }

    /// Whether `key` is a valid label key.
    public static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        guard (1...maximumLength).contains(bytes.count) else { return false }
        func isEnd(_ byte: UInt8) -> Bool { (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) }
        func isInner(_ byte: UInt8) -> Bool {
            isEnd(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "-")
        }
        guard let first = bytes.first, let last = bytes.last, isEnd(first), isEnd(last) else { return false }
        return bytes.allSatisfy(isInner)
    }

    /// Whether `value` is a valid label value.
    public static func isValidValue(_ value: String) -> Bool {
        value.unicodeScalars.count <= maximumLength && TextPolicy.isAcceptable(value)
    }

    static func validate(key: String, field: String) throws(PolicyError) {
        guard isValidKey(key) else {
            throw PolicyError(
                .invalidLabel,
                "the label key \"\(PolicyError.printable(key))\" is not 1 to 63 lower-case letters, digits, '.', '_', '/' or '-' "
                    + "starting and ending with a letter or digit",
                field: field)
        }
    }

    static func validate(value: String, key: String, field: String) throws(PolicyError) {
        guard TextPolicy.isAcceptable(value) else {
            throw PolicyError(.invalidLabel, "the value of label \"\(key)\" contains a line break, NUL or other control character", field: field)
        }
        guard value.unicodeScalars.count <= maximumLength else {
            throw PolicyError(.invalidLabel, "the value of label \"\(key)\" is longer than \(maximumLength) characters", field: field)
        }
    }
}
