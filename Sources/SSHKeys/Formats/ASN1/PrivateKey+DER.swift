import Crypto
import SwiftASN1

/// The DER structures private keys are stored in, without armour or encryption:
///
/// - PKCS#1 `RSAPrivateKey` (RFC 8017 appendix A.1.2), label `RSA PRIVATE KEY`;
/// - SEC1 `ECPrivateKey` (RFC 5915), label `EC PRIVATE KEY`;
/// - OpenSSL's `DSAPrivateKey` (`SEQUENCE { 0, p, q, g, y, x }`), label `DSA PRIVATE KEY` (written only for
///   keys read from a file: DSA keys are not generated);
/// - PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5208, RFC 5958) holding any of RSA, EC or
///   Ed25519 (RFC 8410), label `PRIVATE KEY`.
///
/// Everything is written exactly as OpenSSL 3 writes it, so that a key read from an OpenSSL or ssh-keygen
/// file and written again gives the same bytes.
enum PrivateKeyDER {
    /// The traditional (pre-PKCS#8) structures, by PEM label.
    enum Traditional: String, Hashable, Sendable, CaseIterable {
        case rsa = "RSA PRIVATE KEY"
        case ec = "EC PRIVATE KEY"
        case dsa = "DSA PRIVATE KEY"

        var label: String { rawValue }
    }

    /// The PEM label of PKCS#8 `PrivateKeyInfo`.
    static let pkcs8Label = "PRIVATE KEY"
    /// The PEM label of PKCS#8 `EncryptedPrivateKeyInfo`.
    static let encryptedPKCS8Label = "ENCRYPTED PRIVATE KEY"

    // MARK: Reading

    /// Reads a traditional structure. The key is fully checked (see ``PrivateKey/init(material:comment:)``).
    static func readTraditional(_ kind: Traditional, _ der: [UInt8]) throws(KeyError) -> PrivateKey {
        switch kind {
        case .rsa:
            return try PrivateKey(material: .rsa(try readPKCS1(der)))
        case .ec:
            return try readSEC1(der, outerCurve: nil)
        case .dsa:
            var reader = try DERReader(parsing: der, "DSA private key")
            let version = try reader.smallInteger("version")
            guard version == 0 else {
                throw KeyError.invalidFormat("the DSA private key has version \(version) (0 expected)")
            }
            let p = try reader.unsignedInteger("p")
            let q = try reader.unsignedInteger("q")
            let g = try reader.unsignedInteger("g")
            let y = try reader.unsignedInteger("y")
            let x = try reader.unsignedInteger("x")
            try reader.expectEnd()
            return try PrivateKey(material: .dsa(p: p, q: q, g: g, y: y, x: x))
        }
    }

    /// Reads a traditional block's body as OpenSSL 3 does: the traditional structure, or a PKCS#8
    /// `PrivateKeyInfo` of the label's key type (which OpenSSL, so ssh-keygen, also takes under that label).
    static func readTraditionalOrPKCS8(_ kind: Traditional, _ der: [UInt8]) throws(KeyError) -> PrivateKey {
        guard isPKCS8(der) else { return try readTraditional(kind, der) }
        let key = try readPKCS8(der)
        let matches: Bool
        switch (kind, key.material) {
        case (.rsa, .rsa), (.ec, .ecdsa), (.dsa, .dsa): matches = true
        default: matches = false
        }
        guard matches else {
            throw KeyError(.typeMismatch, "the \(kind.label) block holds a PKCS#8 \(key.type.name) key")
        }
        return key
    }

    /// Whether `der` is shaped as PKCS#8 `PrivateKeyInfo`: a SEQUENCE whose second element is the algorithm's
    /// SEQUENCE (the traditional structures have an INTEGER there).
    static func isPKCS8(_ der: [UInt8]) -> Bool {
        guard var reader = try? DERReader(parsing: der, "private key"), (try? reader.smallInteger("version")) != nil else {
            return false
        }
        return reader.next(ifIdentifier: .sequence) != nil
    }

    /// Reads PKCS#1 `RSAPrivateKey` (two primes, version 0), refusing moduli over 16384 bits before any
    /// arithmetic is done on them.
    static func readPKCS1(_ der: [UInt8]) throws(KeyError) -> PrivateKey.RSANumbers {
        var reader = try DERReader(parsing: der, "PKCS#1 RSA private key")
        let version = try reader.smallInteger("version")
        switch version {
        case 0: break
        case 1: throw KeyError(.unsupportedKeyType, "multi-prime RSA keys (PKCS#1 version 1) are not supported")
        default: throw KeyError.invalidFormat("the PKCS#1 RSA private key has version \(version); only 0 (two primes) and 1 (multi-prime) exist")
        }
        let n = try reader.unsignedInteger("modulus")
        let bits = PublicKey.Material.bitCount(n)
        guard bits <= 16384 else { throw KeyError.invalidKey("RSA modulus of \(bits) bits is larger than 16384 bits") }
        let e = try reader.unsignedInteger("public exponent")
        let d = try reader.unsignedInteger("private exponent")
        let p = try reader.unsignedInteger("prime1")
        let q = try reader.unsignedInteger("prime2")
        _ = try reader.unsignedInteger("exponent1")
        _ = try reader.unsignedInteger("exponent2")
        let iqmp = try reader.unsignedInteger("coefficient")
        try reader.expectEnd()
        return PrivateKey.RSANumbers(n: n, e: e, d: d, iqmp: iqmp, p: p, q: q)
    }

    /// Reads SEC1 `ECPrivateKey`; `outerCurve` is the curve named by a PKCS#8 wrapper, which the inner
    /// `[0]` parameters, when present, must agree with. The public point is computed from the scalar and,
    /// when the file stores one, compared with it.
    static func readSEC1(_ der: [UInt8], outerCurve: ECDSACurve?) throws(KeyError) -> PrivateKey {
        var reader = try DERReader(parsing: der, "SEC1 EC private key")
        let version = try reader.smallInteger("version")
        guard version == 1 else {
            throw KeyError.invalidFormat("the SEC1 EC private key has version \(version) (1 expected)")
        }
        let scalar = try reader.octetString("private key")
        var curve = outerCurve
        if let parameters = try reader.optionalExplicit(tag: 0, "[0] parameters") {
            let inner = try namedCurve(parameters, "SEC1 EC private key")
            if let outer = outerCurve, outer != inner {
                throw KeyError(.typeMismatch, "the PKCS#8 algorithm names curve \(outer.rawValue) but the EC key inside names \(inner.rawValue)")
            }
            curve = inner
        }
        var storedPoint: [UInt8]?
        if let node = try reader.optionalExplicit(tag: 1, "[1] public key") {
            storedPoint = try DERReader.bitString(node, "public key", "SEC1 EC private key")
        }
        try reader.expectEnd()
        guard let curve else { throw KeyError.invalidFormat("the SEC1 EC private key names no curve") }
        return try ecdsaKey(curve: curve, scalar: scalar, storedPoint: storedPoint)
    }

    /// The curve of `ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... }`; only named curves.
    static func namedCurve(_ node: ASN1Node, _ context: String) throws(KeyError) -> ECDSACurve {
        guard node.identifier == .objectIdentifier else {
            throw KeyError(.unsupportedKeyType, "EC keys with explicit curve parameters are not supported; only named curves are")
        }
        return try KeyOID.curve(named: try DERReader.objectIdentifier(node, "curve", context))
    }

    /// An ECDSA key from its scalar, checking a stored public point (uncompressed or compressed) against it.
    static func ecdsaKey(curve: ECDSACurve, scalar: [UInt8], storedPoint: [UInt8]?) throws(KeyError) -> PrivateKey {
        let significant = Array(scalar.drop { $0 == 0 })
        guard significant.count <= curve.coordinateLength else {
            throw KeyError.invalidKey("the \(curve.rawValue) private key is \(scalar.count) bytes, longer than the curve's \(curve.coordinateLength)")
        }
        let padded = PrivateKey.Material.paddedScalar(significant, curve: curve)
        let point: [UInt8]
        do {
            switch curve {
            case .nistp256: point = Array(try P256.Signing.PrivateKey(rawRepresentation: padded).publicKey.x963Representation)
            case .nistp384: point = Array(try P384.Signing.PrivateKey(rawRepresentation: padded).publicKey.x963Representation)
            case .nistp521: point = Array(try P521.Signing.PrivateKey(rawRepresentation: padded).publicKey.x963Representation)
            }
        } catch {
            throw KeyError.invalidKey("the \(curve.rawValue) private key is not a scalar between 1 and the curve order")
        }
        if let storedPoint {
            let matches: Bool
            switch storedPoint.first {
            case 0x04:
                matches = storedPoint == point
            case 0x02, 0x03:
                // Compressed: X must match, and the prefix must give Y's parity.
                let x = point[1...curve.coordinateLength]
                let yIsOdd = (point.last ?? 0) & 1 == 1
                matches =
                    storedPoint.count == 1 + curve.coordinateLength && Array(storedPoint.dropFirst()) == Array(x)
                    && (storedPoint[0] == 0x03) == yIsOdd
            default:
                matches = false
            }
            guard matches else { throw KeyError.corrupt("the EC public key stored with the private key does not match it") }
        }
        return try PrivateKey(material: .ecdsa(curve: curve, scalar: padded, point: point))
    }

    /// Reads PKCS#8 `PrivateKeyInfo` (version 0) or `OneAsymmetricKey` (version 1, with an optional public key).
    static func readPKCS8(_ der: [UInt8]) throws(KeyError) -> PrivateKey {
        let context = "PKCS#8 private key"
        var reader = try DERReader(parsing: der, context)
        let version = try reader.smallInteger("version")
        guard version == 0 || version == 1 else {
            throw KeyError.invalidFormat("the PKCS#8 private key has version \(version) (0 or 1 expected)")
        }
        var algorithm = try reader.sequence("private key algorithm")
        let oid = try algorithm.objectIdentifier("algorithm")
        let privateKey = try reader.octetString("private key")
        // attributes [0] IMPLICIT SET OF Attribute OPTIONAL: nothing SSH uses; skipped.
        _ = reader.next(ifIdentifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
        let publicKeyNode = reader.next(ifIdentifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific))
        try reader.expectEnd()
        if publicKeyNode != nil && version == 0 {
            throw KeyError.invalidFormat("the PKCS#8 private key has a public key but version 0")
        }
        switch oid {
        case KeyOID.rsaEncryption:
            _ = try algorithm.optionalNull("parameters")
            try algorithm.expectEnd()
            guard publicKeyNode == nil else { throw KeyError.invalidFormat("an RSA PKCS#8 key may not carry a separate public key") }
            return try PrivateKey(material: .rsa(try readPKCS1(privateKey)))
        case KeyOID.ecPublicKey:
            let curve = try namedCurve(try algorithm.next("curve"), "PKCS#8 EC algorithm parameters")
            try algorithm.expectEnd()
            guard publicKeyNode == nil else { throw KeyError.invalidFormat("an EC PKCS#8 key keeps its public key inside the SEC1 structure") }
            return try readSEC1(privateKey, outerCurve: curve)
        case KeyOID.ed25519:
            try algorithm.expectEnd()
            let seedNode = try DERReader.parse(privateKey, "Ed25519 private key")
            let seed = try DERReader.octetString(seedNode, "seed", "Ed25519 private key")
            guard seed.count == 32 else {
                throw KeyError.invalidKey("the Ed25519 private key is \(seed.count) bytes instead of 32")
            }
            let signingKey: Curve25519.Signing.PrivateKey
            do {
                signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            } catch {
                throw KeyError.invalidKey("the Ed25519 private key is not usable")
            }
            let publicKey = Array(signingKey.publicKey.rawRepresentation)
            if let publicKeyNode {
                // [1] IMPLICIT BIT STRING: the first content byte counts unused bits.
                guard case .primitive(let content) = publicKeyNode.content, content.first == 0,
                    Array(content.dropFirst()) == publicKey
                else { throw KeyError.corrupt("the Ed25519 public key stored with the private key does not match it") }
            }
            return try PrivateKey(material: .ed25519(seed: seed, publicKey: publicKey))
        case KeyOID.dsa:
            throw KeyError(.unsupportedKeyType, "DSA keys in PKCS#8 are not supported (DSA is obsolete); convert with openssl pkey -traditional")
        case KeyOID.rsaPSS:
            throw KeyError(.unsupportedKeyType, "RSASSA-PSS keys cannot be used with SSH")
        default:
            if let name = KeyOID.otherEdwards[oid] {
                throw KeyError(.unsupportedKeyType, "\(name) keys cannot be used with SSH")
            }
            throw KeyError(.unsupportedKeyType, "PKCS#8 key algorithm \(oid) is not supported")
        }
    }

    // MARK: Writing

    /// The traditional structure of `key`: PKCS#1 for RSA, SEC1 with `[0]` curve and `[1]` public key
    /// for ECDSA (as `PEM_write_bio_ECPrivateKey` writes it).
    static func traditional(_ key: PrivateKey) throws(KeyError) -> (kind: Traditional, der: [UInt8]) {
        switch key.material {
        case .rsa(let numbers):
            return (.rsa, try pkcs1(numbers))
        case .ecdsa(let curve, let scalar, let point):
            return (.ec, try sec1(curve: curve, scalar: scalar, point: point, includeCurve: true))
        case .ed25519:
            throw KeyError.unsupportedOperation("PEM has no form for Ed25519 keys; write them as PKCS#8 or OpenSSH")
        case .dsa(let p, let q, let g, let y, let x):
            // So that a DSA key read from a PEM file can be written back (a new passphrase), as OpenSSL writes it.
            let der = try DERWriter.build("DSA private key") { coder in
                try coder.appendConstructedNode(identifier: .sequence) { coder in
                    try coder.serialize(0)
                    for value in [p, q, g, y, x] { try coder.serialize(ArraySlice(value.isEmpty ? [0] : value)) }
                }
            }
            return (.dsa, der)
        case .skEd25519, .skECDSA:
            throw KeyError.unsupportedOperation("FIDO security-key keys exist only in the OpenSSH format")
        }
    }

    /// PKCS#8 `PrivateKeyInfo` (version 0) of `key`, as OpenSSL 3 writes it.
    static func pkcs8(_ key: PrivateKey) throws(KeyError) -> [UInt8] {
        let inner: [UInt8]
        let algorithm: (inout DER.Serializer) throws -> Void
        switch key.material {
        case .rsa(let numbers):
            inner = try pkcs1(numbers)
            algorithm = { try $0.serializeAlgorithm(KeyOID.rsaEncryption) { try $0.serialize(ASN1Null()) } }
        case .ecdsa(let curve, let scalar, let point):
            inner = try sec1(curve: curve, scalar: scalar, point: point, includeCurve: false)
            algorithm = { try $0.serializeAlgorithm(KeyOID.ecPublicKey) { try $0.serialize(KeyOID.curve(curve)) } }
        case .ed25519(let seed, _):
            inner = try DERWriter.build("Ed25519 private key") { try $0.serializeOctetString(seed) }
            algorithm = { try $0.serializeAlgorithm(KeyOID.ed25519) { _ in } }
        case .dsa:
            throw KeyError.unsupportedOperation("DSA keys are not written as PKCS#8 (DSA is obsolete; OpenSSH, PEM and PuTTY files take them)")
        case .skEd25519, .skECDSA:
            throw KeyError.unsupportedOperation("FIDO security-key keys exist only in the OpenSSH format")
        }
        return try DERWriter.build("PKCS#8 private key") { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(0)
                try algorithm(&coder)
                try coder.serializeOctetString(inner)
            }
        }
    }

    /// PKCS#1 `RSAPrivateKey`, with the CRT exponents computed from d.
    static func pkcs1(_ numbers: PrivateKey.RSANumbers) throws(KeyError) -> [UInt8] {
        do {
            return try numbers.pkcs1DER()
        } catch {
            throw KeyError.invalidParameter("the RSA private key could not be encoded as DER")
        }
    }

    /// SEC1 `ECPrivateKey`: version 1, the scalar padded to the curve's length, `[0]` the named curve
    /// (only outside PKCS#8, where the algorithm identifier names it), `[1]` the uncompressed point.
    static func sec1(curve: ECDSACurve, scalar: [UInt8], point: [UInt8], includeCurve: Bool) throws(KeyError) -> [UInt8] {
        try DERWriter.build("SEC1 EC private key") { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)
                try coder.serializeOctetString(PrivateKey.Material.paddedScalar(scalar, curve: curve))
                if includeCurve {
                    try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                        try coder.serialize(KeyOID.curve(curve))
                    }
                }
                try coder.serialize(explicitlyTaggedWithTagNumber: 1, tagClass: .contextSpecific) { coder in
                    try coder.serializeBitString(point)
                }
            }
        }
    }
}
