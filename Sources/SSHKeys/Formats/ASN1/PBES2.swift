import Crypto
import CryptoExtras
import SwiftASN1

/// PKCS#5 v2 password-based encryption (PBES2 with PBKDF2, RFC 8018 section 6.2 and appendix A.4) as
/// PKCS#8 `EncryptedPrivateKeyInfo` uses it.
///
/// ```
/// PBES2-params ::= SEQUENCE { keyDerivationFunc AlgorithmIdentifier {PBKDF2}, encryptionScheme AlgorithmIdentifier }
/// PBKDF2-params ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER, keyLength INTEGER OPTIONAL,
///                              prf AlgorithmIdentifier DEFAULT hmacWithSHA1 }
/// ```
///
/// Written as OpenSSL 3 writes it: the prf is omitted when it is the default (DER forbids encoding a
/// DEFAULT value) and carries explicit NULL parameters otherwise; keyLength is omitted (the cipher fixes it).
struct PBES2Parameters: Hashable, Sendable {
    /// The pseudo-random function of PBKDF2.
    enum PRF: String, Hashable, Sendable, CaseIterable {
        case hmacWithSHA1, hmacWithSHA224, hmacWithSHA256, hmacWithSHA384, hmacWithSHA512

        var oid: ASN1ObjectIdentifier {
            switch self {
            case .hmacWithSHA1: [1, 2, 840, 113_549, 2, 7]
            case .hmacWithSHA224: [1, 2, 840, 113_549, 2, 8]
            case .hmacWithSHA256: [1, 2, 840, 113_549, 2, 9]
            case .hmacWithSHA384: [1, 2, 840, 113_549, 2, 10]
            case .hmacWithSHA512: [1, 2, 840, 113_549, 2, 11]
            }
        }

        var hashFunction: KDF.Insecure.PBKDF2.HashFunction {
            switch self {
            case .hmacWithSHA1: .insecureSHA1
            case .hmacWithSHA224: .insecureSHA224
            case .hmacWithSHA256: .sha256
            case .hmacWithSHA384: .sha384
            case .hmacWithSHA512: .sha512
            }
        }
    }

    /// The block cipher of the encryption scheme, named as OpenSSL names it.
    enum Cipher: String, Hashable, Sendable, CaseIterable {
        case aes128CBC = "aes-128-cbc"
        case aes192CBC = "aes-192-cbc"
        case aes256CBC = "aes-256-cbc"
        case desEDE3CBC = "des-ede3-cbc"

        var oid: ASN1ObjectIdentifier {
            switch self {
            case .aes128CBC: [2, 16, 840, 1, 101, 3, 4, 1, 2]
            case .aes192CBC: [2, 16, 840, 1, 101, 3, 4, 1, 22]
            case .aes256CBC: [2, 16, 840, 1, 101, 3, 4, 1, 42]
            case .desEDE3CBC: [1, 2, 840, 113_549, 3, 7]
            }
        }

        var fileCipher: KeyFileCipher {
            switch self {
            case .aes128CBC: .aes128CBC
            case .aes192CBC: .aes192CBC
            case .aes256CBC: .aes256CBC
            case .desEDE3CBC: .tripleDESCBC
            }
        }
    }

    /// The most PBKDF2 iterations we run: about 10 s of SHA-256 on a slow machine. More is refused
    /// before any work, so that a hostile file cannot hang a reader.
    static let maximumIterations = 10_000_000
    /// The iterations ``PrivateKey`` writes unless told otherwise.
    ///
    /// OpenSSL (and so `ssh-keygen -m PKCS8`) writes 2048, a count chosen in 1999 that a GPU now tries
    /// passphrases against by the billion per second. 100 000 costs about 30 ms to open the key once,
    /// OWASP's advice for PBKDF2-HMAC-SHA256 is of that order, and every reader (OpenSSL, OpenSSH through
    /// it, Go, Java) accepts it.
    static let defaultIterations = 100_000
    /// Salt lengths we accept when reading (RFC 8018 asks for at least 8; OpenSSL 3.0 writes 8).
    static let saltLengthRange = 1...1024
    /// The salt length we write.
    static let writtenSaltLength = 16

    var salt: [UInt8]
    var iterations: Int
    var prf: PRF
    var cipher: Cipher
    var iv: [UInt8]

    /// Parses the `parameters` of an `id-PBES2` AlgorithmIdentifier, checking ranges before any work.
    init(parametersNode: ASN1Node) throws(KeyError) {
        var params = try DERReader(parametersNode, "PBES2 parameters")
        var kdf = try params.sequence("key derivation function")
        let kdfOID = try kdf.objectIdentifier("key derivation algorithm")
        guard kdfOID == KeyOID.pbkdf2 else {
            if kdfOID == KeyOID.scrypt {
                throw KeyError(
                    .unsupportedKDF,
                    "PKCS#8 encryption with scrypt is not supported; re-encrypt the key with PBKDF2 (openssl pkcs8 "
                        + "-topk8 -v2 aes-256-cbc)")
            }
            throw KeyError.unsupportedKDF("\(kdfOID)")
        }
        var pbkdf2 = try kdf.sequence("PBKDF2 parameters")
        try kdf.expectEnd()
        let saltNode = try pbkdf2.next("salt")
        guard saltNode.identifier == .octetString else {
            throw KeyError(.unsupportedKDF, "PBKDF2 with a salt from another source (not an OCTET STRING) is not supported")
        }
        salt = try DERReader.octetString(saltNode, "salt", "PBKDF2 parameters")
        iterations = try pbkdf2.smallInteger("iteration count")
        let keyLength: Int? = pbkdf2.peekIdentifier == .integer ? try pbkdf2.smallInteger("key length") : nil
        if let prfNode = pbkdf2.next(ifIdentifier: .sequence) {
            var prfReader = try DERReader(prfNode, "PBKDF2 pseudo-random function")
            let prfOID = try prfReader.objectIdentifier("algorithm")
            guard let found = PRF.allCases.first(where: { $0.oid == prfOID }) else {
                throw KeyError(.unsupportedKDF, "PBKDF2 pseudo-random function \(prfOID) is not supported (hmacWithSHA1 to hmacWithSHA512 are)")
            }
            _ = try prfReader.optionalNull("parameters")
            try prfReader.expectEnd()
            prf = found
        } else {
            prf = .hmacWithSHA1
        }
        try pbkdf2.expectEnd()

        var scheme = try params.sequence("encryption scheme")
        try params.expectEnd()
        let cipherOID = try scheme.objectIdentifier("cipher")
        guard let found = Cipher.allCases.first(where: { $0.oid == cipherOID }) else {
            throw KeyError(.unsupportedCipher, "PKCS#8 cipher \(cipherOID) is not supported (aes-128/192/256-cbc and des-ede3-cbc are)")
        }
        cipher = found
        iv = try scheme.octetString("IV")
        try scheme.expectEnd()

        guard (1...Self.maximumIterations).contains(iterations) else {
            throw KeyError.invalidParameter("PBKDF2 iteration count \(iterations) is out of range (1 to \(Self.maximumIterations))")
        }
        guard Self.saltLengthRange.contains(salt.count) else {
            throw KeyError.invalidParameter(
                "PBKDF2 salt of \(salt.count) bytes is out of range (\(Self.saltLengthRange.lowerBound) to \(Self.saltLengthRange.upperBound))")
        }
        if let keyLength, keyLength != cipher.fileCipher.keyLength {
            throw KeyError.invalidParameter(
                "PBKDF2 key length \(keyLength) does not fit \(cipher.rawValue), which takes \(cipher.fileCipher.keyLength) bytes")
        }
        guard iv.count == cipher.fileCipher.ivLength else {
            throw KeyError.invalidParameter("the \(cipher.rawValue) IV is \(iv.count) bytes instead of \(cipher.fileCipher.ivLength)")
        }
    }

    /// Parameters for writing.
    init(salt: [UInt8], iterations: Int, prf: PRF, cipher: Cipher, iv: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.prf = prf
        self.cipher = cipher
        self.iv = iv
    }

    /// Fresh parameters as ``PrivateKey`` writes them: PBKDF2-HMAC-SHA256, AES-256-CBC, 16-byte salt.
    static func random(iterations: Int, using generator: inout some RandomNumberGenerator) -> PBES2Parameters {
        PBES2Parameters(
            salt: RandomBytes.make(writtenSaltLength, using: &generator), iterations: iterations, prf: .hmacWithSHA256,
            cipher: .aes256CBC, iv: RandomBytes.make(Cipher.aes256CBC.fileCipher.ivLength, using: &generator))
    }

    /// Writes the whole `AlgorithmIdentifier { id-PBES2, PBES2-params }`.
    func serializeAlgorithm(into coder: inout DER.Serializer) throws {
        try coder.serializeAlgorithm(KeyOID.pbes2) { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serializeAlgorithm(KeyOID.pbkdf2) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        try coder.serializeOctetString(salt)
                        try coder.serialize(iterations)
                        if prf != .hmacWithSHA1 {
                            try coder.serializeAlgorithm(prf.oid) { try $0.serialize(ASN1Null()) }
                        }
                    }
                }
                try coder.serializeAlgorithm(cipher.oid) { try $0.serializeOctetString(iv) }
            }
        }
    }

    /// PBKDF2 output: the cipher's key.
    func deriveKey(passphrase: [UInt8]) throws(KeyError) -> [UInt8] {
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: passphrase, salt: salt, using: prf.hashFunction, outputByteCount: cipher.fileCipher.keyLength,
                unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw KeyError.invalidParameter("PBKDF2 refused its parameters")
        }
    }

    /// Encrypts `plaintext` after PKCS#7 padding.
    func encrypt(_ plaintext: [UInt8], passphrase: [UInt8]) throws(KeyError) -> [UInt8] {
        var key = try deriveKey(passphrase: passphrase)
        defer { SecretBytes.wipe(&key) }
        var padded = BlockPadding.pkcs7Padded(plaintext, blockSize: cipher.fileCipher.blockSize)
        defer { SecretBytes.wipe(&padded) }
        return try cipher.fileCipher.encrypt(padded, key: key, iv: iv)
    }

    /// Decrypts and removes the PKCS#7 padding; bad padding is reported as a wrong passphrase.
    func decrypt(_ ciphertext: [UInt8], passphrase: [UInt8]) throws(KeyError) -> [UInt8] {
        var key = try deriveKey(passphrase: passphrase)
        defer { SecretBytes.wipe(&key) }
        var padded = try cipher.fileCipher.decrypt(ciphertext, key: key, iv: iv)
        defer { SecretBytes.wipe(&padded) }
        guard let plain = BlockPadding.pkcs7Unpadded(padded, blockSize: cipher.fileCipher.blockSize) else {
            throw KeyError.wrongPassphrase
        }
        return plain
    }
}

/// The legacy PEM encryption of OpenSSL's `PEM_write_bio_PrivateKey_traditional` (RFC 1421 headers):
///
/// ```
/// Proc-Type: 4,ENCRYPTED
/// DEK-Info: AES-128-CBC,<IV in upper-case hex>
/// ```
///
/// The key is OpenSSL's `EVP_BytesToKey` with MD5, one iteration, and the first 8 IV bytes as salt: a
/// single MD5 per passphrase guess, so this protects a key far less than PBES2 or openssh-key-v1 do.
enum LegacyPEMCipher: String, Hashable, Sendable, CaseIterable {
    case aes128CBC = "AES-128-CBC"
    case aes192CBC = "AES-192-CBC"
    case aes256CBC = "AES-256-CBC"
    case desEDE3CBC = "DES-EDE3-CBC"

    /// What `ssh-keygen -m PEM -N ...` writes.
    static let `default` = LegacyPEMCipher.aes128CBC

    /// The cipher by its DEK-Info name, compared without regard to case as OpenSSL does.
    static func named(_ name: String) throws(KeyError) -> LegacyPEMCipher {
        for cipher in allCases where cipher.rawValue.lowercased() == name.lowercased() { return cipher }
        throw KeyError(
            .unsupportedCipher,
            "PEM cipher \"\(KeyError.printable(name))\" is not supported (AES-128-CBC, AES-192-CBC, AES-256-CBC and "
                + "DES-EDE3-CBC are)")
    }

    var fileCipher: KeyFileCipher {
        switch self {
        case .aes128CBC: .aes128CBC
        case .aes192CBC: .aes192CBC
        case .aes256CBC: .aes256CBC
        case .desEDE3CBC: .tripleDESCBC
        }
    }

    /// `EVP_BytesToKey(cipher, MD5, salt = iv[0..<8], passphrase, count = 1)`, key part only:
    /// D₁ = MD5(passphrase ‖ salt), Dᵢ = MD5(Dᵢ₋₁ ‖ passphrase ‖ salt), key = D₁ ‖ D₂ ‖ … truncated.
    func deriveKey(passphrase: [UInt8], iv: [UInt8]) -> [UInt8] {
        let salt = iv.prefix(8)
        var derived: [UInt8] = []
        var previous: [UInt8] = []
        while derived.count < fileCipher.keyLength {
            var md5 = Insecure.MD5()
            md5.update(data: previous)
            md5.update(data: passphrase)
            md5.update(data: Array(salt))
            previous = Array(md5.finalize())
            derived += previous
        }
        SecretBytes.wipe(&previous)
        let key = Array(derived.prefix(fileCipher.keyLength))
        SecretBytes.wipe(&derived)
        return key
    }

    /// Encrypts `plaintext` after PKCS#7 padding.
    func encrypt(_ plaintext: [UInt8], passphrase: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        var key = deriveKey(passphrase: passphrase, iv: iv)
        defer { SecretBytes.wipe(&key) }
        var padded = BlockPadding.pkcs7Padded(plaintext, blockSize: fileCipher.blockSize)
        defer { SecretBytes.wipe(&padded) }
        return try fileCipher.encrypt(padded, key: key, iv: iv)
    }

    /// Decrypts and removes the PKCS#7 padding; bad padding is reported as a wrong passphrase.
    func decrypt(_ ciphertext: [UInt8], passphrase: [UInt8], iv: [UInt8]) throws(KeyError) -> [UInt8] {
        var key = deriveKey(passphrase: passphrase, iv: iv)
        defer { SecretBytes.wipe(&key) }
        var padded = try fileCipher.decrypt(ciphertext, key: key, iv: iv)
        defer { SecretBytes.wipe(&padded) }
        guard let plain = BlockPadding.pkcs7Unpadded(padded, blockSize: fileCipher.blockSize) else {
            throw KeyError.wrongPassphrase
        }
        return plain
    }
}
