import Crypto
import CryptoExtras

extension PrivateKey {
    /// The RSA sizes `generate` accepts: from 2048 bits (smaller keys are refused everywhere in Keyfleet)
    /// to 16384, in multiples of 8.
    public static let rsaBitRange = 2048...16384

    /// Makes a new key with the system's secure random source (through swift-crypto).
    ///
    /// - Parameters:
    ///   - type: `.ed25519` (the default choice), `.ecdsa(curve)` or `.rsa`. DSA and FIDO keys are not generated.
    ///   - bits: RSA modulus size (default 3072); ignored for other types.
    public static func generate(_ type: KeyType, bits: Int? = nil, comment: String = "") throws(KeyError) -> PrivateKey {
        guard CommentPolicy.isAcceptable(comment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        let material: Material
        switch type {
        case .ed25519:
            let key = Curve25519.Signing.PrivateKey()
            material = .ed25519(seed: Array(key.rawRepresentation), publicKey: Array(key.publicKey.rawRepresentation))
        case .ecdsa(.nistp256):
            let key = P256.Signing.PrivateKey()
            material = .ecdsa(curve: .nistp256, scalar: Array(key.rawRepresentation), point: Array(key.publicKey.x963Representation))
        case .ecdsa(.nistp384):
            let key = P384.Signing.PrivateKey()
            material = .ecdsa(curve: .nistp384, scalar: Array(key.rawRepresentation), point: Array(key.publicKey.x963Representation))
        case .ecdsa(.nistp521):
            let key = P521.Signing.PrivateKey()
            material = .ecdsa(curve: .nistp521, scalar: Array(key.rawRepresentation), point: Array(key.publicKey.x963Representation))
        case .rsa:
            let size = bits ?? 3072
            guard rsaBitRange.contains(size), size % 8 == 0 else {
                throw KeyError.invalidParameter(
                    "RSA key size \(size) is not a multiple of 8 from \(rsaBitRange.lowerBound) to \(rsaBitRange.upperBound) bits")
            }
            do {
                let key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: size))
                material = .rsa(try RSANumbers(pkcs1DER: Array(key.derRepresentation)))
            } catch {
                throw KeyError.invalidParameter("RSA key generation of \(size) bits failed")
            }
        case .dsa, .skEd25519, .skECDSA:
            throw KeyError.unsupportedOperation("\(type.name) keys are not generated (DSA is obsolete; FIDO keys are made on the security key)")
        }
        return PrivateKey(checkedMaterial: material, comment: comment)
    }

    /// A key whose numbers came from swift-crypto itself and need no further checks.
    init(checkedMaterial: Material, comment: String) {
        self.material = checkedMaterial
        self.comment = comment
        self.commentBytes = Array(comment.utf8)
    }
}
