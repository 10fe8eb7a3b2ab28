/// The cost settings of one Argon2 computation: which variant, how much memory, how many passes over it, and
/// how many lanes.
///
/// PuTTY's .ppk v3 files name these in their `Key-Derivation`, `Argon2-Memory`, `Argon2-Passes` and
/// `Argon2-Parallelism` headers. ``Argon2/hash(password:salt:secret:associatedData:parameters:tagLength:)``
/// checks them before it allocates anything.
public struct Argon2Parameters: Sendable, Hashable {
    /// The Argon2 variant (RFC 9106 section 3.4).
    public enum Variant: String, Sendable, Hashable, CaseIterable {
        /// Data-dependent memory access: fastest to compute, open to side channels.
        case argon2d
        /// Data-independent memory access: resists side channels.
        case argon2i
        /// Argon2i for the first half of the first pass, Argon2d after: the variant RFC 9106 recommends.
        case argon2id

        /// The type number y hashed into H0 and the address blocks.
        var typeCode: UInt64 {
            switch self {
            case .argon2d: 0
            case .argon2i: 1
            case .argon2id: 2
            }
        }
    }

    /// The variant.
    public var variant: Variant
    /// The memory to fill, in KiB (1 KiB blocks): at least 8 per lane, at most ``Argon2/maximumMemoryKiB``.
    public var memoryKiB: Int
    /// The number of passes over memory (t): 1 to ``Argon2/maximumPasses``.
    public var passes: Int
    /// The number of lanes (p): 1 to ``Argon2/maximumParallelism``.
    public var parallelism: Int

    /// Makes a parameter set; values are checked when they are used.
    public init(variant: Variant = .argon2id, memoryKiB: Int, passes: Int, parallelism: Int = 1) {
        self.variant = variant
        self.memoryKiB = memoryKiB
        self.passes = passes
        self.parallelism = parallelism
    }
}

/// Argon2 (RFC 9106), version 0x13: the memory-hard password hash behind PuTTY's .ppk v3 encryption.
///
/// ```swift
/// let parameters = Argon2Parameters(variant: .argon2id, memoryKiB: 8192, passes: 21, parallelism: 1)
/// let derived = try Argon2.hash(password: Array("secret".utf8), salt: salt,
///                               parameters: parameters, tagLength: 80)
/// ```
///
/// Lanes are computed one after another on the calling thread; the result is the same as with threads.
public enum Argon2 {
    /// The Argon2 version implemented: 0x13 (decimal 19).
    public static let version: UInt32 = 0x13
    /// The most memory accepted, in KiB: 4 GiB.
    public static let maximumMemoryKiB = 4_194_304
    /// The most passes accepted.
    public static let maximumPasses = 1_000_000
    /// The most lanes accepted.
    public static let maximumParallelism = 255
    /// The shortest tag, in bytes (RFC 9106 section 3.1).
    public static let minimumTagLength = 4
    /// The longest tag accepted, in bytes.
    public static let maximumTagLength = 1024
    /// The longest password, salt, secret or associated data accepted, in bytes: 1 MiB.
    public static let maximumInputLength = 1 << 20

    /// Derives `tagLength` bytes from `password` and `salt` with the given cost.
    ///
    /// - Parameters:
    ///   - password: the password P (for PuTTY, the passphrase's bytes).
    ///   - salt: the salt S (PuTTY uses 16 random bytes).
    ///   - secret: the optional secret K; PuTTY uses none.
    ///   - associatedData: the optional associated data X; PuTTY uses none.
    ///   - parameters: variant, memory, passes and lanes.
    ///   - tagLength: bytes to derive, 4...1024 (PuTTY derives 80: key, IV and MAC key).
    /// - Throws: ``KeyError/Code/invalidParameter`` before allocating anything when a parameter or an input
    ///   length is out of range: memory under 8 KiB per lane or over 4 GiB, passes outside 1...1,000,000,
    ///   lanes outside 1...255, a tag outside 4...1024 bytes, or an input over 1 MiB.
    public static func hash(
        password: [UInt8], salt: [UInt8], secret: [UInt8] = [], associatedData: [UInt8] = [],
        parameters: Argon2Parameters, tagLength: Int
    ) throws(KeyError) -> [UInt8] {
        try validate(parameters, tagLength: tagLength)
        try checkLength(password.count, of: "password")
        try checkLength(salt.count, of: "salt")
        try checkLength(secret.count, of: "secret")
        try checkLength(associatedData.count, of: "associated data")

        var h0 = initialHash(
            password: password, salt: salt, secret: secret, associatedData: associatedData,
            parameters: parameters, tagLength: tagLength)
        defer { wipe(&h0) }

        let memory = Argon2Memory(parameters)
        memory.fillFirstBlocks(h0: h0)
        memory.fillMemory()
        return memory.finalTag(length: tagLength)
    }

    /// Checks the cost parameters and tag length, naming the limit that was broken.
    static func validate(_ parameters: Argon2Parameters, tagLength: Int) throws(KeyError) {
        let lanes = parameters.parallelism
        guard lanes >= 1, lanes <= maximumParallelism else {
            throw KeyError.invalidParameter(
                "Argon2 parallelism \(lanes) is not between 1 and \(maximumParallelism) lanes")
        }
        guard parameters.memoryKiB <= maximumMemoryKiB else {
            throw KeyError.invalidParameter(
                "Argon2 memory of \(parameters.memoryKiB) KiB is more than the limit of \(maximumMemoryKiB) KiB (4 GiB)")
        }
        guard parameters.memoryKiB >= 8 * lanes else {
            throw KeyError.invalidParameter(
                "Argon2 memory of \(parameters.memoryKiB) KiB is less than 8 KiB per lane (\(8 * lanes) KiB for \(lanes) lanes)")
        }
        guard parameters.passes >= 1, parameters.passes <= maximumPasses else {
            throw KeyError.invalidParameter(
                "Argon2 passes \(parameters.passes) is not between 1 and \(maximumPasses)")
        }
        guard tagLength >= minimumTagLength, tagLength <= maximumTagLength else {
            throw KeyError.invalidParameter(
                "Argon2 tag length \(tagLength) is not between \(minimumTagLength) and \(maximumTagLength) bytes")
        }
    }

    private static func checkLength(_ count: Int, of what: String) throws(KeyError) {
        guard count <= maximumInputLength else {
            throw KeyError.invalidParameter(
                "Argon2 \(what) of \(count) bytes is longer than the limit of \(maximumInputLength) bytes")
        }
    }

    /// H0 (RFC 9106 section 3.2, step 1): a BLAKE2b-512 digest of every parameter and input.
    private static func initialHash(
        password: [UInt8], salt: [UInt8], secret: [UInt8], associatedData: [UInt8],
        parameters: Argon2Parameters, tagLength: Int
    ) -> [UInt8] {
        var hasher = BLAKE2b(validOutputLength: 64)
        for number in [
            parameters.parallelism, tagLength, parameters.memoryKiB, parameters.passes, Int(version),
            Int(parameters.variant.typeCode),
        ] {
            hasher.update(littleEndian32(number))
        }
        for input in [password, salt, secret, associatedData] {
            hasher.update(littleEndian32(input.count))
            hasher.update(input)
        }
        return hasher.finalize()
    }

    /// H' (RFC 9106 section 3.3): a hash of any length, built from chained BLAKE2b-512 digests.
    static func variableLengthHash(_ input: [UInt8], length: Int) -> [UInt8] {
        var first = BLAKE2b(validOutputLength: min(length, 64))
        first.update(littleEndian32(length))
        first.update(input)
        if length <= 64 {
            return first.finalize()
        }
        var output = [UInt8]()
        output.reserveCapacity(length)
        let r = (length + 31) / 32 - 2
        var v = first.finalize()
        output.append(contentsOf: v[0..<32])
        for _ in 1..<r {
            v = BLAKE2b.hash(v, outputLength: 64)
            output.append(contentsOf: v[0..<32])
        }
        let last = BLAKE2b.hash(v, outputLength: length - 32 * r)
        output.append(contentsOf: last)
        wipe(&v)
        return output
    }

    static func littleEndian32(_ value: Int) -> [UInt8] {
        let word = UInt32(truncatingIfNeeded: value)
        return [
            UInt8(truncatingIfNeeded: word), UInt8(truncatingIfNeeded: word >> 8),
            UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 24),
        ]
    }

    static func wipe(_ bytes: inout [UInt8]) {
        for i in bytes.indices { bytes[i] = 0 }
    }
}

/// The memory of one Argon2 computation: the blocks B[i][j] in one allocation, followed by four scratch blocks.
///
/// It owns its allocation and zeroes it before freeing it.
private struct Argon2Memory: ~Copyable {
    /// 64-bit words per 1 KiB block.
    static let words = 128
    /// Pseudo-random reference values per address block.
    static let addressesPerBlock = 128
    /// Slices per pass (synchronisation points).
    static let slices = 4

    let base: UnsafeMutablePointer<UInt64>
    let totalWords: Int
    let blockCount: Int
    let lanes: Int
    let laneLength: Int
    let segmentLength: Int
    let passes: Int
    let variant: Argon2Parameters.Variant

    /// Scratch: R = X xor Y during compression.
    var scratch: UnsafeMutablePointer<UInt64> { base + blockCount * Self.words }
    /// Scratch: the current address block of data-independent addressing.
    var addresses: UnsafeMutablePointer<UInt64> { base + (blockCount + 1) * Self.words }
    /// Scratch: the input block Z that address blocks are made from.
    var addressInput: UnsafeMutablePointer<UInt64> { base + (blockCount + 2) * Self.words }
    /// Scratch: an all-zero block.
    var zeroBlock: UnsafeMutablePointer<UInt64> { base + (blockCount + 3) * Self.words }

    /// Allocates memory for parameters that ``Argon2/validate(_:tagLength:)`` accepted.
    init(_ parameters: Argon2Parameters) {
        lanes = parameters.parallelism
        // m' = 4 p floor(m / 4p): whole segments in every lane.
        segmentLength = parameters.memoryKiB / (Self.slices * lanes)
        laneLength = segmentLength * Self.slices
        blockCount = laneLength * lanes
        passes = parameters.passes
        variant = parameters.variant
        totalWords = (blockCount + 4) * Self.words
        base = UnsafeMutablePointer<UInt64>.allocate(capacity: totalWords)
        // Blocks are written before they are read; only the scratch blocks need a known value.
        (base + blockCount * Self.words).initialize(repeating: 0, count: 4 * Self.words)
    }

    deinit {
        base.update(repeating: 0, count: totalWords)
        base.deallocate()
    }

    /// B[i][0] and B[i][1] of every lane from H0 (RFC 9106 section 3.2, steps 3 and 4).
    func fillFirstBlocks(h0: [UInt8]) {
        for lane in 0..<lanes {
            for column in 0..<2 {
                var input = h0 + Argon2.littleEndian32(column) + Argon2.littleEndian32(lane)
                var block = Argon2.variableLengthHash(input, length: Self.words * 8)
                let target = base + (lane * laneLength + column) * Self.words
                block.withUnsafeBytes { bytes in
                    for word in 0..<Self.words {
                        target[word] = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self))
                    }
                }
                Argon2.wipe(&input)
                Argon2.wipe(&block)
            }
        }
    }

    /// Every pass, slice by slice; within a slice the lanes are independent, so one thread may do them in turn.
    func fillMemory() {
        for pass in 0..<passes {
            for slice in 0..<Self.slices {
                for lane in 0..<lanes {
                    fillSegment(pass: pass, lane: lane, slice: slice)
                }
            }
        }
    }

    /// The tag: H' over the xor of every lane's last block (RFC 9106 section 3.2, steps 7 and 8).
    func finalTag(length: Int) -> [UInt8] {
        let last = scratch
        let first = base + (laneLength - 1) * Self.words
        last.update(from: first, count: Self.words)
        for lane in 1..<lanes {
            let block = base + (lane * laneLength + laneLength - 1) * Self.words
            for word in 0..<Self.words { last[word] ^= block[word] }
        }
        var bytes = [UInt8](repeating: 0, count: Self.words * 8)
        bytes.withUnsafeMutableBytes { out in
            for word in 0..<Self.words {
                out.storeBytes(of: last[word].littleEndian, toByteOffset: word * 8, as: UInt64.self)
            }
        }
        last.update(repeating: 0, count: Self.words)
        let tag = Argon2.variableLengthHash(bytes, length: length)
        Argon2.wipe(&bytes)
        return tag
    }

    /// Computes one segment: the blocks of `lane` in `slice` of `pass` (RFC 9106 sections 3.2 and 3.4).
    private func fillSegment(pass: Int, lane: Int, slice: Int) {
        let memory = base
        let words = Self.words
        let laneLength = laneLength
        let segmentLength = segmentLength
        let scratch = scratch
        let addresses = addresses
        let dataIndependent = variant == .argon2i || (variant == .argon2id && pass == 0 && slice < 2)
        let laneCount = UInt64(lanes)

        if dataIndependent {
            let input = addressInput
            input.update(repeating: 0, count: words)
            input[0] = UInt64(pass)
            input[1] = UInt64(lane)
            input[2] = UInt64(slice)
            input[3] = UInt64(blockCount)
            input[4] = UInt64(passes)
            input[5] = variant.typeCode
        }

        var index = 0
        if pass == 0 && slice == 0 {
            // B[i][0] and B[i][1] come from H0.
            index = 2
            if dataIndependent { nextAddresses() }
        }

        var current = lane * laneLength + slice * segmentLength + index
        var previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1
        let withXor = pass != 0
        // Where the reference window starts: the segment after this one, or the lane's start in pass 0.
        let windowStart = pass == 0 || slice == Self.slices - 1 ? 0 : (slice + 1) * segmentLength
        // Blocks finished before this segment that any lane may reference.
        let finishedBefore = pass == 0 ? slice * segmentLength : laneLength - segmentLength

        while index < segmentLength {
            let pseudoRandom: UInt64
            if dataIndependent {
                if index % Self.addressesPerBlock == 0 { nextAddresses() }
                pseudoRandom = addresses[index % Self.addressesPerBlock]
            } else {
                pseudoRandom = memory[previous &* words]
            }

            // J2 picks the lane (always this lane in the first slice of the first pass).
            let referenceLane = pass == 0 && slice == 0 ? lane : Int(truncatingIfNeeded: (pseudoRandom >> 32) % laneCount)
            // The reference set: finished blocks of other lanes, and also this segment's own blocks so far in this
            // lane, never the block just before the one being computed.
            let areaSize: Int
            if referenceLane == lane {
                areaSize = finishedBefore &+ index &- 1
            } else {
                areaSize = finishedBefore &- (index == 0 ? 1 : 0)
            }
            // J1 maps non-uniformly onto the area, favouring recent blocks.
            let j1 = pseudoRandom & 0xFFFF_FFFF
            let x = (j1 &* j1) >> 32
            let area = UInt64(truncatingIfNeeded: areaSize)
            let relative = area &- 1 &- ((area &* x) >> 32)
            var position = windowStart &+ Int(truncatingIfNeeded: relative)
            if position >= laneLength { position &-= laneLength }

            let reference = memory + (referenceLane &* laneLength &+ position) &* words
            Argon2Compression.compress(
                memory + previous &* words, reference, into: memory + current &* words, xor: withXor,
                scratch: scratch)

            previous = current
            current &+= 1
            index &+= 1
        }
    }

    /// The next address block: G(0, G(0, Z)) with Z's counter incremented (RFC 9106 section 3.4.2).
    private func nextAddresses() {
        let input = addressInput
        input[6] &+= 1
        Argon2Compression.compress(zeroBlock, input, into: addresses, xor: false, scratch: scratch)
        Argon2Compression.compress(zeroBlock, addresses, into: addresses, xor: false, scratch: scratch)
    }
}

/// The compression function G over 1 KiB blocks (RFC 9106 section 3.5), the hot path of Argon2.
private enum Argon2Compression {
    /// `next` = G(`x`, `y`), or `next` xor G(`x`, `y`) when `xor` is true (passes after the first, version 0x13).
    ///
    /// R = X xor Y is permuted row by row (16 words each) into `scratch`, then column by column (pairs of words
    /// 16 apart), and the result is folded into `next` together with R. `y` may be the same block as `next`.
    @inline(__always)
    static func compress(
        _ x: UnsafeMutablePointer<UInt64>, _ y: UnsafeMutablePointer<UInt64>,
        into next: UnsafeMutablePointer<UInt64>, xor: Bool, scratch r: UnsafeMutablePointer<UInt64>
    ) {
        var row = 0
        while row < 8 {
            let o = row &* 16
            var v0 = x[o] ^ y[o], v1 = x[o &+ 1] ^ y[o &+ 1]
            var v2 = x[o &+ 2] ^ y[o &+ 2], v3 = x[o &+ 3] ^ y[o &+ 3]
            var v4 = x[o &+ 4] ^ y[o &+ 4], v5 = x[o &+ 5] ^ y[o &+ 5]
            var v6 = x[o &+ 6] ^ y[o &+ 6], v7 = x[o &+ 7] ^ y[o &+ 7]
            var v8 = x[o &+ 8] ^ y[o &+ 8], v9 = x[o &+ 9] ^ y[o &+ 9]
            var v10 = x[o &+ 10] ^ y[o &+ 10], v11 = x[o &+ 11] ^ y[o &+ 11]
            var v12 = x[o &+ 12] ^ y[o &+ 12], v13 = x[o &+ 13] ^ y[o &+ 13]
            var v14 = x[o &+ 14] ^ y[o &+ 14], v15 = x[o &+ 15] ^ y[o &+ 15]
            // next holds R (or next xor R) until the columns add P(R).
            if xor {
                next[o] ^= v0; next[o &+ 1] ^= v1; next[o &+ 2] ^= v2; next[o &+ 3] ^= v3
                next[o &+ 4] ^= v4; next[o &+ 5] ^= v5; next[o &+ 6] ^= v6; next[o &+ 7] ^= v7
                next[o &+ 8] ^= v8; next[o &+ 9] ^= v9; next[o &+ 10] ^= v10; next[o &+ 11] ^= v11
                next[o &+ 12] ^= v12; next[o &+ 13] ^= v13; next[o &+ 14] ^= v14; next[o &+ 15] ^= v15
            } else {
                next[o] = v0; next[o &+ 1] = v1; next[o &+ 2] = v2; next[o &+ 3] = v3
                next[o &+ 4] = v4; next[o &+ 5] = v5; next[o &+ 6] = v6; next[o &+ 7] = v7
                next[o &+ 8] = v8; next[o &+ 9] = v9; next[o &+ 10] = v10; next[o &+ 11] = v11
                next[o &+ 12] = v12; next[o &+ 13] = v13; next[o &+ 14] = v14; next[o &+ 15] = v15
            }
            permute(
                &v0, &v1, &v2, &v3, &v4, &v5, &v6, &v7, &v8, &v9, &v10, &v11, &v12, &v13, &v14, &v15)
            r[o] = v0; r[o &+ 1] = v1; r[o &+ 2] = v2; r[o &+ 3] = v3
            r[o &+ 4] = v4; r[o &+ 5] = v5; r[o &+ 6] = v6; r[o &+ 7] = v7
            r[o &+ 8] = v8; r[o &+ 9] = v9; r[o &+ 10] = v10; r[o &+ 11] = v11
            r[o &+ 12] = v12; r[o &+ 13] = v13; r[o &+ 14] = v14; r[o &+ 15] = v15
            row &+= 1
        }
        var column = 0
        while column < 8 {
            let o = column &* 2
            var v0 = r[o], v1 = r[o &+ 1]
            var v2 = r[o &+ 16], v3 = r[o &+ 17]
            var v4 = r[o &+ 32], v5 = r[o &+ 33]
            var v6 = r[o &+ 48], v7 = r[o &+ 49]
            var v8 = r[o &+ 64], v9 = r[o &+ 65]
            var v10 = r[o &+ 80], v11 = r[o &+ 81]
            var v12 = r[o &+ 96], v13 = r[o &+ 97]
            var v14 = r[o &+ 112], v15 = r[o &+ 113]
            permute(
                &v0, &v1, &v2, &v3, &v4, &v5, &v6, &v7, &v8, &v9, &v10, &v11, &v12, &v13, &v14, &v15)
            next[o] ^= v0; next[o &+ 1] ^= v1
            next[o &+ 16] ^= v2; next[o &+ 17] ^= v3
            next[o &+ 32] ^= v4; next[o &+ 33] ^= v5
            next[o &+ 48] ^= v6; next[o &+ 49] ^= v7
            next[o &+ 64] ^= v8; next[o &+ 65] ^= v9
            next[o &+ 80] ^= v10; next[o &+ 81] ^= v11
            next[o &+ 96] ^= v12; next[o &+ 97] ^= v13
            next[o &+ 112] ^= v14; next[o &+ 113] ^= v15
            column &+= 1
        }
    }

    /// The permutation P: one BLAKE2b round without message words, with GB's multiplications (RFC 9106 3.6).
    @inline(__always)
    static func permute(
        _ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64,
        _ v4: inout UInt64, _ v5: inout UInt64, _ v6: inout UInt64, _ v7: inout UInt64,
        _ v8: inout UInt64, _ v9: inout UInt64, _ v10: inout UInt64, _ v11: inout UInt64,
        _ v12: inout UInt64, _ v13: inout UInt64, _ v14: inout UInt64, _ v15: inout UInt64
    ) {
        mix(&v0, &v4, &v8, &v12)
        mix(&v1, &v5, &v9, &v13)
        mix(&v2, &v6, &v10, &v14)
        mix(&v3, &v7, &v11, &v15)
        mix(&v0, &v5, &v10, &v15)
        mix(&v1, &v6, &v11, &v12)
        mix(&v2, &v7, &v8, &v13)
        mix(&v3, &v4, &v9, &v14)
    }

    /// GB: BLAKE2b's G with each addition a + b replaced by a + b + 2 * lo32(a) * lo32(b).
    @inline(__always)
    static func mix(_ a: inout UInt64, _ b: inout UInt64, _ c: inout UInt64, _ d: inout UInt64) {
        a = blaMka(a, b)
        d = rotateRight(d ^ a, 32)
        c = blaMka(c, d)
        b = rotateRight(b ^ c, 24)
        a = blaMka(a, b)
        d = rotateRight(d ^ a, 16)
        c = blaMka(c, d)
        b = rotateRight(b ^ c, 63)
    }

    @inline(__always)
    static func blaMka(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let product = UInt64(UInt32(truncatingIfNeeded: x)) &* UInt64(UInt32(truncatingIfNeeded: y))
        return x &+ y &+ (product &<< 1)
    }

    @inline(__always)
    static func rotateRight(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value &>> count) | (value &<< (64 &- count))
    }
}
