/// Strict, fast base64 (RFC 4648 section 4) as OpenSSH's `b64_pton` accepts it for keys: padding required,
/// no characters after the padding, and no stray bits in the last character.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0...63 for alphabet bytes, 0xFF otherwise.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodeToBytes(bytes), as: UTF8.self)
    }

    static func encodeToBytes(_ input: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(input)
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(value >> 18 & 63)])
            out.append(alphabet[Int(value >> 12 & 63)])
            out.append(alphabet[Int(value >> 6 & 63)])
            out.append(alphabet[Int(value & 63)])
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let value = UInt32(bytes[index]) << 16
            out += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        case 2:
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(value >> 18 & 63)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], UInt8(ascii: "=")]
        default:
            break
        }
        return out
    }

    /// Base64 of `bytes` cut into lines of `width` characters (the last may be shorter), without line breaks;
    /// no lines for no bytes.
    static func lines(_ bytes: some Collection<UInt8>, width: Int) -> [String] {
        let encoded = encodeToBytes(bytes)
        var lines: [String] = []
        lines.reserveCapacity((encoded.count + width - 1) / width)
        var start = 0
        while start < encoded.count {
            let end = min(start + width, encoded.count)
            lines.append(String(decoding: encoded[start..<end], as: UTF8.self))
            start = end
        }
        return lines
    }

    /// Base64 without padding, as OpenSSH prints SHA256 fingerprints.
    static func encodeUnpadded(_ bytes: some Collection<UInt8>) -> String {
        var encoded = encodeToBytes(bytes)
        while encoded.last == UInt8(ascii: "=") { encoded.removeLast() }
        return String(decoding: encoded, as: UTF8.self)
    }

    /// Decodes strictly; nil on any fault.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 == 0 else { return nil }
        if let result = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return result }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(buffer: $0) }
    }

    private static func decode(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard buffer.count % 4 == 0 else { return nil }
        if buffer.isEmpty { return [] }
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var padding = 0
            if buffer[buffer.count - 1] == UInt8(ascii: "=") { padding += 1 }
            if buffer[buffer.count - 2] == UInt8(ascii: "=") { padding += 1 }
            let outputCount = buffer.count / 4 * 3 - padding
            var failed = false
            let result = [UInt8](unsafeUninitializedCapacity: outputCount) { out, initialized in
                var o = 0
                var i = 0
                let fullQuads = buffer.count / 4 - (padding > 0 ? 1 : 0)
                for _ in 0..<fullQuads {
                    let a = table[Int(buffer[i])], b = table[Int(buffer[i + 1])]
                    let c = table[Int(buffer[i + 2])], d = table[Int(buffer[i + 3])]
                    if (a | b | c | d) & 0xC0 != 0 { failed = true; break }
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: value >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: value)
                    o += 3
                    i += 4
                }
                if !failed && padding > 0 {
                    let a = table[Int(buffer[i])], b = table[Int(buffer[i + 1])]
                    if padding == 2 {
                        // "xx==": 12 bits, of which the low 4 must be zero.
                        if (a | b) & 0xC0 != 0 || b & 0x0F != 0 {
                            failed = true
                        } else {
                            out[o] = a << 2 | b >> 4
                            o += 1
                        }
                    } else {
                        // "xxx=": 18 bits, of which the low 2 must be zero.
                        let c = table[Int(buffer[i + 2])]
                        if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 {
                            failed = true
                        } else {
                            out[o] = a << 2 | b >> 4
                            out[o + 1] = (b & 0x0F) << 4 | c >> 2
                            o += 2
                        }
                    }
                }
                initialized = failed ? 0 : o
            }
            return failed ? nil : result
        }
    }
}
