import SwiftASN1

extension PrivateKey.RSANumbers {
    /// PKCS#1 `RSAPrivateKey` DER (RFC 8017 appendix A.1.2), computing the CRT exponents it needs.
    func pkcs1DER() throws -> [UInt8] {
        let dp = Magnitude.remainder(d, dividedBy: Magnitude.decremented(p))
        let dq = Magnitude.remainder(d, dividedBy: Magnitude.decremented(q))
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(0)
            for value in [n, e, d, p, q, dp, dq, iqmp] {
                try coder.serialize(ArraySlice(value.isEmpty ? [0] : value))
            }
        }
        return serializer.serializedBytes
    }

    /// Reads PKCS#1 `RSAPrivateKey` DER (two-prime keys only, as OpenSSH).
    init(pkcs1DER der: some Collection<UInt8>) throws(KeyError) {
        do {
            let root = try DER.parse(Array(der))
            let values: [ArraySlice<UInt8>] = try DER.sequence(root, identifier: .sequence) { nodes in
                let version = try Int(derEncoded: &nodes)
                guard version == 0 else { throw ASN1Error.invalidASN1Object(reason: "multi-prime RSA key") }
                var fields: [ArraySlice<UInt8>] = []
                for _ in 0..<8 { fields.append(try ArraySlice<UInt8>(derEncoded: &nodes)) }
                return fields
            }
            func trim(_ slice: ArraySlice<UInt8>) -> [UInt8] { Array(slice.drop { $0 == 0 }) }
            self.init(n: trim(values[0]), e: trim(values[1]), d: trim(values[2]), iqmp: trim(values[7]), p: trim(values[3]), q: trim(values[4]))
        } catch {
            throw KeyError.invalidFormat("the RSA private key is not valid PKCS#1 DER")
        }
    }
}

/// The few operations on unsigned big-endian magnitudes that key formats need (no general bignum).
enum Magnitude {
    /// `value - 1` (value > 0).
    static func decremented(_ value: [UInt8]) -> [UInt8] {
        var result = value
        var index = result.count - 1
        while index >= 0 {
            if result[index] > 0 {
                result[index] -= 1
                break
            }
            result[index] = 0xFF
            index -= 1
        }
        return Array(result.drop { $0 == 0 })
    }

    /// `value mod modulus` by binary long division; constant in the bit length of `value`.
    static func remainder(_ value: [UInt8], dividedBy modulus: [UInt8]) -> [UInt8] {
        let m = limbs(modulus)
        guard !m.allSatisfy({ $0 == 0 }) else { return [] }
        var r = [UInt32](repeating: 0, count: m.count + 1)
        let mExtended = m + [0]
        for byte in value {
            for bit in stride(from: 7, through: 0, by: -1) {
                // r = r * 2 + bit
                var carry = UInt32((byte >> UInt8(bit)) & 1)
                for index in 0..<r.count {
                    let next = r[index] >> 31
                    r[index] = r[index] << 1 | carry
                    carry = next
                }
                if compare(r, mExtended) >= 0 { subtract(&r, mExtended) }
            }
        }
        return bytes(r)
    }

    /// Little-endian 32-bit limbs.
    private static func limbs(_ magnitude: [UInt8]) -> [UInt32] {
        var result = [UInt32](repeating: 0, count: (magnitude.count + 3) / 4)
        for (offset, byte) in magnitude.reversed().enumerated() {
            result[offset / 4] |= UInt32(byte) << UInt32(8 * (offset % 4))
        }
        return result
    }

    private static func bytes(_ limbs: [UInt32]) -> [UInt8] {
        var result: [UInt8] = []
        for limb in limbs.reversed() {
            result += [
                UInt8(truncatingIfNeeded: limb >> 24), UInt8(truncatingIfNeeded: limb >> 16),
                UInt8(truncatingIfNeeded: limb >> 8), UInt8(truncatingIfNeeded: limb),
            ]
        }
        return Array(result.drop { $0 == 0 })
    }

    private static func compare(_ a: [UInt32], _ b: [UInt32]) -> Int {
        for index in stride(from: a.count - 1, through: 0, by: -1) where a[index] != b[index] {
            return a[index] < b[index] ? -1 : 1
        }
        return 0
    }

    private static func subtract(_ a: inout [UInt32], _ b: [UInt32]) {
        var borrow: UInt64 = 0
        for index in 0..<a.count {
            let difference = UInt64(a[index]) &- UInt64(b[index]) &- borrow
            a[index] = UInt32(truncatingIfNeeded: difference)
            borrow = (difference >> 63) & 1
        }
    }
}
