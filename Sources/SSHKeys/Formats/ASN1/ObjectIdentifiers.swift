import SwiftASN1

/// The object identifiers the PEM, PKCS#8 and SubjectPublicKeyInfo formats use, by where they are defined.
enum KeyOID {
    // MARK: Key algorithms

    /// `rsaEncryption` (RFC 8017 appendix C), parameters NULL.
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 1]
    /// `id-RSASSA-PSS` (RFC 8017): an RSA key restricted to PSS, which SSH cannot use.
    static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 10]
    /// `id-ecPublicKey` (RFC 5480), parameters the curve.
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10_045, 2, 1]
    /// `id-dsa` (RFC 3279), parameters `Dss-Parms`.
    static let dsa: ASN1ObjectIdentifier = [1, 2, 840, 10_040, 4, 1]
    /// `id-Ed25519` (RFC 8410), no parameters.
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    /// `id-X25519`, `id-X448`, `id-Ed448` (RFC 8410): keys SSH has no use for here.
    static let otherEdwards: [ASN1ObjectIdentifier: String] = [
        [1, 3, 101, 110]: "X25519", [1, 3, 101, 111]: "X448", [1, 3, 101, 113]: "Ed448",
    ]

    // MARK: Named curves (RFC 5480)

    static let secp256r1: ASN1ObjectIdentifier = [1, 2, 840, 10_045, 3, 1, 7]
    static let secp384r1: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]
    static let secp521r1: ASN1ObjectIdentifier = [1, 3, 132, 0, 35]

    /// The named curve's OID.
    static func curve(_ curve: ECDSACurve) -> ASN1ObjectIdentifier {
        switch curve {
        case .nistp256: secp256r1
        case .nistp384: secp384r1
        case .nistp521: secp521r1
        }
    }

    /// The curve an OID names, if SSH has it.
    static func curve(named oid: ASN1ObjectIdentifier) throws(KeyError) -> ECDSACurve {
        switch oid {
        case secp256r1: return .nistp256
        case secp384r1: return .nistp384
        case secp521r1: return .nistp521
        default: throw KeyError(.unsupportedKeyType, "elliptic curve \(oid) is not one SSH uses (P-256, P-384, P-521)")
        }
    }

    // MARK: Password-based encryption (RFC 8018)

    /// `id-PBES2`.
    static let pbes2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 13]
    /// `id-PBKDF2`.
    static let pbkdf2: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 5, 12]
    /// `id-scrypt` (RFC 7914).
    static let scrypt: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 11591, 4, 11]
    /// PBES1 (PKCS#5 v1.5) and PKCS#12 password-based encryption schemes, by the names OpenSSL gives them.
    static let pbes1: [ASN1ObjectIdentifier: String] = [
        [1, 2, 840, 113_549, 1, 5, 1]: "pbeWithMD2AndDES-CBC",
        [1, 2, 840, 113_549, 1, 5, 3]: "pbeWithMD5AndDES-CBC",
        [1, 2, 840, 113_549, 1, 5, 4]: "pbeWithMD2AndRC2-CBC",
        [1, 2, 840, 113_549, 1, 5, 6]: "pbeWithMD5AndRC2-CBC",
        [1, 2, 840, 113_549, 1, 5, 10]: "pbeWithSHA1AndDES-CBC",
        [1, 2, 840, 113_549, 1, 5, 11]: "pbeWithSHA1AndRC2-CBC",
        [1, 2, 840, 113_549, 1, 12, 1, 1]: "pbeWithSHA1And128BitRC4",
        [1, 2, 840, 113_549, 1, 12, 1, 2]: "pbeWithSHA1And40BitRC4",
        [1, 2, 840, 113_549, 1, 12, 1, 3]: "pbeWithSHA1And3-KeyTripleDES-CBC",
        [1, 2, 840, 113_549, 1, 12, 1, 4]: "pbeWithSHA1And2-KeyTripleDES-CBC",
        [1, 2, 840, 113_549, 1, 12, 1, 5]: "pbeWithSHA1And128BitRC2-CBC",
        [1, 2, 840, 113_549, 1, 12, 1, 6]: "pbeWithSHA1And40BitRC2-CBC",
    ]
}
