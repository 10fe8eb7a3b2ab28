/// Renders untrusted text as YAML and JSON scalars that cannot break out of their place.
enum SafeText {
    /// A YAML double-quoted scalar holding exactly `text`, in printable ASCII only: `"` and `\` escaped,
    /// tab, line feed and carriage return as `\t`, `\n`, `\r`, every other character outside 0x20-0x7E as `\xXX`, `\uXXXX` or `\UXXXXXXXX`. Nothing
    /// inside can end the scalar, start a comment, a new key or a new document, whatever YAML 1.1 or 1.2
    /// reader loads it.
    static func yamlQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x20...0x7E: out.unicodeScalars.append(scalar)
            case 0..<0x100: out += "\\x" + hex(scalar.value, width: 2)
            case 0x100...0xFFFF: out += "\\u" + hex(scalar.value, width: 4)
            default: out += "\\U" + hex(scalar.value, width: 8)
            }
        }
        out += "\""
        return out
    }

    /// A JSON string holding exactly `text`, in printable ASCII only: `"` and `\` escaped, everything outside
    /// 0x20-0x7E as `\uXXXX` (characters beyond the BMP as surrogate pairs).
    static func jsonQuoted(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += "\\u" + hex(UInt32(unit), width: 4)
            }
        }
        out += "\""
        return out
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
