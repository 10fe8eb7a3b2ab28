import Crypto

extension PublicKey {
    /// The largest public key blob we read: a 16384-bit RSA certificate signed by another is about 4.2 KiB.
    static let maximumWireLength = 64 * 1024

    /// Parses the SSH wire encoding of a public key or certificate (RFC 4253 section 6.6, PROTOCOL.certkeys),
    /// checking every field as OpenSSH does, and certificate signatures too.
    public init(wireBytes: some Collection<UInt8>, comment: String = "") throws(KeyError) {
        guard CommentPolicy.isAcceptable(comment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        guard wireBytes.count <= Self.maximumWireLength else {
            throw KeyError.tooLarge("public key blob", limit: Self.maximumWireLength)
        }
        var reader = WireReader(Array(wireBytes), context: "public key")
        let name = try reader.readName("key type")
        guard let (type, isCertificate) = KeyType.named(name) else { throw KeyError.unsupportedKeyType(name) }
        if isCertificate {
            let certificate = try Certificate.parse(type: type, reader: &reader)
            try reader.expectEnd("certificate")
            self.init(material: certificate.material, certificate: certificate.value, wireBytes: reader.bytes, comment: comment)
        } else {
            let material = try Material.read(type: type, from: &reader)
            try reader.expectEnd("public key")
            try material.validate()
            self.init(material: material, certificate: nil, wireBytes: material.wireBytes, comment: comment)
        }
    }
}

extension PublicKey.Material {
    /// Reads the type-specific fields that follow the type name (for plain keys and certificates alike).
    static func read(type: KeyType, from reader: inout WireReader) throws(KeyError) -> Self {
        switch type {
        case .ed25519:
            return .ed25519(publicKey: Array(try reader.readString("ed25519 public key")))
        case .ecdsa(let curve):
            let curveName = try reader.readName("curve name")
            guard curveName == curve.rawValue else {
                throw KeyError.typeMismatch(outer: curve.keyTypeName, inner: "ecdsa-sha2-\(curveName)")
            }
            return .ecdsa(curve: curve, point: Array(try reader.readString("ecdsa point")))
        case .rsa:
            let exponent = try reader.readPositiveMPInt("rsa e")
            let modulus = try reader.readPositiveMPInt("rsa n")
            return .rsa(exponent: exponent, modulus: modulus)
        case .dsa:
            let p = try reader.readPositiveMPInt("dsa p")
            let q = try reader.readPositiveMPInt("dsa q")
            let g = try reader.readPositiveMPInt("dsa g")
            let y = try reader.readPositiveMPInt("dsa y")
            return .dsa(p: p, q: q, g: g, y: y)
        case .skEd25519:
            let key = Array(try reader.readString("ed25519 public key"))
            return .skEd25519(publicKey: key, application: try reader.readText("application"))
        case .skECDSA:
            let curveName = try reader.readName("curve name")
            guard curveName == ECDSACurve.nistp256.rawValue else {
                throw KeyError.typeMismatch(outer: KeyType.skECDSA.name, inner: "ecdsa-sha2-\(curveName)")
            }
            let point = Array(try reader.readString("ecdsa point"))
            return .skECDSA(point: point, application: try reader.readText("application"))
        }
    }

    /// Writes the type-specific fields (everything after the type name).
    func writeFields(to writer: inout WireWriter) {
        switch self {
        case .ed25519(let key):
            writer.writeString(key)
        case .ecdsa(let curve, let point):
            writer.writeString(curve.rawValue)
            writer.writeString(point)
        case .rsa(let exponent, let modulus):
            writer.writePositiveMPInt(exponent)
            writer.writePositiveMPInt(modulus)
        case .dsa(let p, let q, let g, let y):
            writer.writePositiveMPInt(p)
            writer.writePositiveMPInt(q)
            writer.writePositiveMPInt(g)
            writer.writePositiveMPInt(y)
        case .skEd25519(let key, let application):
            writer.writeString(key)
            writer.writeString(application)
        case .skECDSA(let point, let application):
            writer.writeString(ECDSACurve.nistp256.rawValue)
            writer.writeString(point)
            writer.writeString(application)
        }
    }

    /// The canonical wire encoding of the plain key.
    public var wireBytes: [UInt8] {
        var writer = WireWriter(capacity: 64)
        writer.writeString(type.name)
        writeFields(to: &writer)
        return writer.bytes
    }

    /// Checks the numbers as OpenSSH does, and a little more: lengths, RSA sizes, points on their curve.
    func validate() throws(KeyError) {
        switch self {
        case .ed25519(let key), .skEd25519(let key, _):
            guard key.count == 32 else {
                throw KeyError.invalidKey("ed25519 public key is \(key.count) bytes instead of 32")
            }
        case .ecdsa(let curve, let point):
            try Self.validatePoint(point, on: curve)
        case .skECDSA(let point, _):
            try Self.validatePoint(point, on: .nistp256)
        case .rsa(let exponent, let modulus):
            let bits = Self.bitCount(modulus)
            guard bits >= 1024 else { throw KeyError.invalidKey("RSA modulus of \(bits) bits is smaller than 1024 bits") }
            guard bits <= 16384 else { throw KeyError.invalidKey("RSA modulus of \(bits) bits is larger than 16384 bits") }
            guard let lastModulusByte = modulus.last, lastModulusByte & 1 == 1 else {
                throw KeyError.invalidKey("RSA modulus is even")
            }
            guard let lastExponentByte = exponent.last, lastExponentByte & 1 == 1,
                Self.bitCount(exponent) >= 2, exponent.count <= modulus.count
            else {
                throw KeyError.invalidKey("RSA public exponent is not an odd number from 3 to the modulus")
            }
        case .dsa(let p, let q, let g, let y):
            let bits = Self.bitCount(p)
            guard (512...10000).contains(bits), (160...256).contains(Self.bitCount(q)), !g.isEmpty, !y.isEmpty else {
                throw KeyError.invalidKey("DSA parameters out of range (p of \(bits) bits)")
            }
        }
    }

    static func validatePoint(_ point: [UInt8], on curve: ECDSACurve) throws(KeyError) {
        guard point.count == curve.pointLength, point.first == 0x04 else {
            throw KeyError.invalidKey("ecdsa point is not an uncompressed point of \(curve.rawValue)")
        }
        do {
            switch curve {
            case .nistp256: _ = try P256.Signing.PublicKey(x963Representation: point)
            case .nistp384: _ = try P384.Signing.PublicKey(x963Representation: point)
            case .nistp521: _ = try P521.Signing.PublicKey(x963Representation: point)
            }
        } catch {
            throw KeyError.invalidKey("ecdsa point is not on curve \(curve.rawValue)")
        }
    }
}
