/// An SSH public key (or certificate) as a value: its numbers, its comment, and its canonical wire blob.
///
/// Make one from text with ``init(openSSHLine:)`` and the other format initialisers, or from the SSH
/// wire encoding with ``init(wireBytes:comment:)``. Every initialiser checks the key fully (lengths,
/// ranges, ECDSA points on their curve, certificate signatures), so a value of this type is always a
/// key OpenSSH would accept.
public struct PublicKey: Hashable, Sendable {
    /// The numbers of a plain key.
    public enum Material: Hashable, Sendable {
        /// 32-byte Ed25519 public key.
        case ed25519(publicKey: [UInt8])
        /// Uncompressed SEC1 point (`0x04 || X || Y`) on `curve`.
        case ecdsa(curve: ECDSACurve, point: [UInt8])
        /// Big-endian magnitudes without leading zeros.
        case rsa(exponent: [UInt8], modulus: [UInt8])
        /// Big-endian magnitudes without leading zeros.
        case dsa(p: [UInt8], q: [UInt8], g: [UInt8], y: [UInt8])
        /// A FIDO Ed25519 key and the application (relying party) it was made for.
        case skEd25519(publicKey: [UInt8], application: String)
        /// A FIDO P-256 key and the application (relying party) it was made for.
        case skECDSA(point: [UInt8], application: String)

        /// The key type.
        public var type: KeyType {
            switch self {
            case .ed25519: .ed25519
            case .ecdsa(let curve, _): .ecdsa(curve)
            case .rsa: .rsa
            case .dsa: .dsa
            case .skEd25519: .skEd25519
            case .skECDSA: .skECDSA
            }
        }

        /// The size `ssh-keygen -l` prints: modulus bits for RSA and DSA, curve bits for ECDSA, 256 for Ed25519.
        public var bits: Int {
            switch self {
            case .ed25519, .skEd25519, .skECDSA: 256
            case .ecdsa(let curve, _): curve.bits
            case .rsa(_, let modulus): Self.bitCount(modulus)
            case .dsa(let p, _, _, _): Self.bitCount(p)
            }
        }

        static func bitCount(_ magnitude: [UInt8]) -> Int {
            guard let index = magnitude.firstIndex(where: { $0 != 0 }) else { return 0 }
            let remaining = magnitude.count - index
            return (remaining - 1) * 8 + (8 - magnitude[index].leadingZeroBitCount)
        }
    }

    /// The key's numbers; for a certificate, those of the certified key.
    public let material: Material
    /// The certificate wrapped around ``material``, if this is a certificate.
    public let certificate: Certificate?
    /// The canonical SSH wire encoding of the key (of the whole certificate, for a certificate).
    public let wireBytes: [UInt8]
    /// The comment that followed the key; empty when there was none. Never holds a character
    /// ``CommentPolicy`` forbids: change it with ``withComment(_:)``, which checks.
    public internal(set) var comment: String

    init(material: Material, certificate: Certificate?, wireBytes: [UInt8], comment: String) {
        self.material = material
        self.certificate = certificate
        self.wireBytes = wireBytes
        self.comment = comment
    }

    /// Makes a plain key from its numbers, checking them as a parsed key is checked.
    public init(material: Material, comment: String = "") throws(KeyError) {
        guard CommentPolicy.isAcceptable(comment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        try material.validate()
        self.init(material: material, certificate: nil, wireBytes: material.wireBytes, comment: comment)
    }

    /// The key type (of the certified key, for a certificate).
    public var type: KeyType { material.type }
    /// Whether this is an OpenSSH certificate.
    public var isCertificate: Bool { certificate != nil }
    /// The wire type name: `ssh-ed25519`, or `ssh-ed25519-cert-v01@openssh.com` for a certificate.
    public var typeName: String { isCertificate ? type.certificateName : type.name }
    /// The size `ssh-keygen -l` prints.
    public var bits: Int { material.bits }
    /// The name in parentheses of `ssh-keygen -l`: `ED25519`, or `ED25519-CERT` for a certificate.
    public var displayTypeName: String { isCertificate ? type.shortName + "-CERT" : type.shortName }

    /// The plain key: the same numbers without certificate or comment.
    public var plainKey: PublicKey {
        guard certificate != nil else { return PublicKey(material: material, certificate: nil, wireBytes: wireBytes, comment: "") }
        return PublicKey(material: material, certificate: nil, wireBytes: material.wireBytes, comment: "")
    }

    /// Whether `other` has the same key, ignoring comments.
    public func isSameKey(as other: PublicKey) -> Bool { wireBytes == other.wireBytes }
}

/// A heap box, so that a certificate can hold its signing key without `PublicKey` containing itself.
final class Indirect<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
    static func == (lhs: Indirect, rhs: Indirect) -> Bool { lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
