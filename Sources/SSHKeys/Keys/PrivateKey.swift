import Crypto
import CryptoExtras

/// An SSH private key: its secret numbers, its public key and its comment.
///
/// Read one with ``PrivateKeyDocument`` (every file format, encrypted or not), make one with
/// ``generate(_:)``, write one with ``PrivateKey/serialized(as:)`` or the per-format methods.
/// Secret numbers are kept in byte arrays; they are never logged or shown by `description`.
public struct PrivateKey: Sendable, CustomStringConvertible {
    /// The secret numbers (and the public ones OpenSSH stores beside them).
    public enum Material: Sendable, Hashable {
        /// The 32-byte seed and the 32-byte public key (OpenSSH stores seed || public as a 64-byte secret).
        case ed25519(seed: [UInt8], publicKey: [UInt8])
        /// The private scalar (big-endian, `coordinateLength` bytes) and the uncompressed public point.
        case ecdsa(curve: ECDSACurve, scalar: [UInt8], point: [UInt8])
        /// The RSA private numbers; see ``RSANumbers``.
        case rsa(RSANumbers)
        /// DSA keys are read (and flagged weak), never generated.
        case dsa(p: [UInt8], q: [UInt8], g: [UInt8], y: [UInt8], x: [UInt8])
        /// A FIDO key: the secret lives in the authenticator; the file holds a key handle.
        case skEd25519(publicKey: [UInt8], application: String, flags: UInt8, keyHandle: [UInt8], reserved: [UInt8])
        /// A FIDO ECDSA P-256 key: the secret lives in the authenticator; the file holds a key handle.
        case skECDSA(point: [UInt8], application: String, flags: UInt8, keyHandle: [UInt8], reserved: [UInt8])

        /// The public half.
        public var publicMaterial: PublicKey.Material {
            switch self {
            case .ed25519(_, let publicKey): .ed25519(publicKey: publicKey)
            case .ecdsa(let curve, _, let point): .ecdsa(curve: curve, point: point)
            case .rsa(let numbers): .rsa(exponent: numbers.e, modulus: numbers.n)
            case .dsa(let p, let q, let g, let y, _): .dsa(p: p, q: q, g: g, y: y)
            case .skEd25519(let publicKey, let application, _, _, _): .skEd25519(publicKey: publicKey, application: application)
            case .skECDSA(let point, let application, _, _, _): .skECDSA(point: point, application: application)
            }
        }
    }

    /// RSA private numbers, big-endian magnitudes without leading zeros.
    public struct RSANumbers: Sendable, Hashable {
        /// The modulus.
        public var n: [UInt8]
        /// The public exponent (usually 65537).
        public var e: [UInt8]
        /// The private exponent.
        public var d: [UInt8]
        /// q⁻¹ mod p.
        public var iqmp: [UInt8]
        /// The first prime factor.
        public var p: [UInt8]
        /// The second prime factor.
        public var q: [UInt8]

        /// Takes the numbers, dropping leading zero bytes; it does not check that they form a key
        /// (``PrivateKey/init(material:comment:)`` does).
        public init(n: [UInt8], e: [UInt8], d: [UInt8], iqmp: [UInt8], p: [UInt8], q: [UInt8]) {
            func trim(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }
            self.n = trim(n)
            self.e = trim(e)
            self.d = trim(d)
            self.iqmp = trim(iqmp)
            self.p = trim(p)
            self.q = trim(q)
        }
    }

    /// The key's secret and public numbers.
    public let material: Material
    /// The comment (empty when the format has none, as PEM and PKCS#8). Never holds a character
    /// ``CommentPolicy`` forbids: change it with ``withComment(_:)``, which checks. A comment read from a file
    /// that is not such text is shown here escaped (see ``commentBytes``).
    public internal(set) var comment: String
    /// The comment byte for byte as the file stored it. OpenSSH and PuTTY keep any bytes there, not only UTF-8
    /// text; ``comment`` is these bytes when ``CommentPolicy`` accepts them and otherwise
    /// ``CommentPolicy/displayText(_:)`` of them. openssh-key-v1 files are written with these bytes, so such a
    /// comment survives a change of passphrase as it does with `ssh-keygen -p`.
    public internal(set) var commentBytes: [UInt8]

    /// Makes a key from its numbers after checking that the secret and public halves belong together.
    public init(material: Material, comment: String = "") throws(KeyError) {
        guard CommentPolicy.isAcceptable(comment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        try material.publicMaterial.validate()
        try material.checkConsistency()
        self.material = material
        self.comment = comment
        self.commentBytes = Array(comment.utf8)
    }

    /// Makes a key read from a file whose comment may be any bytes.
    init(material: Material, commentBytes: [UInt8]) throws(KeyError) {
        try self.init(material: material)
        self.comment = CommentPolicy.displayText(commentBytes)
        self.commentBytes = commentBytes
    }

    /// The public key, carrying this key's comment.
    public var publicKey: PublicKey {
        let publicMaterial = material.publicMaterial
        return PublicKey(material: publicMaterial, certificate: nil, wireBytes: publicMaterial.wireBytes, comment: comment)
    }

    /// The key type.
    public var type: KeyType { material.publicMaterial.type }
    /// The size `ssh-keygen -l` prints: modulus bits for RSA and DSA, curve bits for ECDSA, 256 for Ed25519.
    public var bits: Int { material.publicMaterial.bits }

    /// Never shows secret numbers.
    public var description: String { "PrivateKey(\(type.name), \(bits) bits, \(publicKey.fingerprint()))" }

    /// The same key with another comment; throws when the comment has a forbidden character.
    public func withComment(_ newComment: String) throws(KeyError) -> PrivateKey {
        guard CommentPolicy.isAcceptable(newComment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        var copy = self
        copy.comment = newComment
        copy.commentBytes = Array(newComment.utf8)
        return copy
    }
}

extension PrivateKey.Material {
    /// Checks that the secret numbers produce the public ones, so a file whose halves were altered apart
    /// is refused instead of used.
    func checkConsistency() throws(KeyError) {
        switch self {
        case .ed25519(let seed, let publicKey):
            guard seed.count == 32,
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed),
                Array(key.publicKey.rawRepresentation) == publicKey
            else { throw KeyError.corrupt("the ed25519 secret key does not match its public key") }
        case .ecdsa(let curve, let scalar, let point):
            let derived: [UInt8]?
            // A scalar longer than the curve's coordinates is passed on whole, so swift-crypto refuses it, not cut.
            let padded = scalar.count > curve.coordinateLength ? scalar : Self.paddedScalar(scalar, curve: curve)
            switch curve {
            case .nistp256: derived = (try? P256.Signing.PrivateKey(rawRepresentation: padded)).map { Array($0.publicKey.x963Representation) }
            case .nistp384: derived = (try? P384.Signing.PrivateKey(rawRepresentation: padded)).map { Array($0.publicKey.x963Representation) }
            case .nistp521: derived = (try? P521.Signing.PrivateKey(rawRepresentation: padded)).map { Array($0.publicKey.x963Representation) }
            }
            guard derived == point else { throw KeyError.corrupt("the ecdsa private scalar does not match its public point") }
        case .rsa(let numbers):
            // BoringSSL checks p·q = n and d against e; it recomputes the CRT values, so compare iqmp too:
            // a file whose iqmp was altered (an unencrypted .ppk has no secret MAC key) is refused.
            guard let key = try? numbers.boringSSLKey(),
                let derived = try? PrivateKey.RSANumbers(pkcs1DER: Array(key.derRepresentation)),
                derived.n == numbers.n, derived.e == numbers.e, derived.iqmp == numbers.iqmp
            else { throw KeyError.corrupt("the RSA private numbers are inconsistent") }
        case .dsa(_, _, _, _, let x):
            guard !x.isEmpty else { throw KeyError.corrupt("the DSA private key is empty") }
        case .skEd25519, .skECDSA:
            break
        }
    }

    /// The ECDSA scalar left-padded to the curve's coordinate length.
    static func paddedScalar(_ scalar: [UInt8], curve: ECDSACurve) -> [UInt8] {
        scalar.count >= curve.coordinateLength
            ? Array(scalar.suffix(curve.coordinateLength))
            : [UInt8](repeating: 0, count: curve.coordinateLength - scalar.count) + scalar
    }
}

extension PrivateKey.RSANumbers {
    /// The key as swift-crypto holds it (which checks p·q = n and the other relations).
    func boringSSLKey() throws -> _RSA.Signing.PrivateKey {
        // Bound every number by the modulus before any arithmetic, so a hostile file cannot make the CRT
        // computation below (or BoringSSL's) run for minutes on a huge d or p.
        guard d.count <= n.count, e.count <= n.count, iqmp.count <= n.count, p.count + q.count <= n.count + 2 else {
            throw KeyError.corrupt("RSA private numbers larger than the modulus")
        }
        let bits = PublicKey.Material.bitCount(n)
        if bits >= 2048 {
            return try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q)
        }
        return try _RSA.Signing.PrivateKey(unsafeDERRepresentation: pkcs1DER())
    }
}
