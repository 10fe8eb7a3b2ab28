/// BLAKE2b (RFC 7693): a 64-bit hash with outputs of 1 to 64 bytes and an optional key of up to 64 bytes.
///
/// Argon2 builds on it (its pre-hash H0 and its variable-length hash H'), and so do PuTTY's .ppk v3 files.
///
/// ```swift
/// var hasher = try BLAKE2b(outputLength: 32)
/// hasher.update(Array("abc".utf8))
/// let digest = hasher.finalize()          // 32 bytes
/// let whole = BLAKE2b.hash(Array("abc".utf8), outputLength: 64)
/// ```
///
/// The value type can be copied to fork a hash: ``finalize()`` does not change the hasher.
public struct BLAKE2b: Sendable {
    /// The largest digest, and the largest key, in bytes.
    public static let maximumOutputLength = 64
    /// The largest key, in bytes.
    public static let maximumKeyLength = 64
    /// The size of one compressed block, in bytes.
    static let blockLength = 128

    /// The initialisation vector: the same as SHA-512's (RFC 7693 section 2.6).
    static let iv: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x6A09_E667_F3BC_C908, 0xBB67_AE85_84CA_A73B, 0x3C6E_F372_FE94_F82B, 0xA54F_F53A_5F1D_36F1,
        0x510E_527F_ADE6_82D1, 0x9B05_688C_2B3E_6C1F, 0x1F83_D9AB_FB41_BD6B, 0x5BE0_CD19_137E_2179
    )

    /// The message schedule SIGMA (RFC 7693 section 2.7); rounds 10 and 11 reuse rows 0 and 1.
    static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    /// The chained state h[0..7].
    private var state: [UInt64]
    /// Bytes not yet compressed: at most one block, kept back so the last block can be flagged final.
    private var buffer: [UInt8]
    /// Bytes compressed so far (the counter t, low and high words).
    private var counterLow: UInt64 = 0
    private var counterHigh: UInt64 = 0
    /// The digest length in bytes, 1...64.
    public let outputLength: Int

    /// Starts a hash with a digest of `outputLength` bytes, keyed (a MAC) when `key` is not empty.
    ///
    /// - Throws: ``KeyError/Code/invalidParameter`` when `outputLength` is not 1...64 or `key` is longer
    ///   than 64 bytes.
    public init(outputLength: Int = 64, key: [UInt8] = []) throws(KeyError) {
        guard (1...Self.maximumOutputLength).contains(outputLength) else {
            throw KeyError.invalidParameter(
                "BLAKE2b output length \(outputLength) is not between 1 and \(Self.maximumOutputLength) bytes")
        }
        guard key.count <= Self.maximumKeyLength else {
            throw KeyError.invalidParameter(
                "BLAKE2b key of \(key.count) bytes is longer than \(Self.maximumKeyLength) bytes")
        }
        self.init(validOutputLength: outputLength, key: key)
    }

    /// Starts a hash whose lengths the caller has already checked.
    init(validOutputLength outputLength: Int, key: [UInt8] = []) {
        self.outputLength = outputLength
        let iv = Self.iv
        state = [iv.0, iv.1, iv.2, iv.3, iv.4, iv.5, iv.6, iv.7]
        // Parameter block word 0: digest length, key length, fanout 1, depth 1 (RFC 7693 section 2.5).
        state[0] ^= 0x0101_0000 ^ (UInt64(key.count) << 8) ^ UInt64(outputLength)
        buffer = []
        buffer.reserveCapacity(Self.blockLength)
        if !key.isEmpty {
            // The key, padded with zeros to a whole block, is the first block of the message.
            buffer = key + [UInt8](repeating: 0, count: Self.blockLength - key.count)
        }
    }

    /// The digest of `data`, `outputLength` bytes long (1...64).
    ///
    /// `outputLength` is a constant chosen by the caller, never input; a value outside 1...64 is a
    /// programming error and stops the program. Use ``init(outputLength:key:)`` to have it checked.
    public static func hash(_ data: [UInt8], outputLength: Int = 64) -> [UInt8] {
        precondition((1...maximumOutputLength).contains(outputLength), "BLAKE2b output length must be 1...64")
        var hasher = BLAKE2b(validOutputLength: outputLength)
        hasher.update(data)
        return hasher.finalize()
    }

    /// Adds `data` to the message.
    public mutating func update(_ data: some Collection<UInt8>) {
        let done: Void? = data.withContiguousStorageIfAvailable { bytes in
            update(raw: UnsafeRawBufferPointer(bytes))
        }
        if done == nil {
            Array(data).withUnsafeBytes { update(raw: $0) }
        }
    }

    /// Adds the bytes in `data` to the message.
    mutating func update(raw data: UnsafeRawBufferPointer) {
        var offset = 0
        let count = data.count
        while offset < count {
            if buffer.count == Self.blockLength {
                // More data follows, so the buffered block is not the last one.
                increment(by: Self.blockLength)
                compressBuffer(final: false)
                buffer.removeAll(keepingCapacity: true)
            }
            let take = min(Self.blockLength - buffer.count, count - offset)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[offset..<offset + take]))
            offset += take
        }
    }

    /// The digest of everything added so far; the hasher itself is unchanged and may take more data.
    public func finalize() -> [UInt8] {
        var copy = self
        copy.increment(by: copy.buffer.count)
        copy.buffer.append(contentsOf: [UInt8](repeating: 0, count: Self.blockLength - copy.buffer.count))
        copy.compressBuffer(final: true)
        var digest = [UInt8]()
        digest.reserveCapacity(Self.maximumOutputLength)
        for word in copy.state {
            for shift in stride(from: 0, to: 64, by: 8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return Array(digest.prefix(outputLength))
    }

    private mutating func increment(by count: Int) {
        let (sum, overflow) = counterLow.addingReportingOverflow(UInt64(count))
        counterLow = sum
        if overflow { counterHigh &+= 1 }
    }

    /// The compression function F (RFC 7693 section 3.2) over the full block in `buffer`.
    private mutating func compressBuffer(final: Bool) {
        let low = counterLow
        let high = counterHigh
        buffer.withUnsafeBytes { block in
            state.withUnsafeMutableBufferPointer { h in
                Self.compress(h, block: block, counterLow: low, counterHigh: high, final: final)
            }
        }
    }

    private static func compress(
        _ h: UnsafeMutableBufferPointer<UInt64>, block: UnsafeRawBufferPointer,
        counterLow: UInt64, counterHigh: UInt64, final: Bool
    ) {
        var m = [UInt64](repeating: 0, count: 16)
        for i in 0..<16 {
            m[i] = UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        }
        let iv = Self.iv
        var v: [UInt64] = [
            h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
            iv.0, iv.1, iv.2, iv.3, iv.4 ^ counterLow, iv.5 ^ counterHigh, final ? ~iv.6 : iv.6, iv.7,
        ]
        for round in 0..<12 {
            let s = sigma[round % 10]
            mix(&v, 0, 4, 8, 12, m[s[0]], m[s[1]])
            mix(&v, 1, 5, 9, 13, m[s[2]], m[s[3]])
            mix(&v, 2, 6, 10, 14, m[s[4]], m[s[5]])
            mix(&v, 3, 7, 11, 15, m[s[6]], m[s[7]])
            mix(&v, 0, 5, 10, 15, m[s[8]], m[s[9]])
            mix(&v, 1, 6, 11, 12, m[s[10]], m[s[11]])
            mix(&v, 2, 7, 8, 13, m[s[12]], m[s[13]])
            mix(&v, 3, 4, 9, 14, m[s[14]], m[s[15]])
        }
        for i in 0..<8 {
            h[i] ^= v[i] ^ v[i + 8]
        }
        // The message words may be key material.
        for i in 0..<16 { m[i] = 0 }
        for i in 0..<16 { v[i] = 0 }
    }

    /// The mixing function G (RFC 7693 section 3.1).
    @inline(__always)
    private static func mix(_ v: inout [UInt64], _ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
        v[a] = v[a] &+ v[b] &+ x
        v[d] = (v[d] ^ v[a]).rotatedRight(32)
        v[c] = v[c] &+ v[d]
        v[b] = (v[b] ^ v[c]).rotatedRight(24)
        v[a] = v[a] &+ v[b] &+ y
        v[d] = (v[d] ^ v[a]).rotatedRight(16)
        v[c] = v[c] &+ v[d]
        v[b] = (v[b] ^ v[c]).rotatedRight(63)
    }
}

extension UInt64 {
    /// The bits rotated right by `count` (0 < count < 64).
    @inline(__always)
    fileprivate func rotatedRight(_ count: UInt64) -> UInt64 {
        (self &>> count) | (self &<< (64 &- count))
    }
}
