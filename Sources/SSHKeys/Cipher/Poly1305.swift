/// The Poly1305 one-time authenticator (RFC 8439 section 2.5), which swift-crypto does not expose on its own.
///
/// The arithmetic modulo 2^130 - 5 runs on five 26-bit limbs held in `UInt64`s, so no product or sum can
/// overflow (every operation is also written wrapping, so none can trap), and it does not branch or index
/// memory on secret values. The final reduction chooses between `h` and `h - p` with a mask.
enum Poly1305 {
    /// Bytes of one-time key: `r` (clamped) then `s`.
    static let keyLength = 32
    /// Bytes of tag.
    static let tagLength = 16

    /// The 16-byte tag of `message` under the one-time `key`.
    ///
    /// - Throws: ``KeyError/Code/invalidParameter`` when `key` is not 32 bytes.
    static func authenticate(_ message: [UInt8], key: [UInt8]) throws(KeyError) -> [UInt8] {
        guard key.count == keyLength else {
            throw KeyError.invalidParameter("a Poly1305 key is 32 bytes, not \(key.count)")
        }
        let mask26: UInt64 = 0x3ff_ffff

        // r, clamped as RFC 8439 section 2.5.1 says, split into 26-bit limbs.
        var r: [UInt64] = [
            littleEndian32(key, 0) & 0x3ff_ffff,
            (littleEndian32(key, 3) >> 2) & 0x3ff_ff03,
            (littleEndian32(key, 6) >> 4) & 0x3ff_c0ff,
            (littleEndian32(key, 9) >> 6) & 0x3f0_3fff,
            (littleEndian32(key, 12) >> 8) & 0x00f_ffff,
        ]
        defer { SecretBytes.wipe(&r) }
        var block = [UInt8](repeating: 0, count: 17)
        let (r0, r1, r2, r3, r4) = (r[0], r[1], r[2], r[3], r[4])
        let (s1, s2, s3, s4) = (r1 &* 5, r2 &* 5, r3 &* 5, r4 &* 5)
        var (h0, h1, h2, h3, h4): (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)

        var offset = 0
        while offset < message.count {
            // The block with a 1 byte after it (RFC 8439: "add one bit beyond the number of octets").
            let count = min(16, message.count - offset)
            for index in 0..<17 { block[index] = 0 }
            for index in 0..<count { block[index] = message[offset + index] }
            block[count] = 1
            offset += count

            h0 = h0 &+ (littleEndian32(block, 0) & mask26)
            h1 = h1 &+ ((littleEndian32(block, 3) >> 2) & mask26)
            h2 = h2 &+ ((littleEndian32(block, 6) >> 4) & mask26)
            h3 = h3 &+ ((littleEndian32(block, 9) >> 6) & mask26)
            h4 = h4 &+ ((littleEndian32(block, 12) >> 8) | (UInt64(block[16]) << 24))

            // h *= r (mod 2^130 - 5): limbs above 2^130 fold back multiplied by 5.
            let d0 = h0 &* r0 &+ h1 &* s4 &+ h2 &* s3 &+ h3 &* s2 &+ h4 &* s1
            var d1 = h0 &* r1 &+ h1 &* r0 &+ h2 &* s4 &+ h3 &* s3 &+ h4 &* s2
            var d2 = h0 &* r2 &+ h1 &* r1 &+ h2 &* r0 &+ h3 &* s4 &+ h4 &* s3
            var d3 = h0 &* r3 &+ h1 &* r2 &+ h2 &* r1 &+ h3 &* r0 &+ h4 &* s4
            var d4 = h0 &* r4 &+ h1 &* r3 &+ h2 &* r2 &+ h3 &* r1 &+ h4 &* r0

            var carry = d0 >> 26
            h0 = d0 & mask26
            d1 = d1 &+ carry
            carry = d1 >> 26
            h1 = d1 & mask26
            d2 = d2 &+ carry
            carry = d2 >> 26
            h2 = d2 & mask26
            d3 = d3 &+ carry
            carry = d3 >> 26
            h3 = d3 & mask26
            d4 = d4 &+ carry
            carry = d4 >> 26
            h4 = d4 & mask26
            h0 = h0 &+ carry &* 5
            carry = h0 >> 26
            h0 = h0 & mask26
            h1 = h1 &+ carry
        }

        // Carry fully.
        var carry = h1 >> 26
        h1 &= mask26
        h2 = h2 &+ carry
        carry = h2 >> 26
        h2 &= mask26
        h3 = h3 &+ carry
        carry = h3 >> 26
        h3 &= mask26
        h4 = h4 &+ carry
        carry = h4 >> 26
        h4 &= mask26
        h0 = h0 &+ carry &* 5
        carry = h0 >> 26
        h0 &= mask26
        h1 = h1 &+ carry

        // g = h + 5 - 2^130; if g is not negative, h >= p and the result is g.
        var g0 = h0 &+ 5
        carry = g0 >> 26
        g0 &= mask26
        var g1 = h1 &+ carry
        carry = g1 >> 26
        g1 &= mask26
        var g2 = h2 &+ carry
        carry = g2 >> 26
        g2 &= mask26
        var g3 = h3 &+ carry
        carry = g3 >> 26
        g3 &= mask26
        let g4 = h4 &+ carry &- (UInt64(1) << 26)

        // All ones when g4 did not go negative (keep g), zero otherwise (keep h).
        let keepG = (g4 >> 63) &- 1
        let keepH = ~keepG
        h0 = (h0 & keepH) | (g0 & keepG)
        h1 = (h1 & keepH) | (g1 & keepG)
        h2 = (h2 & keepH) | (g2 & keepG)
        h3 = (h3 & keepH) | (g3 & keepG)
        h4 = (h4 & keepH) | (g4 & keepG)

        // h mod 2^128 as four 32-bit words, plus s.
        let word32: UInt64 = 0xffff_ffff
        let w0 = (h0 | (h1 << 26)) & word32
        let w1 = ((h1 >> 6) | (h2 << 20)) & word32
        let w2 = ((h2 >> 12) | (h3 << 14)) & word32
        let w3 = ((h3 >> 18) | (h4 << 8)) & word32

        var sum = w0 &+ littleEndian32(key, 16)
        var tag = [UInt8](repeating: 0, count: tagLength)
        store(sum, into: &tag, at: 0)
        sum = w1 &+ littleEndian32(key, 20) &+ (sum >> 32)
        store(sum, into: &tag, at: 4)
        sum = w2 &+ littleEndian32(key, 24) &+ (sum >> 32)
        store(sum, into: &tag, at: 8)
        sum = w3 &+ littleEndian32(key, 28) &+ (sum >> 32)
        store(sum, into: &tag, at: 12)
        return tag
    }

    /// Whether `lhs` and `rhs` hold the same bytes, taking the same time whatever the bytes are
    /// (only the lengths, which are public, can end it early).
    static func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }

    /// Four little-endian bytes of `bytes` from `offset` (which the callers keep in range).
    private static func littleEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        UInt64(bytes[offset]) | UInt64(bytes[offset + 1]) << 8 | UInt64(bytes[offset + 2]) << 16
            | UInt64(bytes[offset + 3]) << 24
    }

    /// The low 32 bits of `value`, little-endian, at `offset`.
    private static func store(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value >> 24)
    }
}
