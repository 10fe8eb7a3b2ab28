import Crypto

/// bcrypt_pbkdf as OpenSSH uses it for openssh-key-v1 private keys.
///
/// This is OpenBSD's PBKDF2 variant built on the bcrypt hash: the passphrase and each salt are first hashed
/// with SHA-512, every round runs bcrypt's expensive Blowfish key schedule 64 times, and the output bytes of
/// the 32-byte blocks are interleaved rather than concatenated, so that no part of a long key can be
/// computed with less work than the whole.
///
/// OpenSSH stores the salt and the number of rounds in the key file (`kdfoptions`); it uses 16 bytes of salt
/// and, by default, 16 rounds (`ssh-keygen -a`).
public enum BcryptPBKDF {
    /// The largest number of rounds accepted; far beyond what any real key uses (OpenSSH's default is 16).
    public static let maximumRounds = 1 << 20
    /// The longest salt accepted, in bytes (the limit of OpenBSD's implementation).
    public static let maximumSaltLength = 1 << 20
    /// The longest key that can be derived, in bytes (the limit of OpenBSD's implementation).
    public static let maximumKeyLength = 1024

    /// Derives `keyLength` bytes of key material from a passphrase and a salt, exactly as OpenSSH's
    /// `bcrypt_pbkdf` does.
    ///
    /// Parameters outside the accepted ranges throw rather than trap, whatever their value. An empty
    /// passphrase is allowed, as the algorithm allows it (OpenSSH refuses one elsewhere).
    ///
    /// - Parameters:
    ///   - passphrase: the passphrase bytes, usually its UTF-8 encoding.
    ///   - salt: the salt from the key file; 1 to ``maximumSaltLength`` bytes.
    ///   - rounds: the work factor from the key file; 1 to ``maximumRounds``. The time taken grows linearly.
    ///   - keyLength: how many bytes to derive; 1 to ``maximumKeyLength``. For an openssh-key-v1 file this is
    ///     the cipher's key length plus its IV length (48 for `aes256-ctr`).
    /// - Returns: `keyLength` bytes of key material.
    /// - Throws: ``KeyError`` with code ``KeyError/Code/invalidParameter`` for rounds below 1 or above
    ///   ``maximumRounds``, an empty salt or one longer than ``maximumSaltLength``, or a key length below 1 or
    ///   above ``maximumKeyLength``; the reason names the parameter, its value and the limit.
    public static func deriveKey(
        passphrase: some Collection<UInt8>,
        salt: some Collection<UInt8>,
        rounds: Int,
        keyLength: Int
    ) throws(KeyError) -> [UInt8] {
        guard rounds >= 1 else {
            throw KeyError.invalidParameter("bcrypt_pbkdf rounds must be at least 1, not \(rounds)")
        }
        guard rounds <= maximumRounds else {
            throw KeyError.invalidParameter(
                "bcrypt_pbkdf rounds must be at most \(maximumRounds), not \(rounds)")
        }
        guard keyLength >= 1, keyLength <= maximumKeyLength else {
            throw KeyError.invalidParameter(
                "bcrypt_pbkdf key length must be between 1 and \(maximumKeyLength) bytes, not \(keyLength)")
        }
        let saltLength = salt.count
        guard saltLength >= 1 else {
            throw KeyError.invalidParameter("bcrypt_pbkdf salt must not be empty")
        }
        guard saltLength <= maximumSaltLength else {
            throw KeyError.invalidParameter(
                "bcrypt_pbkdf salt must be at most \(maximumSaltLength) bytes, not \(saltLength)")
        }

        let workspace = Workspace()
        workspace.hashPassphrase(passphrase)
        let saltHasher = saltPrefixHasher(salt)

        // Each 32-byte block of output is an independent PBKDF2-style chain; byte i of block b lands at
        // i * blockCount + b. Blocks are computed two at a time, interleaved, because one Blowfish chain
        // leaves most of the CPU idle waiting on S-box loads.
        let blockCount = (keyLength + hashSize - 1) / hashSize
        var key = [UInt8](repeating: 0, count: keyLength)
        var block = 0
        while block < blockCount {
            let lanes = min(2, blockCount - block)
            workspace.computeBlocks(first: block, lanes: lanes, saltHasher: saltHasher, rounds: rounds)
            workspace.scatter(first: block, lanes: lanes, blockCount: blockCount, into: &key)
            block += lanes
        }
        return key
    }

    /// Bytes of output of one bcrypt hash.
    static let hashSize = 32
    /// Bytes of a SHA-512 digest.
    static let digestSize = 64

    /// The bcrypt hash's plaintext, "OxychromaticBlowfishSwatDynamite", as big-endian words.
    static let magicWords: [UInt32] = {
        let text = Array("OxychromaticBlowfishSwatDynamite".utf8)
        return text.withUnsafeBufferPointer { bytes in
            var position = 0
            return (0..<8).map { _ in EksBlowfish.streamWord(bytes, &position) }
        }
    }()

    /// A SHA-512 hasher that has absorbed the salt, ready for the big-endian block counter.
    private static func saltPrefixHasher(_ salt: some Collection<UInt8>) -> SHA512 {
        var hasher = SHA512()
        let hashed: Void? = salt.withContiguousStorageIfAvailable {
            hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
        }
        if hashed == nil {
            Array(salt).withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return hasher
    }
}

extension BcryptPBKDF {
    /// All secret intermediate values of one derivation, in two allocations made once and zeroed before they
    /// are freed: the Blowfish states and key schedule words of two lanes, and the SHA-512 digests and
    /// bcrypt outputs.
    private struct Workspace: ~Copyable {
        // Word layout: per lane [state 1042][salt key words 18][cdata 8], then the passphrase key words 18.
        static let laneWords = EksBlowfish.wordCount + EksBlowfish.subkeyCount + 8
        static let wordCount = 2 * laneWords + EksBlowfish.subkeyCount
        // Byte layout: [sha2pass 64], then per lane [sha2salt 64][tmpout 32][out 32].
        static let laneBytes = digestSize + 2 * hashSize
        static let byteCount = digestSize + 2 * laneBytes

        let words: UnsafeMutablePointer<UInt32>
        let bytes: UnsafeMutablePointer<UInt8>

        init() {
            words = .allocate(capacity: Self.wordCount)
            words.initialize(repeating: 0, count: Self.wordCount)
            bytes = .allocate(capacity: Self.byteCount)
            bytes.initialize(repeating: 0, count: Self.byteCount)
        }

        deinit {
            words.update(repeating: 0, count: Self.wordCount)
            bytes.update(repeating: 0, count: Self.byteCount)
            words.deallocate()
            bytes.deallocate()
        }

        func state(_ lane: Int) -> EksBlowfish { EksBlowfish(words + lane * Self.laneWords) }
        func saltKey(_ lane: Int) -> UnsafeMutablePointer<UInt32> {
            words + lane * Self.laneWords + EksBlowfish.wordCount
        }
        func cdata(_ lane: Int) -> UnsafeMutablePointer<UInt32> {
            words + lane * Self.laneWords + EksBlowfish.wordCount + EksBlowfish.subkeyCount
        }
        var passKey: UnsafeMutablePointer<UInt32> { words + 2 * Self.laneWords }

        var sha2pass: UnsafeMutablePointer<UInt8> { bytes }
        func sha2salt(_ lane: Int) -> UnsafeMutablePointer<UInt8> { bytes + digestSize + lane * Self.laneBytes }
        func tmpout(_ lane: Int) -> UnsafeMutablePointer<UInt8> { sha2salt(lane) + digestSize }
        func out(_ lane: Int) -> UnsafeMutablePointer<UInt8> { tmpout(lane) + hashSize }

        /// Hashes the passphrase into `sha2pass` and its key schedule words into `passKey`, copying it
        /// nowhere else (a passphrase without contiguous storage passes through `sha2pass` in pieces).
        func hashPassphrase(_ passphrase: some Collection<UInt8>) {
            var hasher = SHA512()
            let hashed: Void? = passphrase.withContiguousStorageIfAvailable {
                hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
            }
            if hashed == nil {
                var filled = 0
                for byte in passphrase {
                    sha2pass[filled] = byte
                    filled += 1
                    if filled == digestSize {
                        hasher.update(bufferPointer: UnsafeRawBufferPointer(start: sha2pass, count: filled))
                        filled = 0
                    }
                }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(start: sha2pass, count: filled))
            }
            store(hasher.finalize(), into: sha2pass)
            EksBlowfish.keyWords(UnsafeBufferPointer(start: sha2pass, count: digestSize), into: passKey)
        }

        /// Computes `out(lane)` for blocks `first + lane` (zero-based), `lane < lanes`.
        func computeBlocks(first: Int, lanes: Int, saltHasher: SHA512, rounds: Int) {
            for lane in 0..<lanes {
                let counter = UInt32(truncatingIfNeeded: first + lane + 1)
                var hasher = saltHasher
                withUnsafeBytes(of: counter.bigEndian) { hasher.update(bufferPointer: $0) }
                store(hasher.finalize(), into: sha2salt(lane))
            }
            bcryptHash(lanes: lanes)
            for lane in 0..<lanes {
                out(lane).update(from: tmpout(lane), count: hashSize)
            }
            var round = 1
            while round < rounds {
                for lane in 0..<lanes {
                    var hasher = SHA512()
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(start: tmpout(lane), count: hashSize))
                    store(hasher.finalize(), into: sha2salt(lane))
                }
                bcryptHash(lanes: lanes)
                for lane in 0..<lanes {
                    let out = out(lane)
                    let tmpout = tmpout(lane)
                    for i in 0..<hashSize {
                        out[i] ^= tmpout[i]
                    }
                }
                round += 1
            }
        }

        /// Writes byte i of block `first + lane` (zero-based) to `key[i * blockCount + first + lane]`, for
        /// the positions inside `key`: the output bytes of the blocks are interleaved.
        func scatter(first: Int, lanes: Int, blockCount: Int, into key: inout [UInt8]) {
            for lane in 0..<lanes {
                let out = out(lane)
                var destination = first + lane
                var i = 0
                while i < hashSize, destination < key.count {
                    key[destination] = out[i]
                    destination += blockCount
                    i += 1
                }
            }
        }

        /// The bcrypt hash of `sha2pass` with `sha2salt(lane)` into `tmpout(lane)`, for each lane.
        func bcryptHash(lanes: Int) {
            for lane in 0..<lanes {
                let state = state(lane)
                let salt = UnsafeBufferPointer(start: sha2salt(lane), count: digestSize)
                state.reset()
                state.expandState(data: salt, key: passKey)
                EksBlowfish.keyWords(salt, into: saltKey(lane))
            }
            if lanes == 2 {
                let pair = EksBlowfishPair(state(0), state(1))
                for _ in 0..<64 {
                    pair.expand0State(key0: saltKey(0), key1: saltKey(1))
                    pair.expand0State(key0: passKey, key1: passKey)
                }
            } else {
                for lane in 0..<lanes {
                    let state = state(lane)
                    for _ in 0..<64 {
                        state.expand0State(key: saltKey(lane))
                        state.expand0State(key: passKey)
                    }
                }
            }
            for lane in 0..<lanes {
                let state = state(lane)
                let cdata = cdata(lane)
                for i in 0..<8 {
                    cdata[i] = magicWords[i]
                }
                for _ in 0..<64 {
                    state.encipher(&cdata[0], &cdata[1])
                    state.encipher(&cdata[2], &cdata[3])
                    state.encipher(&cdata[4], &cdata[5])
                    state.encipher(&cdata[6], &cdata[7])
                }
                let tmpout = tmpout(lane)
                for i in 0..<8 {
                    let word = cdata[i]
                    tmpout[4 * i] = UInt8(truncatingIfNeeded: word)
                    tmpout[4 * i + 1] = UInt8(truncatingIfNeeded: word >> 8)
                    tmpout[4 * i + 2] = UInt8(truncatingIfNeeded: word >> 16)
                    tmpout[4 * i + 3] = UInt8(truncatingIfNeeded: word >> 24)
                }
            }
        }

        /// Copies the 64 bytes of a SHA-512 digest to `destination`.
        private func store(_ digest: SHA512Digest, into destination: UnsafeMutablePointer<UInt8>) {
            var i = 0
            for byte in digest where i < digestSize {
                destination[i] = byte
                i += 1
            }
        }
    }
}
