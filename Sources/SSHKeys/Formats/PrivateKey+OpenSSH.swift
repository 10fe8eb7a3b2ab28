/// An openssh-key-v1 file (PROTOCOL.key), parsed but not decrypted.
@usableFromInline
struct OpenSSHPrivateKeyContainer: PrivateKeyContainer {
    static let header = "-----BEGIN OPENSSH PRIVATE KEY-----"
    static let footer = "-----END OPENSSH PRIVATE KEY-----"
    static let magic: [UInt8] = Array("openssh-key-v1".utf8) + [0]
    /// The cipher current OpenSSH writes (``KeyFileCipher/openSSHDefault``).
    @usableFromInline static let defaultCipher = KeyFileCipher.openSSHDefault.name
    /// The bcrypt_pbkdf rounds current OpenSSH writes.
    @usableFromInline static let defaultRounds = 24
    static let saltLength = 16

    let cipher: KeyFileCipher
    let kdfName: String
    let salt: [UInt8]
    let rounds: Int
    let publicKey: PublicKey
    /// The private section, still encrypted, followed by the authentication tag for AEAD ciphers.
    let sealed: [UInt8]

    init(text: String) throws(KeyError) {
        try self.init(blob: try PEMArmor.decode(text, label: "OPENSSH PRIVATE KEY"))
    }

    init(blob: [UInt8]) throws(KeyError) {
        var reader = WireReader(blob, context: "openssh private key")
        guard (try? reader.readBytes(count: Self.magic.count, "magic")).map(Array.init) == Self.magic else {
            throw KeyError.invalidFormat("the key does not start with \"openssh-key-v1\"")
        }
        let cipherName = try reader.readName("cipher name")
        cipher = try KeyFileCipher.named(cipherName)
        kdfName = try reader.readName("kdf name")
        var options = WireReader(try reader.readString("kdf options"), context: "kdf options")
        switch kdfName {
        case "none":
            guard cipher == .none else {
                throw KeyError.invalidFormat("the key names cipher \"\(cipherName)\" but no key derivation function")
            }
            guard options.isAtEnd else { throw KeyError.trailingData(after: "empty kdf options") }
            salt = []
            rounds = 0
        case "bcrypt":
            // OpenSSH writes and reads cipher "none" with bcrypt (ssh-keygen -Z none -N ...): the KDF is then unused.
            salt = Array(try options.readString("salt"))
            let rawRounds = try options.readUInt32("rounds")
            try options.expectEnd()
            guard !salt.isEmpty, salt.count <= 1024 else {
                throw KeyError.invalidParameter("bcrypt salt of \(salt.count) bytes is out of range (1 to 1024)")
            }
            guard rawRounds >= 1, rawRounds <= UInt32(BcryptPBKDF.maximumRounds) else {
                throw KeyError.invalidParameter("bcrypt rounds \(rawRounds) out of range (1 to \(BcryptPBKDF.maximumRounds))")
            }
            rounds = Int(rawRounds)
        default:
            throw KeyError.unsupportedKDF(kdfName)
        }
        let count = try reader.readUInt32("number of keys")
        guard count == 1 else { throw KeyError.invalidFormat("the file holds \(count) keys; exactly one is supported") }
        publicKey = try PublicKey(wireBytes: try reader.readString("public key"))
        var sealed = Array(try reader.readString("private section"))
        guard sealed.count % cipher.blockSize == 0, !sealed.isEmpty else {
            throw KeyError.invalidFormat("the private section length \(sealed.count) is not a multiple of the cipher block size \(cipher.blockSize)")
        }
        sealed += try reader.readBytes(count: cipher.authTagLength, "authentication tag")
        try reader.expectEnd("private key")
        self.sealed = sealed
    }

    var info: PrivateKeyInfo {
        PrivateKeyInfo(
            format: .openSSH, isEncrypted: cipher != .none, cipher: cipher.name, kdf: kdfName,
            kdfRounds: cipher == .none ? nil : rounds, publicKey: publicKey)
    }

    func decrypt(passphrase: [UInt8]?) throws(KeyError) -> PrivateKey {
        let encrypted = cipher != .none
        var plain: [UInt8]
        if encrypted {
            guard let passphrase else { throw KeyError.passphraseRequired }
            var derived = try BcryptPBKDF.deriveKey(
                passphrase: passphrase, salt: salt, rounds: rounds, keyLength: cipher.keyLength + cipher.ivLength)
            defer { SecretBytes.wipe(&derived) }
            plain = try cipher.decrypt(sealed, key: Array(derived[0..<cipher.keyLength]), iv: Array(derived[cipher.keyLength...]))
        } else {
            plain = sealed
        }
        defer { SecretBytes.wipe(&plain) }
        var reader = WireReader(plain, context: "private section")
        let check1 = try reader.readUInt32("check integer")
        let check2 = try reader.readUInt32("check integer")
        guard check1 == check2 else {
            throw encrypted ? KeyError.wrongPassphrase : KeyError.corrupt("the private section's check integers differ")
        }
        let name = try reader.readName("key type")
        guard let (type, isCertificate) = KeyType.named(name) else { throw KeyError.unsupportedKeyType(name) }
        guard !isCertificate else {
            throw KeyError.unsupportedOperation("private keys stored with their certificate are not supported")
        }
        let material = try PrivateKey.Material.readOpenSSH(type: type, from: &reader)
        // Any bytes, as OpenSSH keeps them; the key shows them escaped when they are not acceptable text.
        let comment = Array(try reader.readString("comment"))
        guard BlockPadding.isOpenSSHPadding(try reader.readBytes(count: reader.remaining, "padding")) else {
            throw KeyError.corrupt("the private section's padding is wrong")
        }
        guard material.publicMaterial.wireBytes == publicKey.wireBytes else {
            throw KeyError.corrupt("the private key does not match the public key stored beside it")
        }
        return try PrivateKey(material: material, commentBytes: comment)
    }
}

extension PrivateKey.Material {
    /// Reads the private fields of openssh-key-v1 (`sshkey_private_serialize` order).
    static func readOpenSSH(type: KeyType, from reader: inout WireReader) throws(KeyError) -> Self {
        switch type {
        case .ed25519:
            let publicKey = Array(try reader.readString("ed25519 public key"))
            let secret = Array(try reader.readString("ed25519 secret key"))
            guard publicKey.count == 32, secret.count == 64, Array(secret[32...]) == publicKey else {
                throw KeyError.corrupt("the ed25519 secret key is malformed")
            }
            return .ed25519(seed: Array(secret[0..<32]), publicKey: publicKey)
        case .ecdsa(let curve):
            let curveName = try reader.readName("curve name")
            guard curveName == curve.rawValue else { throw KeyError.typeMismatch(outer: curve.keyTypeName, inner: "ecdsa-sha2-\(curveName)") }
            let point = Array(try reader.readString("ecdsa point"))
            let scalar = try reader.readPositiveMPInt("ecdsa private scalar", maxBits: curve.bits)
            return .ecdsa(curve: curve, scalar: paddedScalar(scalar, curve: curve), point: point)
        case .rsa:
            let n = try reader.readPositiveMPInt("rsa n")
            let e = try reader.readPositiveMPInt("rsa e")
            let d = try reader.readPositiveMPInt("rsa d")
            let iqmp = try reader.readPositiveMPInt("rsa iqmp")
            let p = try reader.readPositiveMPInt("rsa p")
            let q = try reader.readPositiveMPInt("rsa q")
            return .rsa(PrivateKey.RSANumbers(n: n, e: e, d: d, iqmp: iqmp, p: p, q: q))
        case .dsa:
            let p = try reader.readPositiveMPInt("dsa p")
            let q = try reader.readPositiveMPInt("dsa q")
            let g = try reader.readPositiveMPInt("dsa g")
            let y = try reader.readPositiveMPInt("dsa y")
            let x = try reader.readPositiveMPInt("dsa x")
            return .dsa(p: p, q: q, g: g, y: y, x: x)
        case .skEd25519:
            let publicKey = Array(try reader.readString("ed25519 public key"))
            let application = try reader.readText("application")
            let flags = try reader.readByte("flags")
            let handle = Array(try reader.readString("key handle"))
            let reserved = Array(try reader.readString("reserved"))
            return .skEd25519(publicKey: publicKey, application: application, flags: flags, keyHandle: handle, reserved: reserved)
        case .skECDSA:
            let curveName = try reader.readName("curve name")
            guard curveName == ECDSACurve.nistp256.rawValue else { throw KeyError.typeMismatch(outer: KeyType.skECDSA.name, inner: curveName) }
            let point = Array(try reader.readString("ecdsa point"))
            let application = try reader.readText("application")
            let flags = try reader.readByte("flags")
            let handle = Array(try reader.readString("key handle"))
            let reserved = Array(try reader.readString("reserved"))
            return .skECDSA(point: point, application: application, flags: flags, keyHandle: handle, reserved: reserved)
        }
    }

    /// Writes the private fields of openssh-key-v1.
    func writeOpenSSH(to writer: inout WireWriter) {
        switch self {
        case .ed25519(let seed, let publicKey):
            writer.writeString(publicKey)
            writer.writeString(seed + publicKey)
        case .ecdsa(let curve, let scalar, let point):
            writer.writeString(curve.rawValue)
            writer.writeString(point)
            writer.writePositiveMPInt(scalar)
        case .rsa(let numbers):
            for value in [numbers.n, numbers.e, numbers.d, numbers.iqmp, numbers.p, numbers.q] { writer.writePositiveMPInt(value) }
        case .dsa(let p, let q, let g, let y, let x):
            for value in [p, q, g, y, x] { writer.writePositiveMPInt(value) }
        case .skEd25519(let publicKey, let application, let flags, let handle, let reserved):
            writer.writeString(publicKey)
            writer.writeString(application)
            writer.writeByte(flags)
            writer.writeString(handle)
            writer.writeString(reserved)
        case .skECDSA(let point, let application, let flags, let handle, let reserved):
            writer.writeString(ECDSACurve.nistp256.rawValue)
            writer.writeString(point)
            writer.writeString(application)
            writer.writeByte(flags)
            writer.writeString(handle)
            writer.writeString(reserved)
        }
    }
}

extension PrivateKey {
    /// The openssh-key-v1 file text, as `ssh-keygen` writes it: unencrypted with cipher and KDF `none`, or
    /// with bcrypt_pbkdf and `cipher`. `generator` supplies the check integer and the salt.
    public func openSSHText(
        passphrase: [UInt8]?, cipher cipherName: String = OpenSSHPrivateKeyContainer.defaultCipher,
        rounds: Int = OpenSSHPrivateKeyContainer.defaultRounds,
        using generator: inout some RandomNumberGenerator
    ) throws(KeyError) -> String {
        let checkInteger = UInt32.random(in: .min ... .max, using: &generator)
        let salt = RandomBytes.make(OpenSSHPrivateKeyContainer.saltLength, using: &generator)
        return try openSSHText(passphrase: passphrase, cipher: cipherName, rounds: rounds, checkInteger: checkInteger, salt: salt)
    }

    /// The openssh-key-v1 file text with a given check integer and salt (for reproducing a file exactly).
    func openSSHText(passphrase: [UInt8]?, cipher cipherName: String, rounds: Int, checkInteger: UInt32, salt: [UInt8]) throws(KeyError) -> String {
        let cipher = passphrase == nil ? KeyFileCipher.none : try KeyFileCipher.named(cipherName)
        if passphrase != nil, cipher == .none { throw KeyError.unsupportedCipher("none (with a passphrase)") }

        var section = WireWriter(capacity: 256)
        section.writeUInt32(checkInteger)
        section.writeUInt32(checkInteger)
        section.writeString(type.name)
        material.writeOpenSSH(to: &section)
        section.writeString(commentBytes)
        var plain = BlockPadding.openSSHPadded(section.bytes, blockSize: cipher.blockSize)
        defer { SecretBytes.wipe(&plain) }

        var blob = WireWriter(capacity: plain.count + 256)
        blob.writeRaw(OpenSSHPrivateKeyContainer.magic)
        blob.writeString(cipher.name)
        let sealed: [UInt8]
        if let passphrase {
            blob.writeString("bcrypt")
            blob.writeNested { options in
                options.writeString(salt)
                options.writeUInt32(UInt32(clamping: rounds))
            }
            var derived = try BcryptPBKDF.deriveKey(passphrase: passphrase, salt: salt, rounds: rounds, keyLength: cipher.keyLength + cipher.ivLength)
            defer { SecretBytes.wipe(&derived) }
            sealed = try cipher.encrypt(plain, key: Array(derived[0..<cipher.keyLength]), iv: Array(derived[cipher.keyLength...]))
        } else {
            blob.writeString("none")
            blob.writeString([UInt8]())
            sealed = plain
        }
        blob.writeUInt32(1)
        blob.writeString(publicKey.wireBytes)
        blob.writeString(sealed[0..<(sealed.count - cipher.authTagLength)])
        blob.writeRaw(sealed[(sealed.count - cipher.authTagLength)...])
        return PEMArmor.encode(blob.bytes, label: "OPENSSH PRIVATE KEY", lineLength: 70)
    }
}
