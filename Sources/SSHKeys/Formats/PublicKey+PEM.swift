import Crypto
import SwiftASN1

extension PublicKey {
    /// The longest PEM public key text we read (a 16384-bit RSA key is under 3 KiB).
    static let maximumPEMLength = 64 * 1024

    /// Reads a public key in PEM: `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, RFC 5280, holding RSA, EC P-256,
    /// P-384 or P-521, Ed25519 (RFC 8410) or DSA) or `RSA PUBLIC KEY` (PKCS#1 `RSAPublicKey`), as
    /// `ssh-keygen -e -m PKCS8` and `ssh-keygen -e -m PEM` print them and `openssl pkey -pubout` writes them.
    ///
    /// The comment is empty: these formats have none. The key is checked as every ``PublicKey`` is.
    ///
    /// - Throws: ``KeyError/Code/invalidFormat`` for another label, headers or malformed DER;
    ///   ``KeyError/Code/unsupportedKeyType`` for algorithms or curves SSH does not use;
    ///   ``KeyError/Code/invalidKey`` for numbers that are not a valid key.
    public init(pem text: String) throws(KeyError) {
        guard text.utf8.count <= Self.maximumPEMLength else {
            throw KeyError.tooLarge("PEM public key", limit: Self.maximumPEMLength)
        }
        let block = try PEMArmor.parse(text)
        if let first = block.headers.first {
            throw KeyError.invalidFormat("unexpected header \"\(KeyError.printable(first.name))\" in a \(block.label) block")
        }
        let material: Material
        switch block.label {
        case Self.spkiLabel:
            material = try Self.readSubjectPublicKeyInfo(block.body)
        case Self.pkcs1Label:
            material = try Self.readPKCS1(block.body)
        case "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY":
            throw KeyError.invalidFormat("this is a private key (\"\(block.label)\"), not a public key")
        default:
            throw KeyError.invalidFormat("expected a \"PUBLIC KEY\" or \"RSA PUBLIC KEY\" block, found \"\(KeyError.printable(block.label))\"")
        }
        try self.init(material: material)
    }

    /// The key as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), byte for byte what `ssh-keygen -e -m PKCS8`
    /// prints for RSA and ECDSA keys (and what `openssl pkey -pubout` writes for Ed25519 keys). A
    /// certificate gives its certified key.
    ///
    /// - Throws: ``KeyError/Code/unsupportedOperation`` for DSA keys (obsolete; not written) and FIDO keys
    ///   (which have no such form).
    public func pkcs8PEM() throws(KeyError) -> String {
        PEMArmor.encode(try subjectPublicKeyInfoDER(), label: Self.spkiLabel)
    }

    /// The RSA key as PEM `RSA PUBLIC KEY` (PKCS#1 `RSAPublicKey`), byte for byte what
    /// `ssh-keygen -e -m PEM` prints for an RSA key.
    ///
    /// - Throws: ``KeyError/Code/unsupportedOperation`` for keys other than RSA (PKCS#1 holds only RSA;
    ///   use ``pkcs8PEM()``).
    public func pkcs1PEM() throws(KeyError) -> String {
        guard case .rsa(let exponent, let modulus) = material else {
            throw KeyError.unsupportedOperation("PKCS#1 (\"RSA PUBLIC KEY\") holds only RSA keys; use the PKCS#8 form for a \(type.name) key")
        }
        return PEMArmor.encode(try Self.pkcs1DER(modulus: modulus, exponent: exponent), label: Self.pkcs1Label)
    }

    // MARK: DER

    static let spkiLabel = "PUBLIC KEY"
    static let pkcs1Label = "RSA PUBLIC KEY"

    /// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
    func subjectPublicKeyInfoDER() throws(KeyError) -> [UInt8] {
        let keyBits: [UInt8]
        let algorithm: (inout DER.Serializer) throws -> Void
        switch material {
        case .rsa(let exponent, let modulus):
            keyBits = try Self.pkcs1DER(modulus: modulus, exponent: exponent)
            algorithm = { try $0.serializeAlgorithm(KeyOID.rsaEncryption) { try $0.serialize(ASN1Null()) } }
        case .ecdsa(let curve, let point):
            keyBits = point
            algorithm = { try $0.serializeAlgorithm(KeyOID.ecPublicKey) { try $0.serialize(KeyOID.curve(curve)) } }
        case .ed25519(let key):
            keyBits = key
            algorithm = { try $0.serializeAlgorithm(KeyOID.ed25519) { _ in } }
        case .dsa:
            throw KeyError.unsupportedOperation("DSA keys are not written in PKCS#8 form (DSA is obsolete)")
        case .skEd25519, .skECDSA:
            throw KeyError.unsupportedOperation("FIDO security-key keys have no PKCS#8 or PEM form")
        }
        return try DERWriter.build("SubjectPublicKeyInfo") { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try algorithm(&coder)
                try coder.serializeBitString(keyBits)
            }
        }
    }

    static func pkcs1DER(modulus: [UInt8], exponent: [UInt8]) throws(KeyError) -> [UInt8] {
        do {
            return try RSANumbers.pkcs1PublicKeyDER(modulus: modulus, exponent: exponent)
        } catch {
            throw KeyError.invalidParameter("the RSA public key could not be encoded as DER")
        }
    }

    /// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    static func readPKCS1(_ der: [UInt8]) throws(KeyError) -> Material {
        var reader = try DERReader(parsing: der, "PKCS#1 RSA public key")
        let modulus = try reader.unsignedInteger("modulus")
        let exponent = try reader.unsignedInteger("public exponent")
        try reader.expectEnd()
        return .rsa(exponent: exponent, modulus: modulus)
    }

    static func readSubjectPublicKeyInfo(_ der: [UInt8]) throws(KeyError) -> Material {
        let context = "SubjectPublicKeyInfo"
        var reader = try DERReader(parsing: der, context)
        var algorithm = try reader.sequence("algorithm")
        let oid = try algorithm.objectIdentifier("algorithm")
        let keyBits = try reader.bitString("subject public key")
        try reader.expectEnd()
        switch oid {
        case KeyOID.rsaEncryption:
            _ = try algorithm.optionalNull("parameters")
            try algorithm.expectEnd()
            return try readPKCS1(keyBits)
        case KeyOID.ecPublicKey:
            let curve = try PrivateKeyDER.namedCurve(try algorithm.next("curve"), "EC algorithm parameters")
            try algorithm.expectEnd()
            return .ecdsa(curve: curve, point: try uncompressedPoint(keyBits, curve: curve))
        case KeyOID.ed25519:
            try algorithm.expectEnd()
            return .ed25519(publicKey: keyBits)
        case KeyOID.dsa:
            var parameters = try algorithm.sequence("DSA parameters")
            try algorithm.expectEnd()
            let p = try parameters.unsignedInteger("p")
            let q = try parameters.unsignedInteger("q")
            let g = try parameters.unsignedInteger("g")
            try parameters.expectEnd()
            let y = try DERReader.unsignedInteger(try DERReader.parse(keyBits, "DSA public key"), "y", "DSA public key")
            return .dsa(p: p, q: q, g: g, y: y)
        case KeyOID.rsaPSS:
            throw KeyError(.unsupportedKeyType, "RSASSA-PSS keys cannot be used with SSH")
        default:
            if let name = KeyOID.otherEdwards[oid] {
                throw KeyError(.unsupportedKeyType, "\(name) keys cannot be used with SSH")
            }
            throw KeyError(.unsupportedKeyType, "public key algorithm \(oid) is not supported")
        }
    }

    /// The SEC1 point in uncompressed form; compressed points are expanded (OpenSSL can write them).
    static func uncompressedPoint(_ point: [UInt8], curve: ECDSACurve) throws(KeyError) -> [UInt8] {
        guard point.first == 0x02 || point.first == 0x03 else { return point }
        do {
            switch curve {
            case .nistp256: return Array(try P256.Signing.PublicKey(compressedRepresentation: point).x963Representation)
            case .nistp384: return Array(try P384.Signing.PublicKey(compressedRepresentation: point).x963Representation)
            case .nistp521: return Array(try P521.Signing.PublicKey(compressedRepresentation: point).x963Representation)
            }
        } catch {
            throw KeyError.invalidKey("ecdsa point is not on curve \(curve.rawValue)")
        }
    }
}
