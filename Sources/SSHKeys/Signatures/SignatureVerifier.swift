import Crypto
import CryptoExtras
import SwiftASN1

/// Verifies SSH signature blobs (RFC 4253 section 6.6, RFC 8332, RFC 5656, PROTOCOL.u2f).
enum SignatureVerifier {
    /// Verifies `signature` (an SSH signature blob) over `message` by `key`; returns the algorithm name.
    /// Throws ``KeyError/Code/corrupt`` when the signature does not verify.
    static func verify(signature: ArraySlice<UInt8>, of message: ArraySlice<UInt8>, by key: PublicKey) throws(KeyError) -> String {
        var reader = WireReader(signature, context: "signature")
        let algorithm = try reader.readName("algorithm")
        let valid: Bool
        switch (key.material, algorithm) {
        case (.ed25519(let raw), "ssh-ed25519"):
            let bytes = try reader.readString("ed25519 signature")
            try reader.expectEnd()
            valid = verifyEd25519(raw, signature: bytes, message: message)
        case (.ecdsa(let curve, let point), _) where algorithm == curve.keyTypeName:
            let rs = try readECDSASignature(&reader, curve: curve)
            try reader.expectEnd()
            valid = verifyECDSA(point: point, curve: curve, rs: rs, digestOf: message)
        case (.rsa(let e, let n), "ssh-rsa"), (.rsa(let e, let n), "rsa-sha2-256"), (.rsa(let e, let n), "rsa-sha2-512"):
            let bytes = try reader.readString("rsa signature")
            try reader.expectEnd()
            valid = verifyRSA(exponent: e, modulus: n, algorithm: algorithm, signature: bytes, message: message)
        case (.skEd25519(let raw, let application), "sk-ssh-ed25519@openssh.com"):
            let bytes = try reader.readString("ed25519 signature")
            let signed = try skSignedData(&reader, application: application, message: message)
            valid = verifyEd25519(raw, signature: bytes, message: signed[...])
        case (.skECDSA(let point, let application), "sk-ecdsa-sha2-nistp256@openssh.com"):
            let rs = try readECDSASignature(&reader, curve: .nistp256)
            let signed = try skSignedData(&reader, application: application, message: message)
            valid = verifyECDSA(point: point, curve: .nistp256, rs: rs, digestOf: signed[...])
        case (.dsa, "ssh-dss"):
            throw KeyError.unsupportedOperation("DSA signatures are not verified; DSA is obsolete")
        default:
            throw KeyError.invalidFormat(
                "signature algorithm \"\(KeyError.printable(algorithm))\" does not fit a \(key.type.name) key")
        }
        guard valid else { throw KeyError.corrupt("the signature does not verify") }
        return algorithm
    }

    private static func verifyEd25519(_ raw: [UInt8], signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// Reads `string(mpint r, mpint s)` and returns r || s, each padded to the curve's coordinate length.
    private static func readECDSASignature(_ reader: inout WireReader, curve: ECDSACurve) throws(KeyError) -> [UInt8] {
        var inner = WireReader(try reader.readString("ecdsa signature"), context: "ecdsa signature")
        let r = try inner.readPositiveMPInt("r", maxBits: curve.bits)
        let s = try inner.readPositiveMPInt("s", maxBits: curve.bits)
        try inner.expectEnd()
        let width = curve.coordinateLength
        return [UInt8](repeating: 0, count: width - r.count) + r + [UInt8](repeating: 0, count: width - s.count) + s
    }

    private static func verifyECDSA(point: [UInt8], curve: ECDSACurve, rs: [UInt8], digestOf message: ArraySlice<UInt8>) -> Bool {
        switch curve {
        case .nistp256:
            guard let key = try? P256.Signing.PublicKey(x963Representation: point),
                let signature = try? P256.Signing.ECDSASignature(rawRepresentation: rs)
            else { return false }
            return key.isValidSignature(signature, for: SHA256.hash(data: message))
        case .nistp384:
            guard let key = try? P384.Signing.PublicKey(x963Representation: point),
                let signature = try? P384.Signing.ECDSASignature(rawRepresentation: rs)
            else { return false }
            return key.isValidSignature(signature, for: SHA384.hash(data: message))
        case .nistp521:
            guard let key = try? P521.Signing.PublicKey(x963Representation: point),
                let signature = try? P521.Signing.ECDSASignature(rawRepresentation: rs)
            else { return false }
            return key.isValidSignature(signature, for: SHA512.hash(data: message))
        }
    }

    private static func verifyRSA(
        exponent: [UInt8], modulus: [UInt8], algorithm: String, signature: ArraySlice<UInt8>, message: ArraySlice<UInt8>
    ) -> Bool {
        guard let der = try? RSANumbers.pkcs1PublicKeyDER(modulus: modulus, exponent: exponent),
            let key = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: der)
        else { return false }
        // An RSA signature is exactly as long as the modulus; OpenSSH accepts shorter ones left-padded.
        let width = (PublicKey.Material.bitCount(modulus) + 7) / 8
        guard signature.count <= width else { return false }
        let padded = _RSA.Signing.RSASignature(rawRepresentation: [UInt8](repeating: 0, count: width - signature.count) + signature)
        switch algorithm {
        case "rsa-sha2-256": return key.isValidSignature(padded, for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5)
        case "rsa-sha2-512": return key.isValidSignature(padded, for: SHA512.hash(data: message), padding: .insecurePKCS1v1_5)
        default: return key.isValidSignature(padded, for: Insecure.SHA1.hash(data: message), padding: .insecurePKCS1v1_5)
        }
    }

    /// PROTOCOL.u2f: the security key signs SHA256(application) || flags || counter || SHA256(message).
    private static func skSignedData(_ reader: inout WireReader, application: String, message: ArraySlice<UInt8>) throws(KeyError) -> [UInt8] {
        let flags = try reader.readByte("flags")
        let counter = try reader.readUInt32("counter")
        try reader.expectEnd()
        var data = Array(SHA256.hash(data: Array(application.utf8)))
        data.append(flags)
        var writer = WireWriter()
        writer.writeUInt32(counter)
        data += writer.bytes
        data += SHA256.hash(data: message)
        return data
    }
}

/// DER encodings of RSA numbers shared by signature verification and the PEM formats.
enum RSANumbers {
    /// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    static func pkcs1PublicKeyDER(modulus: [UInt8], exponent: [UInt8]) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(ArraySlice(modulus))
            try coder.serialize(ArraySlice(exponent))
        }
        return serializer.serializedBytes
    }
}
