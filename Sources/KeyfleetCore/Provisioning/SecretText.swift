internal import Crypto

/// The shape of the secrets Keyfleet hands out and takes back (API tokens, host credentials, enrollment
/// tokens): URL-safe characters only, so they pass through headers, JSON, YAML and argument lists unquoted.
/// One definition for the server that makes them, the enrollment that carries them and the agent that uses them.
public enum SecretText {
    /// Whether `byte` is one of `A-Z a-z 0-9 - _ . ~`.
    public static func isURLSafe(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }

    /// Whether `text` has `length` bytes (16 to 512 by default), all URL-safe.
    public static func isWellFormed(_ text: String, length: ClosedRange<Int> = 16...512) -> Bool {
        length.contains(text.utf8.count) && text.utf8.allSatisfy(isURLSafe)
    }
}

/// How an agent pins the registry: `sha256:` and the lower-case hex SHA-256 of a certificate's DER, the
/// same text the server puts in enrollments and `keyfleet host-agent enroll --ca-cert-hash` takes.
public enum CertificatePin {
    /// The pin of a certificate given as DER.
    public static func of(der: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = Array("sha256:".utf8)
        for byte in SHA256.hash(data: der) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether `text` is `sha256:` and 64 lower-case hex digits.
    public static func isWellFormed(_ text: String) -> Bool {
        let hex = text.utf8.dropFirst(7)
        return text.hasPrefix("sha256:") && hex.count == 64 && hex.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
