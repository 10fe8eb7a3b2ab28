/// The `-----BEGIN LABEL-----` armour shared by PEM (RFC 7468), legacy encrypted PEM (RFC 1421 headers)
/// and OpenSSH's private key files.
enum PEMArmor {
    /// One armoured block: its label, its RFC 1421 headers in order, and its decoded body.
    struct Block {
        var label: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Parses the first armoured block in `text`. Accepts CRLF, blank lines around, and any body line
    /// length; refuses a missing or mismatched footer, bad base64 and text after the footer other than
    /// white space.
    static func parse(_ text: String) throws(KeyError) -> Block {
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { $0.trimmingBlanks(leading: false, trailingCR: true) }
        guard let beginIndex = lines.firstIndex(where: { !$0.isEmpty }) else { throw KeyError.invalidFormat("the file is empty") }
        let begin = lines[beginIndex].trimmingBlanks(trailing: false)
        guard begin.hasPrefix("-----BEGIN "), begin.hasSuffix("-----"), begin.count > 16 else {
            throw KeyError.invalidFormat("the first line is not a \"-----BEGIN ...-----\" line").at("line \(beginIndex + 1)")
        }
        let label = String(begin.dropFirst(11).dropLast(5))
        let footer = "-----END \(label)-----"
        var headers: [(name: String, value: String)] = []
        var base64: [UInt8] = []
        var index = beginIndex + 1
        var inHeaders = true
        var sawFooter = false
        while index < lines.count {
            let line = lines[index]
            defer { index += 1 }
            if line == footer {
                sawFooter = true
                break
            }
            if line.hasPrefix("-----") {
                throw KeyError.invalidFormat("expected \"\(footer)\"").at("line \(index + 1)")
            }
            if inHeaders, let colon = line.firstIndex(of: ":") {
                let name = String(line[..<colon])
                let value = String(line[line.index(after: colon)...].trimmingBlanks(trailing: false))
                headers.append((name, value))
                continue
            }
            if line.isEmpty {
                // The blank line that ends RFC 1421 headers.
                inHeaders = false
                continue
            }
            inHeaders = false
            base64 += line.utf8.filter { $0 != 0x20 && $0 != 0x09 }
        }
        guard sawFooter else { throw KeyError.truncated("the \(label) block (no \"\(footer)\" line)") }
        for rest in lines[index...] where !rest.isEmpty {
            throw KeyError.trailingData(after: "\"\(footer)\" line (\(KeyError.printable(rest.prefix(20))))")
        }
        guard let body = Base64.decode(base64) else { throw KeyError.invalidBase64("the \(label) body") }
        return Block(label: label, headers: headers, body: body)
    }

    /// The decoded body of a block that must carry `label` and no headers.
    static func decode(_ text: String, label: String) throws(KeyError) -> [UInt8] {
        let block = try parse(text)
        guard block.label == label else {
            throw KeyError.invalidFormat("expected a \"\(label)\" block, found \"\(KeyError.printable(block.label))\"")
        }
        guard block.headers.isEmpty else {
            throw KeyError.invalidFormat("unexpected header \"\(KeyError.printable(block.headers[0].name))\" in the \(label) block")
        }
        return block.body
    }

    /// Armours `body`, wrapping base64 at `lineLength` columns, with a final line break.
    static func encode(_ body: [UInt8], label: String, headers: [(name: String, value: String)] = [], lineLength: Int = 64) -> String {
        var out = "-----BEGIN \(label)-----\n"
        for (name, value) in headers { out += "\(name): \(value)\n" }
        if !headers.isEmpty { out += "\n" }
        for line in Base64.lines(body, width: lineLength) { out += line + "\n" }
        out += "-----END \(label)-----\n"
        return out
    }
}
