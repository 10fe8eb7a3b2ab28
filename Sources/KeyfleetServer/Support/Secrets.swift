internal import Crypto
internal import Foundation

/// Secrets the server hands out once: API tokens, host credentials and enrollment tokens.
///
/// Each is 256 random bits in base64url after a short prefix that says what it is (`kft_` API token,
/// `kfh_` host credential, `kfe_` enrollment token), so a leaked one is recognisable in a scan. The
/// server keeps only the SHA-256 of the whole text, and compares hashes, never texts.
public enum Secrets {
    /// What a secret is for.
    public enum Kind: String, Sendable {
        case apiToken = "kft_"
        case hostCredential = "kfh_"
        case enrollmentToken = "kfe_"
    }

    /// A new secret of `kind`.
    public static func make(_ kind: Kind) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return kind.rawValue + base64URL(bytes)
    }

    /// The SHA-256 of a secret's text, as stored.
    public static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// Whether a text could be a secret the server made or accepts (printable, URL-safe, 32 to 512 bytes).
    public static func isWellFormed(_ text: String) -> Bool {
        (32...512).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
            }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        String(
            Data(bytes).base64EncodedString().compactMap { character -> Character? in
                switch character {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: character
                }
            })
    }
}
