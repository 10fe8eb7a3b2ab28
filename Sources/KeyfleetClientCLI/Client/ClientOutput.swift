import KeyfleetCLI
import ArgumentParser
import Foundation
import KeyfleetAPI
import Synchronization

/// What a command prints: a table for people, or the API's objects (`-o json` or `-o yaml`).
enum OutputFormat: Equatable {
    /// Aligned columns (the default).
    case table
    /// The API's objects, in the encoding `-o` chose (``ClientOutput/encoding``): JSON or YAML.
    case json
}

/// `-o`/`--output table|json|yaml`.
enum OutputChoice: String, ExpressibleByArgument, CaseIterable {
    case table, json, yaml
}

/// `-o`/`--output`, taken by every list and describe.
struct OutputOptions: ParsableArguments {
    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: ArgumentHelp("table (default), json or yaml (the API's objects).", valueName: "format"))
    var format: OutputChoice = .table

    /// `.json` for the API's objects (printed as JSON or YAML, as ``format`` says), `.table` otherwise.
    var output: OutputFormat { format == .table ? .table : .json }

    /// Records the encoding for ``ClientOutput/printJSON(_:)`` and for errors.
    func validate() throws {
        ClientOutput.encoding.withLock { $0 = format == .yaml ? .yaml : format == .json ? .json : nil }
    }
}

/// How the API's objects, and errors as problem documents, are written.
enum StructuredEncoding: Sendable {
    case json, yaml
}

enum ClientOutput {
    /// The encoding `-o json` or `-o yaml` chose; nil for tables and one-line errors. Set once, before the
    /// command runs (from the arguments, then from the parsed options).
    static let encoding = Mutex<StructuredEncoding?>(nil)

    /// `-o json`/`-o yaml` (also `--output`, `--output=`, `-ojson`) among `arguments` before `--`, for errors
    /// raised before or while the arguments are parsed.
    static func encoding(in arguments: [String]) -> StructuredEncoding? {
        var found: StructuredEncoding?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { break }
            var value: String?
            if argument == "-o" || argument == "--output" {
                value = index + 1 < arguments.count ? arguments[index + 1] : nil
                index += 1
            } else if argument.hasPrefix("--output=") {
                value = String(argument.dropFirst("--output=".count))
            } else if argument.hasPrefix("-o"), !argument.hasPrefix("--") {
                value = String(argument.dropFirst(2))
            }
            switch value {
            case "json": found = .json
            case "yaml": found = .yaml
            case "table": found = nil
            default: break
            }
            index += 1
        }
        return found
    }

    /// Prints `value` (the API's own objects) as JSON, or as YAML after `-o yaml`.
    static func printJSON(_ value: some Encodable) throws(CLIError) {
        if encoding.withLock({ $0 }) == .yaml {
            do {
                Terminal.print(YAML.document(try StructuredValue(encoding: value)))
            } catch {
                throw CLIError("cannot write YAML: \(error)")
            }
            return
        }
        Terminal.print(try json(value))
    }

    /// `value` as pretty JSON, with C1 controls and line separators escaped too.
    static func json(_ value: some Encodable) throws(CLIError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw CLIError("cannot write JSON: \(error)")
        }
        let text = String(decoding: data, as: UTF8.self)
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Prints an error on stderr as a problem document (RFC 9457) in `encoding`: the one the server answered
    /// with, as it sent it, or, for an error found here, one with the same members (`type`, `title`,
    /// `detail`, `code`; no `status`, as no HTTP answer was involved).
    static func printProblem(code: String, title: String, detail: String, serverDocument: [UInt8]?, as encoding: StructuredEncoding) {
        var value = StructuredValue.object([
            ("code", .string(code)), ("detail", .string(detail)), ("title", .string(title)),
            ("type", .string("urn:keyfleet:problem:" + code)),
        ])
        if let serverDocument, let sent = try? JSONDecoder().decode(StructuredValue.self, from: Data(serverDocument)),
            case .object = sent
        {
            value = sent
        }
        let text = encoding == .yaml ? YAML.document(value) : ((try? json(value)) ?? "{}")
        Terminal.write(Array((text + "\n").utf8), to: 2)
    }

    /// Prints aligned columns, two blanks apart, without trailing blanks; every cell made safe.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows.map { $0.map(Terminal.safe) }
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index > 0 { line += "  " }
                line += cell
                if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            Terminal.print(line)
        }
    }

    /// Prints `name: value` pairs with the values aligned.
    static func printFields(_ fields: [(String, String)]) {
        let width = fields.map { $0.0.count }.max() ?? 0
        for (name, value) in fields {
            var line = name + ":" + String(repeating: " ", count: width - name.count + 1) + Terminal.safe(value)
            while line.hasSuffix(" ") { line.removeLast() }
            Terminal.print(line)
        }
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(.iso8601)
    }

    static func labels(_ labels: Components.Schemas.Labels?) -> String {
        guard let labels, !labels.additionalProperties.isEmpty else { return "-" }
        return labels.additionalProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// A key's owner for people: `user alice`, `project web` (the identifier when the name is not known).
    static func owner(_ owner: Components.Schemas.KeyOwner) -> String {
        "\(owner.kind.rawValue) \(owner.name ?? owner.id)"
    }

    /// The name the API gave beside an identifier, or the identifier when it gave none; `-` for neither.
    static func name(_ name: String?, or id: String?) -> String {
        name ?? id ?? "-"
    }

    /// Key identifiers as their names (from the object's `key_names`), comma-separated; `-` for none.
    static func keys(_ ids: [String], _ names: Components.Schemas.KeyNames?) -> String {
        ids.isEmpty ? "-" : ids.map { names?.additionalProperties[$0] ?? $0 }.joined(separator: ",")
    }
}

/// Parsing of values given on the command line.
enum ClientInput {
    /// `k=v` pairs into labels; nil when none were given.
    static func labels(_ pairs: [String]) throws(CLIError) -> Components.Schemas.Labels? {
        guard !pairs.isEmpty else { return nil }
        var labels: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("label \"\(Terminal.safe(pair))\" is not KEY=VALUE")
            }
            let key = String(pair[..<equals])
            guard labels[key] == nil else { throw CLIError("label \"\(Terminal.safe(key))\" is given twice") }
            labels[key] = String(pair[pair.index(after: equals)...])
        }
        return Components.Schemas.Labels(additionalProperties: labels)
    }

    /// A label filter `k=v` as the listing takes it.
    static func labelFilter(_ pair: String?) throws(CLIError) -> String? {
        guard let pair else { return nil }
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw CLIError("label \"\(Terminal.safe(pair))\" is not KEY=VALUE")
        }
        return pair
    }

    /// A duration such as `30d`, `12h`, `45m`, `90s` or `2w`, in seconds.
    static func duration(_ text: String) -> Int? {
        DurationText.seconds(text)
    }

    /// An RFC 3339 time with whole seconds (`2027-01-01T12:00:00Z`, or with an offset).
    static func rfc3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `--expires`: a duration from now or an RFC 3339 time; whole seconds.
    static func expiry(_ text: String?) throws(CLIError) -> Date? {
        guard let text else { return nil }
        if let seconds = duration(text) {
            return Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down) + Double(seconds))
        }
        if let date = rfc3339(text) { return date }
        throw CLIError("--expires \"\(Terminal.safe(text))\" is neither a duration (30d, 12h, 45m) nor an RFC 3339 time")
    }

    /// `--since`: a duration ago or an RFC 3339 time.
    static func since(_ text: String?) throws(CLIError) -> Date? {
        guard let text else { return nil }
        if let seconds = duration(text) {
            return Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down) - Double(seconds))
        }
        if let date = rfc3339(text) { return date }
        throw CLIError("--since \"\(Terminal.safe(text))\" is neither a duration (30m, 2h, 7d) nor an RFC 3339 time")
    }

    /// Whether `text` could be an identifier of the API.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 64 else { return false }
        func alnum(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        return alnum(first) && text.utf8.allSatisfy { alnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// Reads a passphrase from the first line of a file.
    static func firstLine(of path: String) throws(CLIError) -> String {
        let text = try FileSystem.readText(path, limit: 64 * 1024)
        return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingSuffix("\r")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
