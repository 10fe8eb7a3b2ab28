internal import Crypto
internal import Foundation

/// Secrets the server hands out once: API tokens, host credentials and enrollment tokens.
///
/// Each is 256 random bits in base64url after a short prefix that says what it is (`kft_` API token,
/// `kfh_` host credential, `kfe_` enrollment token,
/// `kfs_` portal session, `kff_` form token), so a leaked one is recognisable in a scan. The
/// server keeps only the SHA-256 of the whole text, and compares hashes, never texts.
public enum Secrets {
    /// What a secret is for.
    public enum Kind: String, Sendable {
        case apiToken = "kft_"
        case hostCredential = "kfh_"
        case enrollmentToken = "kfe_"
        case portalSession = "kfs_"
        /// A form's cross-site request forgery token (never stored hashed: it is compared, not looked up).
        case formToken = "kff_"
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
