import Crypto
import CryptoExtras

/// A symmetric cipher that encrypts the private part of a key file, named as OpenSSH names it.
///
/// The lengths are the ones OpenSSH's `cipher.c` gives each cipher (`cipher_keylen`, `cipher_ivlen`,
/// `cipher_blocksize`, `cipher_authlen`), so a key file reader derives `keyLength + ivLength` bytes from
/// its KDF, takes the key first and the IV after it, and checks that the encrypted section is a whole
/// number of `blockSize` blocks followed by `authTagLength` bytes of tag.
///
/// Key files are encrypted as OpenSSH's `sshkey_private_to_blob2` does: one message, packet sequence
/// number 0, no additional authenticated data.
///
/// Only the authenticated ciphers can tell a wrong passphrase by themselves: for the others, decryption
/// always "succeeds" and the caller checks the plaintext (the two check integers of openssh-key-v1, the
/// padding of PEM and PKCS#8).
struct KeyFileCipher: Hashable, Sendable {
    /// How the cipher works; the lengths live in the value itself.
    enum Algorithm: Hashable, Sendable {
        /// No encryption: `none`.
        case none
        /// AES in counter mode with a 128-bit big-endian counter block (the IV).
        case aesCTR
        /// AES in CBC mode without padding.
        case aesCBC
        /// AES-GCM with a 12-byte nonce and a 16-byte tag (RFC 5647 as OpenSSH runs it).
        case aesGCM
        /// OpenSSH's ChaCha20-Poly1305 (`PROTOCOL.chacha20poly1305`).
        case chaCha20Poly1305
        /// Triple DES (EDE, three keys) in CBC mode without padding.
        case tripleDESCBC
    }

    /// The name OpenSSH writes in the key file and accepts after `ssh-keygen -Z`.
    let name: String
    /// How the cipher works.
    let algorithm: Algorithm
    /// Bytes of key the KDF derives first.
    let keyLength: Int
    /// Bytes of IV the KDF derives after the key (OpenSSH's `cipher_ivlen`: the block size unless set).
    let ivLength: Int
    /// The encrypted data (without tag) must be a whole number of these.
    let blockSize: Int
    /// Bytes of authentication tag that follow the ciphertext; 0 for unauthenticated ciphers.
    let authTagLength: Int

    /// Whether the cipher authenticates what it decrypts, so that a wrong key is detected by ``decrypt(_:key:iv:)``.
    var isAuthenticated: Bool { authTagLength > 0 }

    /// No encryption.
    ///
    /// OpenSSH reports an IV length of 8 (its block size) for `none` and derives those bytes when a key is
    /// written with a passphrase and `-Z none`, but never uses them: ``encrypt(_:key:iv:)`` and
    /// ``decrypt(_:key:iv:)`` ignore `key` and `iv` for this cipher.
    static let none = KeyFileCipher("none", .none, keyLength: 0, ivLength: 8, blockSize: 8, authTagLength: 0)
    /// `aes128-ctr`.
    static let aes128CTR = KeyFileCipher(
        "aes128-ctr", .aesCTR, keyLength: 16, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes192-ctr`.
    static let aes192CTR = KeyFileCipher(
        "aes192-ctr", .aesCTR, keyLength: 24, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes256-ctr`, the cipher `ssh-keygen` uses unless told otherwise.
    static let aes256CTR = KeyFileCipher(
        "aes256-ctr", .aesCTR, keyLength: 32, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes128-cbc`.
    static let aes128CBC = KeyFileCipher(
        "aes128-cbc", .aesCBC, keyLength: 16, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes192-cbc`.
    static let aes192CBC = KeyFileCipher(
        "aes192-cbc", .aesCBC, keyLength: 24, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes256-cbc`.
    static let aes256CBC = KeyFileCipher(
        "aes256-cbc", .aesCBC, keyLength: 32, ivLength: 16, blockSize: 16, authTagLength: 0)
    /// `aes128-gcm@openssh.com`: the 12-byte IV is the GCM nonce.
    static let aes128GCM = KeyFileCipher(
        "aes128-gcm@openssh.com", .aesGCM, keyLength: 16, ivLength: 12, blockSize: 16, authTagLength: 16)
    /// `aes256-gcm@openssh.com`: the 12-byte IV is the GCM nonce.
    static let aes256GCM = KeyFileCipher(
        "aes256-gcm@openssh.com", .aesGCM, keyLength: 32, ivLength: 12, blockSize: 16, authTagLength: 16)
    /// `chacha20-poly1305@openssh.com`: a 64-byte key and no IV.
    ///
    /// Only the first 32 bytes of the key (`K_2` in `PROTOCOL.chacha20poly1305`, the "main" key in OpenSSH's
    /// `cipher-chachapoly.c`) are used: the second half only ever encrypts SSH packet lengths, which a key
    /// file does not have.
    static let chaCha20Poly1305 = KeyFileCipher(
        "chacha20-poly1305@openssh.com", .chaCha20Poly1305,
        keyLength: 64, ivLength: 0, blockSize: 8, authTagLength: 16)
    /// `3des-cbc`: three-key triple DES (EDE) in CBC mode.
    static let tripleDESCBC = KeyFileCipher(
        "3des-cbc", .tripleDESCBC, keyLength: 24, ivLength: 8, blockSize: 8, authTagLength: 0)

    /// Every cipher, in the order OpenSSH lists them, `none` last.
    static let all: [KeyFileCipher] = [
        .tripleDESCBC, .aes128CBC, .aes192CBC, .aes256CBC, .aes128CTR, .aes192CTR, .aes256CTR,
        .aes128GCM, .aes256GCM, .chaCha20Poly1305, .none,
    ]

    /// The names of ``all``.
    static var names: [String] { all.map(\.name) }

    /// The cipher `ssh-keygen` uses for a new passphrase-protected key.
    static let openSSHDefault = aes256CTR

    private init(
        _ name: String, _ algorithm: Algorithm, keyLength: Int, ivLength: Int, blockSize: Int, authTagLength: Int
    ) {
        self.name = name
        self.algorithm = algorithm
        self.keyLength = keyLength
        self.ivLength = ivLength
        self.blockSize = blockSize
        self.authTagLength = authTagLength
    }

    /// The cipher OpenSSH calls `name` (compared exactly, as OpenSSH does).
    ///
    /// - Throws: ``KeyError/Code/unsupportedCipher`` for any other name.
    static func named(_ name: String) throws(KeyError) -> KeyFileCipher {
        for cipher in all where cipher.name == name { return cipher }
        throw KeyError.unsupportedCipher(name)
    }
}

// MARK: - Encrypting and decrypting

extension KeyFileCipher {
    /// Encrypts `plaintext`, which must already be padded to a whole number of ``blockSize`` blocks.
    ///
    /// - Returns: the ciphertext, followed for authenticated ciphers by the ``authTagLength``-byte tag.
    /// - Throws: ``KeyError/Code/invalidFormat`` when `plaintext` is not a whole number of blocks;
    ///   ``KeyError/Code/invalidParameter`` when `key` or `iv` has the wrong length.
    func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        try checkBlocks(plaintext.count, "plaintext")
        if algorithm == .none { return plaintext }
        try checkKeyAndIV(key: key, iv: iv)
        switch algorithm {
        case .none:
            return plaintext
        case .aesCTR:
            return try Self.aesCTR(plaintext, key: key, iv: iv)
        case .aesCBC:
            return try Self.aesCBC(plaintext, key: key, iv: iv, encrypt: true)
        case .aesGCM:
            return try Self.aesGCMSeal(plaintext, key: key, nonce: iv)
        case .chaCha20Poly1305:
            return try Self.chaChaPolySeal(plaintext, key: key)
        case .tripleDESCBC:
            return try TripleDES.cbcEncrypt(plaintext, key: key, iv: iv)
        }
    }

    /// Decrypts `ciphertext` (followed, for authenticated ciphers, by the tag).
    ///
    /// For the authenticated ciphers (`aes*-gcm@openssh.com`, `chacha20-poly1305@openssh.com`) the tag is
    /// checked, in constant time, before anything is returned. In an openssh-key-v1 file a tag that does not
    /// verify means either a wrong passphrase or an altered file, and the two cannot be told apart; like
    /// OpenSSH this reports the likelier one, ``KeyError/Code/wrongPassphrase``. The other ciphers cannot
    /// detect a wrong key: the caller must check the plaintext.
    ///
    /// - Throws: ``KeyError/Code/wrongPassphrase`` when the tag does not verify;
    ///   ``KeyError/Code/truncated`` when the input is shorter than the tag;
    ///   ``KeyError/Code/invalidFormat`` when the ciphertext is not a whole number of blocks;
    ///   ``KeyError/Code/invalidParameter`` when `key` or `iv` has the wrong length.
    func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        guard ciphertext.count >= authTagLength else {
            throw KeyError.truncated("data encrypted with \(name)")
        }
        let payloadCount = ciphertext.count - authTagLength
        try checkBlocks(payloadCount, "ciphertext")
        if algorithm == .none { return ciphertext }
        try checkKeyAndIV(key: key, iv: iv)
        switch algorithm {
        case .none:
            return ciphertext
        case .aesCTR:
            return try Self.aesCTR(ciphertext, key: key, iv: iv)
        case .aesCBC:
            return try Self.aesCBC(ciphertext, key: key, iv: iv, encrypt: false)
        case .aesGCM:
            return try Self.aesGCMOpen(
                ciphertext[..<payloadCount], tag: ciphertext[payloadCount...], key: key, nonce: iv)
        case .chaCha20Poly1305:
            return try Self.chaChaPolyOpen(ciphertext[..<payloadCount], tag: ciphertext[payloadCount...], key: key)
        case .tripleDESCBC:
            return try TripleDES.cbcDecrypt(ciphertext, key: key, iv: iv)
        }
    }

    private func checkBlocks(_ count: Int, _ what: String) throws(KeyError) {
        guard count % blockSize == 0 else {
            throw KeyError.invalidFormat(
                "the \(what) for \(name) is \(count) bytes, not a multiple of its \(blockSize)-byte block size")
        }
    }

    private func checkKeyAndIV(key: [UInt8], iv: [UInt8]) throws(KeyError) {
        guard key.count == keyLength else {
            throw KeyError.invalidParameter("\(name) needs a \(keyLength)-byte key, not \(key.count) bytes")
        }
        guard iv.count == ivLength else {
            throw KeyError.invalidParameter("\(name) needs a \(ivLength)-byte IV, not \(iv.count) bytes")
        }
    }
}

// MARK: - AES through swift-crypto

extension KeyFileCipher {
    private static func aesCTR(_ input: [UInt8], key: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        if input.isEmpty { return [] }
        do {
            let nonce = try AES._CTR.Nonce(nonceBytes: iv)
            return Array(try AES._CTR.encrypt(input, using: SymmetricKey(data: key), nonce: nonce))
        } catch {
            throw KeyError.invalidParameter("AES-CTR refused its key or counter block")
        }
    }

    private static func aesCBC(_ input: [UInt8], key: [UInt8], iv: [UInt8], encrypt: Bool) throws(KeyError) -> [UInt8] {
        if input.isEmpty { return [] }
        do {
            let cbcIV = try AES._CBC.IV(ivBytes: iv)
            let symmetricKey = SymmetricKey(data: key)
            if encrypt {
                return Array(try AES._CBC.encrypt(input, using: symmetricKey, iv: cbcIV, noPadding: true))
            } else {
                return Array(try AES._CBC.decrypt(input, using: symmetricKey, iv: cbcIV, noPadding: true))
            }
        } catch {
            throw KeyError.invalidParameter("AES-CBC refused its key or IV")
        }
    }

    private static func aesGCMSeal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]) throws(KeyError) -> [UInt8] {
        do {
            let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce))
            return Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw KeyError.invalidParameter("AES-GCM refused its key or nonce")
        }
    }

    private static func aesGCMOpen(
        _ ciphertext: ArraySlice<UInt8>, tag: ArraySlice<UInt8>, key: [UInt8], nonce: [UInt8]
    ) throws(KeyError) -> [UInt8] {
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: ciphertext, tag: tag)
        } catch {
            throw KeyError.invalidParameter("AES-GCM refused its nonce or tag")
        }
        do {
            return Array(try AES.GCM.open(box, using: SymmetricKey(data: key)))
        } catch {
            // Authentication failure is the only error left once the box is well formed.
            throw KeyError.wrongPassphrase
        }
    }
}

// MARK: - chacha20-poly1305@openssh.com

extension KeyFileCipher {
    /// Sequence number 0 as the 8-byte ChaCha20 nonce (SSH encodes it as a big-endian uint64).
    private static let keyFileNonce = [UInt8](repeating: 0, count: 8)

    /// The Poly1305 key: the first 32 bytes of keystream block 0.
    private static func poly1305Key(mainKey: ArraySlice<UInt8>) throws(KeyError) -> [UInt8] {
        let zeros = [UInt8](repeating: 0, count: Poly1305.keyLength)
        return try ChaCha20.xor(zeros, key: mainKey, nonce: keyFileNonce, counter: 0)
    }

    private static func chaChaPolySeal(_ plaintext: [UInt8], key: [UInt8]) throws(KeyError) -> [UInt8] {
        let mainKey = key[0..<32]
        var polyKey = try poly1305Key(mainKey: mainKey)
        defer { SecretBytes.wipe(&polyKey) }
        let ciphertext = try ChaCha20.xor(plaintext, key: mainKey, nonce: keyFileNonce, counter: 1)
        let tag = try Poly1305.authenticate(ciphertext, key: polyKey)
        return ciphertext + tag
    }

    private static func chaChaPolyOpen(
        _ ciphertext: ArraySlice<UInt8>, tag: ArraySlice<UInt8>, key: [UInt8]
    ) throws(KeyError) -> [UInt8] {
        let mainKey = key[0..<32]
        var polyKey = try poly1305Key(mainKey: mainKey)
        defer { SecretBytes.wipe(&polyKey) }
        let expected = try Poly1305.authenticate(Array(ciphertext), key: polyKey)
        guard Poly1305.constantTimeEqual(expected, tag) else { throw KeyError.wrongPassphrase }
        return try ChaCha20.xor(Array(ciphertext), key: mainKey, nonce: keyFileNonce, counter: 1)
    }
}

// MARK: - ChaCha20 with a 64-bit nonce

/// The original ChaCha20 (Bernstein's, as OpenSSH uses it): a 64-bit block counter in state words 12 and 13
/// and a 64-bit nonce in words 14 and 15, built on swift-crypto's RFC 8439 ChaCha20.
///
/// RFC 8439 puts a 32-bit counter in word 12 and a 96-bit nonce in words 13 to 15, so the original layout
/// maps onto it as: RFC counter = low half of the counter; RFC nonce = high half of the counter
/// (little-endian) followed by the 8 nonce bytes. Where the low half would wrap, the input is split so that
/// the carry reaches the high half as in the original.
enum ChaCha20 {
    /// XORs `input` with the keystream for `key` (32 bytes) and `nonce` (8 bytes), starting at block `counter`.
    ///
    /// - Throws: ``KeyError/Code/invalidParameter`` when the key or nonce has the wrong length.
    static func xor(
        _ input: [UInt8], key: some Collection<UInt8>, nonce: [UInt8], counter: UInt64
    ) throws(KeyError) -> [UInt8] {
        guard key.count == 32, nonce.count == 8 else {
            throw KeyError.invalidParameter("ChaCha20 needs a 32-byte key and an 8-byte nonce")
        }
        var keyBytes = Array(key)
        let symmetricKey = SymmetricKey(data: keyBytes)
        SecretBytes.wipe(&keyBytes)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var blockCounter = counter
        var offset = 0
        while offset < input.count {
            let low = UInt32(truncatingIfNeeded: blockCounter)
            let high = UInt32(truncatingIfNeeded: blockCounter >> 32)
            // Blocks left before the low half wraps: 2^32 - low, at least 1.
            let blocksBeforeWrap = (UInt64(1) << 32) - UInt64(low)
            let remaining = input.count - offset
            let segment: Int
            if UInt64(remaining) <= blocksBeforeWrap &* 64 {
                segment = remaining
            } else {
                segment = Int(blocksBeforeWrap) * 64
            }
            let rfcNonce: [UInt8] =
                [
                    UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8),
                    UInt8(truncatingIfNeeded: high >> 16), UInt8(truncatingIfNeeded: high >> 24),
                ] + nonce
            do {
                let piece = try Insecure.ChaCha20CTR.encrypt(
                    input[offset..<offset + segment],
                    using: symmetricKey,
                    counter: Insecure.ChaCha20CTR.Counter(offset: low),
                    nonce: Insecure.ChaCha20CTR.Nonce(data: rfcNonce))
                output.append(contentsOf: piece)
            } catch {
                throw KeyError.invalidParameter("ChaCha20 refused its key or nonce")
            }
            offset += segment
            blockCounter = blockCounter &+ UInt64(segment / 64)
        }
        return output
    }
}

// MARK: - Wiping secrets

/// Overwrites secret bytes (keys, key schedules, MAC keys) with zeros before their memory is released.
enum SecretBytes {
    /// Sets every element of `buffer` to zero, in a way the optimiser does not remove.
    @inline(never)
    @_optimize(none)
    static func wipe<Element: FixedWidthInteger>(_ buffer: inout [Element]) {
        buffer.withUnsafeMutableBytes { raw in
            for index in raw.indices { raw[index] = 0 }
        }
    }
}
