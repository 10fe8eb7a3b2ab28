import Foundation

/// A JSON value as the API's objects encode to it: what `-o yaml` renders. Decoded from the JSON the
/// objects encode to (so YAML and JSON show the same members, dates and names), numbers kept as integers
/// when they are.
enum StructuredValue: Codable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([StructuredValue])
    /// Members sorted by name, as `-o json` writes them.
    case object([(String, StructuredValue)])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([StructuredValue].self) {
            self = .array(value)
        } else {
            let members = try container.decode([String: StructuredValue].self)
            self = .object(members.sorted { $0.key < $1.key })
        }
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .object(let members):
            var container = encoder.container(keyedBy: Key.self)
            for (name, member) in members { try container.encode(member, forKey: Key(stringValue: name)) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let value): try container.encode(value)
            case .integer(let value): try container.encode(value)
            case .number(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .array(let values): try container.encode(values)
            case .object: break
            }
        }
    }

    /// The value `encodable` encodes to, with dates as RFC 3339 text (as `-o json` writes them).
    init(encoding encodable: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        self = try JSONDecoder().decode(StructuredValue.self, from: encoder.encode(encodable))
    }

    static func == (lhs: StructuredValue, rhs: StructuredValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

/// A YAML 1.2 block-style writer for ``StructuredValue``s whose output YAML 1.1 readers (PyYAML, older
/// libyaml) read back as the same values: a string that a reader could take for something else (a number,
/// a boolean, null, a date, an indicator, a comment, a key) is double-quoted, as is any string with a
/// character outside printable ASCII (escaped when not printable, so nothing reaches the terminal raw).
enum YAML {
    /// The document for `value`, without a trailing newline.
    static func document(_ value: StructuredValue) -> String {
        var lines: [String] = []
        switch value {
        case .array(let items) where !items.isEmpty: block(value, indent: 0, into: &lines)
        case .object(let members) where !members.isEmpty: block(value, indent: 0, into: &lines)
        default: lines.append(inline(value))
        }
        return lines.joined(separator: "\n")
    }

    /// A non-empty collection as block lines at `indent`.
    private static func block(_ value: StructuredValue, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let members):
            for (name, member) in members {
                // A key longer than an implicit key may be (1024 characters) is written explicitly: `? key`.
                let key = scalar(name)
                let head: String
                if key.count > 1000 {
                    lines.append(pad + "? " + key)
                    head = pad + ":"
                } else {
                    head = pad + key + ":"
                }
                if isBlock(member) {
                    lines.append(head)
                    block(member, indent: indent + 2, into: &lines)
                } else {
                    lines.append(head + " " + inline(member))
                }
            }
        case .array(let items):
            for item in items {
                if isBlock(item) {
                    // The item's first line goes after the dash: `- name: x`, the rest below it, aligned.
                    var nested: [String] = []
                    block(item, indent: indent + 2, into: &nested)
                    if let first = nested.first {
                        nested[0] = pad + "- " + first.dropFirst(indent + 2)
                    }
                    lines += nested
                } else {
                    lines.append(pad + "- " + inline(item))
                }
            }
        default:
            lines.append(pad + inline(value))
        }
    }

    private static func isBlock(_ value: StructuredValue) -> Bool {
        switch value {
        case .array(let items): !items.isEmpty
        case .object(let members): !members.isEmpty
        default: false
        }
    }

    /// A scalar or an empty collection on one line.
    private static func inline(_ value: StructuredValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value):
            value.isNaN ? ".nan" : value.isInfinite ? (value < 0 ? "-.inf" : ".inf") : number(value)
        case .string(let text): scalar(text)
        case .array: "[]"
        case .object: "{}"
        }
    }

    /// A float as YAML's core schema reads it: always with a `.` or an exponent.
    private static func number(_ value: Double) -> String {
        let text = String(value)
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    /// `text` plain when every reader reads it back as that string, double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        needsQuotes(text) ? quoted(text) : text
    }

    /// Words YAML 1.1 or 1.2 readers resolve to null or a boolean.
    private static let reservedWords: Set<String> = [
        "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n",
    ]

    static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return true }
        if reservedWords.contains(text.lowercased()) { return true }
        // Printable ASCII only; anything else is quoted (and escaped when it is not printable).
        if !text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return true }
        // Indicators that start something else than a plain scalar, and what starts a number, a date,
        // `.inf` or `.nan` (a string that starts like one is quoted rather than checked against each form).
        if "-?:,[]{}#&*!|>'\"%@`+.0123456789 ".unicodeScalars.contains(first) { return true }
        if last == " " || last == ":" { return true }
        if text.contains(": ") || text.contains(" #") { return true }
        // `<<` is the merge key in YAML 1.1; `=` alone its value key.
        if text == "<<" || text == "=" { return true }
        return false
    }

    /// `text` double-quoted: `\` and `"` escaped, every character that is not printable (C0, DEL, C1,
    /// line and paragraph separators, the byte order mark) as `\xXX` or `\uXXXX`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) {
                    let hex = String(value, radix: 16, uppercase: true)
                    out += "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                } else if value == 0x2028 || value == 0x2029 || value == 0xFEFF || (0xFFFE...0xFFFF).contains(value) {
                    out += "\\u" + String(value, radix: 16, uppercase: true)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
