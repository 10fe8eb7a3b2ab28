/// Three-key triple DES (DES-EDE3, NIST SP 800-67) in CBC mode, without padding.
///
/// swift-crypto has no DES, and old key files still use it: OpenSSH's `3des-cbc`, legacy PEM's
/// `DES-EDE3-CBC` and PKCS#8's `des-ede3-cbc`. Encryption is `E(K3, D(K2, E(K1, block)))`. Parity bits of
/// the key are ignored, as OpenSSL ignores them. Callers add and remove padding (see ``BlockPadding``).
///
/// The S-boxes are table lookups indexed by secret bits, as in OpenSSL; that is acceptable for reading and
/// writing local key files but this is not a cipher for new protocols.
enum TripleDES {
    /// Bytes of key: K1, K2, K3.
    static let keyLength = 24
    /// Bytes of block, and of IV.
    static let blockSize = 8

    /// Encrypts `data`, a whole number of 8-byte blocks, with a 24-byte key and an 8-byte IV.
    ///
    /// - Throws: ``KeyError/Code/invalidFormat`` when `data` is not a whole number of blocks;
    ///   ``KeyError/Code/invalidParameter`` when the key or IV has the wrong length.
    static func cbcEncrypt(_ data: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        var schedules = try Schedules(data: data, key: key, iv: iv)
        defer { schedules.wipe() }
        var output = [UInt8](repeating: 0, count: data.count)
        var chain = DES.loadBlock(iv, at: 0)
        var offset = 0
        while offset < data.count {
            var block = DES.loadBlock(data, at: offset) ^ chain
            block = DES.crypt(block, schedules.first, decrypt: false)
            block = DES.crypt(block, schedules.second, decrypt: true)
            block = DES.crypt(block, schedules.third, decrypt: false)
            DES.storeBlock(block, into: &output, at: offset)
            chain = block
            offset += blockSize
        }
        return output
    }

    /// Decrypts `data`, a whole number of 8-byte blocks, with a 24-byte key and an 8-byte IV.
    ///
    /// - Throws: ``KeyError/Code/invalidFormat`` when `data` is not a whole number of blocks;
    ///   ``KeyError/Code/invalidParameter`` when the key or IV has the wrong length.
    static func cbcDecrypt(_ data: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        var schedules = try Schedules(data: data, key: key, iv: iv)
        defer { schedules.wipe() }
        var output = [UInt8](repeating: 0, count: data.count)
        var chain = DES.loadBlock(iv, at: 0)
        var offset = 0
        while offset < data.count {
            let cipherBlock = DES.loadBlock(data, at: offset)
            var block = DES.crypt(cipherBlock, schedules.third, decrypt: true)
            block = DES.crypt(block, schedules.second, decrypt: false)
            block = DES.crypt(block, schedules.first, decrypt: true)
            DES.storeBlock(block ^ chain, into: &output, at: offset)
            chain = cipherBlock
            offset += blockSize
        }
        return output
    }

    /// The three key schedules, made after the lengths are checked.
    private struct Schedules {
        var first: [UInt64]
        var second: [UInt64]
        var third: [UInt64]

        init(data: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) {
            guard key.count == TripleDES.keyLength else {
                throw KeyError.invalidParameter("triple DES needs a 24-byte key, not \(key.count) bytes")
            }
            guard iv.count == TripleDES.blockSize else {
                throw KeyError.invalidParameter("triple DES needs an 8-byte IV, not \(iv.count) bytes")
            }
            guard data.count % TripleDES.blockSize == 0 else {
                throw KeyError.invalidFormat(
                    "triple DES data is \(data.count) bytes, not a multiple of its 8-byte block size")
            }
            first = DES.keySchedule(DES.loadBlock(key, at: 0))
            second = DES.keySchedule(DES.loadBlock(key, at: 8))
            third = DES.keySchedule(DES.loadBlock(key, at: 16))
        }

        mutating func wipe() {
            SecretBytes.wipe(&first)
            SecretBytes.wipe(&second)
            SecretBytes.wipe(&third)
        }
    }
}

/// Single DES (FIPS 46-3), the building block of ``TripleDES``.
///
/// Bits are numbered as in the standard: bit 1 is the most significant bit of a block or key, held in a
/// `UInt64` (or, for a half block, a `UInt32`).
enum DES {
    /// The sixteen 48-bit round keys for a 64-bit key (parity bits ignored).
    static func keySchedule(_ key: UInt64) -> [UInt64] {
        let permuted = permute(key, width: 64, by: permutedChoice1)
        var c = permuted >> 28
        var d = permuted & 0xfff_ffff
        var subkeys = [UInt64](repeating: 0, count: 16)
        for round in 0..<16 {
            let shift = UInt64(rotations[round])
            c = ((c << shift) | (c >> (28 - shift))) & 0xfff_ffff
            d = ((d << shift) | (d >> (28 - shift))) & 0xfff_ffff
            subkeys[round] = permute(c << 28 | d, width: 56, by: permutedChoice2)
        }
        return subkeys
    }

    /// Encrypts (or, with the round keys in reverse, decrypts) one block.
    static func crypt(_ block: UInt64, _ subkeys: [UInt64], decrypt: Bool) -> UInt64 {
        let permuted = permute(block, width: 64, by: initialPermutation)
        var left = UInt32(truncatingIfNeeded: permuted >> 32)
        var right = UInt32(truncatingIfNeeded: permuted)
        for round in 0..<16 {
            let subkey = subkeys[decrypt ? 15 - round : round]
            let next = left ^ feistel(right, subkey)
            left = right
            right = next
        }
        // The halves are swapped once more before the final permutation.
        return permute(UInt64(right) << 32 | UInt64(left), width: 64, by: finalPermutation)
    }

    /// The round function f(R, K): expand R to 48 bits, mix in K, substitute, permute.
    private static func feistel(_ right: UInt32, _ subkey: UInt64) -> UInt32 {
        var output: UInt32 = 0
        for box in 0..<8 {
            // The expansion E gives S-box `box` bits 4·box through 4·box+5 of R (bit 0 meaning bit 32):
            // rotate so the first of them is the top bit and take six.
            let rotation = (4 * box + 31) % 32
            let rotated = rotation == 0 ? right : (right << UInt32(rotation)) | (right >> UInt32(32 - rotation))
            let expanded = rotated >> 26
            let keyBits = UInt32(truncatingIfNeeded: subkey >> UInt64(42 - 6 * box)) & 0x3f
            output |= substitutionPermutation[box * 64 + Int(expanded ^ keyBits)]
        }
        return output
    }

    /// Reads 8 bytes big-endian from `bytes` at `offset` (which the callers keep in range).
    static func loadBlock(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    /// Writes `value` as 8 bytes big-endian into `bytes` at `offset`.
    static func storeBlock(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * index)) }
    }

    /// Output bit `i` (1-based, from the top) is input bit `table[i]` of a `width`-bit value.
    private static func permute(_ value: UInt64, width: Int, by table: [UInt8]) -> UInt64 {
        var output: UInt64 = 0
        for position in table { output = output << 1 | (value >> UInt64(width - Int(position))) & 1 }
        return output
    }

    // MARK: Tables of FIPS 46-3

    private static let initialPermutation: [UInt8] = [
        58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
        62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
        57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
        61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
    ]

    /// The inverse of ``initialPermutation``.
    private static let finalPermutation: [UInt8] = {
        var inverse = [UInt8](repeating: 0, count: 64)
        for (index, source) in initialPermutation.enumerated() { inverse[Int(source) - 1] = UInt8(index + 1) }
        return inverse
    }()

    private static let permutedChoice1: [UInt8] = [
        57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
        10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
        63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
        14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
    ]

    private static let permutedChoice2: [UInt8] = [
        14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
        23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
        41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
        44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
    ]

    private static let rotations: [UInt8] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]

    private static let permutationP: [UInt8] = [
        16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
        2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
    ]

    /// S1 to S8, each as four rows of sixteen.
    static let substitutionBoxes: [[UInt8]] = [
        [
            14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
            0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
            4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
            15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
        ],
        [
            15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
            3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
            0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
            13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
        ],
        [
            10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
            13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
            13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
            1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
        ],
        [
            7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
            13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
            10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
            3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
        ],
        [
            2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
            14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
            4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
            11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
        ],
        [
            12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
            10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
            9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
            4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
        ],
        [
            4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
            13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
            1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
            6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
        ],
        [
            13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
            1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
            7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
            2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
        ],
    ]

    /// S-box `box` followed by P, for each 6-bit input: entry `box * 64 + input`. Built once from the tables
    /// above so that a round is eight lookups.
    private static let substitutionPermutation: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 64)
        for box in 0..<8 {
            for input in 0..<64 {
                // The outer bits pick the row, the inner four the column.
                let row = (input >> 4) & 0b10 | input & 1
                let column = (input >> 1) & 0xf
                let value = UInt64(substitutionBoxes[box][row * 16 + column]) << UInt64(28 - 4 * box)
                table[box * 64 + input] = UInt32(truncatingIfNeeded: permute(value, width: 32, by: permutationP))
            }
        }
        return table
    }()
}
