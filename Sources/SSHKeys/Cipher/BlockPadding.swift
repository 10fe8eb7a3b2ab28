/// Padding that brings data to a whole number of cipher blocks.
///
/// PKCS#7 (RFC 5652 section 6.3) is what legacy PEM and PKCS#8 use; OpenSSH's key format pads with
/// 1, 2, 3, … instead (`PROTOCOL.key` section 3).
enum BlockPadding {
    /// `data` followed by PKCS#7 padding: `n` bytes of value `n`, 1 ≤ n ≤ `blockSize`, so that there is always
    /// at least one byte of padding.
    ///
    /// `blockSize` is a cipher's block size (8 or 16); it is clamped to 1...255, the range PKCS#7 allows.
    static func pkcs7Padded(_ data: [UInt8], blockSize: Int) -> [UInt8] {
        let size = min(max(blockSize, 1), 255)
        let count = size - data.count % size
        return data + [UInt8](repeating: UInt8(truncatingIfNeeded: count), count: count)
    }

    /// `data` without its PKCS#7 padding, or `nil` when the padding is not valid: empty input, a length that
    /// is not a whole number of blocks, a last byte of 0 or above `blockSize`, or padding bytes that differ.
    ///
    /// After decryption with the wrong key the padding is almost always invalid, so callers usually report
    /// `nil` as a wrong passphrase. The padding bytes are checked without branching on their values.
    static func pkcs7Unpadded(_ data: [UInt8], blockSize: Int) -> [UInt8]? {
        let size = min(max(blockSize, 1), 255)
        guard let last = data.last, data.count % size == 0 else { return nil }
        let count = Int(last)
        // Examine the whole last block whatever `count` says, accumulating any mismatch.
        var bad: UInt8 = (count == 0 || count > size) ? 1 : 0
        let start = data.count - size
        for index in start..<data.count {
            let inPadding: UInt8 = index >= data.count - count ? 0xff : 0
            bad |= (data[index] ^ last) & inPadding
        }
        guard bad == 0 else { return nil }
        return Array(data[..<(data.count - count)])
    }

    /// `data` followed by OpenSSH's key-file padding: bytes 1, 2, 3, … until the length is a multiple of
    /// `blockSize` (no padding when it already is).
    static func openSSHPadded(_ data: [UInt8], blockSize: Int) -> [UInt8] {
        let size = max(blockSize, 1)
        var padded = data
        var next: UInt8 = 1
        while padded.count % size != 0 {
            padded.append(next)
            next = next &+ 1
        }
        return padded
    }

    /// Whether `padding` is OpenSSH's key-file padding: 1, 2, 3, … (empty is valid).
    static func isOpenSSHPadding(_ padding: some Collection<UInt8>) -> Bool {
        var expected: UInt8 = 1
        for byte in padding {
            guard byte == expected else { return false }
            expected = expected &+ 1
        }
        return true
    }
}
