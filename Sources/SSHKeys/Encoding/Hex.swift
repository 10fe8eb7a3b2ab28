/// Hexadecimal: upper case as PEM's DEK-Info writes IVs, lower case as PuTTY writes salts and MACs and as
/// `ssh-keygen` writes MD5 fingerprints.
enum Hex {
    private static let upperDigits = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits = Array("0123456789abcdef".utf8)

    /// Upper-case hex, as OpenSSL writes IVs.
    static func encodeUpper(_ bytes: some Collection<UInt8>) -> String {
        encode(bytes, digits: upperDigits, separator: nil)
    }

    /// Lower-case hex, as PuTTY writes salts and MACs; with `separator` between bytes (`:` for an MD5
    /// fingerprint).
    static func encodeLower(_ bytes: some Collection<UInt8>, separator: UInt8? = nil) -> String {
        encode(bytes, digits: lowerDigits, separator: separator)
    }

    private static func encode(_ bytes: some Collection<UInt8>, digits: [UInt8], separator: UInt8?) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * (separator == nil ? 2 : 3))
        for (index, byte) in bytes.enumerated() {
            if index > 0, let separator { out.append(separator) }
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex of either case; nil for an odd length or any other character.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
