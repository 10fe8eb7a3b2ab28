/// A PEM private key file, parsed but not decrypted: traditional `RSA PRIVATE KEY`, `EC PRIVATE KEY` or
/// `DSA PRIVATE KEY` (plain or with legacy `Proc-Type`/`DEK-Info` encryption), PKCS#8 `PRIVATE KEY`, or
/// PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2 with PBKDF2).
///
/// Structure errors (armour, headers, DER outside the encryption, KDF parameters out of range) are thrown
/// here, naming the field; an unencrypted key is fully read and checked here too. After decryption, bad
/// padding or bytes that are not DER can only mean a wrong passphrase (the format has no check value), and
/// are reported as one.
struct PEMPrivateKeyContainer: PrivateKeyContainer {
    /// What the file holds.
    enum Content: Sendable {
        /// An unencrypted key, already read and checked.
        case plain(PrivateKey, format: PrivateKeyFormat)
        /// A traditional structure under legacy PEM encryption.
        case legacy(PrivateKeyDER.Traditional, cipherName: String, cipher: LegacyPEMCipher, iv: [UInt8], ciphertext: [UInt8])
        /// PKCS#8 `EncryptedPrivateKeyInfo` with PBES2.
        case pbes2(PBES2Parameters, ciphertext: [UInt8])
    }

    let content: Content

    init(text: String) throws(KeyError) {
        let block = try PEMArmor.parse(Self.privateKeyBlock(in: text))
        if let kind = PrivateKeyDER.Traditional(rawValue: block.label) {
            content = try Self.traditional(kind, block)
            return
        }
        switch block.label {
        case PrivateKeyDER.pkcs8Label:
            try Self.expectNoHeaders(block)
            content = .plain(try PrivateKeyDER.readPKCS8(block.body), format: .pkcs8)
        case PrivateKeyDER.encryptedPKCS8Label:
            try Self.expectNoHeaders(block)
            content = try Self.encryptedPKCS8(block.body)
        case "PUBLIC KEY", "RSA PUBLIC KEY", "SSH2 PUBLIC KEY", "OPENSSH PUBLIC KEY":
            throw KeyError.invalidFormat("this is a public key (\"\(block.label)\"), not a private key")
        case "SSH2 ENCRYPTED PRIVATE KEY":
            throw KeyError(.unsupportedKeyType, "ssh.com (SSH2) private keys are not supported; convert them with ssh-keygen -i")
        default:
            throw KeyError.invalidFormat(
                "unknown PEM block \"\(KeyError.printable(block.label))\" (expected RSA, EC or DSA PRIVATE KEY, PRIVATE "
                    + "KEY or ENCRYPTED PRIVATE KEY)")
        }
    }

    /// The labels of the blocks OpenSSL reads a private key from.
    static let privateKeyLabels: Set<String> = Set(PrivateKeyDER.Traditional.allCases.map(\.label))
        .union([PrivateKeyDER.pkcs8Label, PrivateKeyDER.encryptedPKCS8Label])

    /// The first private key block of `text`, from its `-----BEGIN` line to its `-----END` line, as OpenSSL's
    /// `PEM_read_bio_PrivateKey` (so ssh-keygen) finds it: any text before it (what `openssl rsa -text` prints, an
    /// `EC PARAMETERS` block) and after it (what `openssl pkey -text` prints) is not part of the key. Without such
    /// a block, `text` itself, for the armour parser to say what is wrong with it.
    static func privateKeyBlock(in text: String) -> String {
        // "\r\n" is one Character: split on it as on "\n", as the armour parser does.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { $0.trimmingBlanks(leading: false, trailingCR: true) }
        guard
            let begin = lines.firstIndex(where: { line in
                line.hasPrefix("-----BEGIN ") && line.hasSuffix("-----") && privateKeyLabels.contains(String(line.dropFirst(11).dropLast(5)))
            })
        else { return text }
        let footer = "-----END " + lines[begin].dropFirst(11)
        let end = lines[begin...].firstIndex { $0 == footer } ?? lines.count - 1
        return lines[begin...end].joined(separator: "\n") + "\n"
    }

    /// Whether `text` holds a private key block OpenSSL would find, but not at its start (after other text).
    static func hasPrivateKeyBlockAfterText(_ text: String) -> Bool {
        let block = privateKeyBlock(in: text)
        guard block != text, let beginLine = block.split(separator: "\n").first else { return false }
        return !text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }.hasPrefix(beginLine)
    }

    private static func expectNoHeaders(_ block: PEMArmor.Block) throws(KeyError) {
        if let first = block.headers.first {
            throw KeyError.invalidFormat("unexpected header \"\(KeyError.printable(first.name))\" in a \(block.label) block")
        }
    }

    private static func traditional(_ kind: PrivateKeyDER.Traditional, _ block: PEMArmor.Block) throws(KeyError) -> Content {
        if block.headers.isEmpty {
            return .plain(try PrivateKeyDER.readTraditionalOrPKCS8(kind, block.body), format: .pem)
        }
        guard block.headers.count == 2, block.headers[0].name.lowercased() == "proc-type",
            block.headers[1].name.lowercased() == "dek-info"
        else {
            throw KeyError.invalidFormat("the \(kind.label) headers are not \"Proc-Type: 4,ENCRYPTED\" followed by \"DEK-Info\"")
        }
        guard block.headers[0].value.replacing(" ", with: "") == "4,ENCRYPTED" else {
            throw KeyError.invalidFormat("Proc-Type \"\(KeyError.printable(block.headers[0].value))\" is not \"4,ENCRYPTED\"")
        }
        let dekInfo = block.headers[1].value
        guard let comma = dekInfo.firstIndex(of: ",") else {
            throw KeyError.invalidFormat("DEK-Info \"\(KeyError.printable(dekInfo))\" is not \"CIPHER,IV\"")
        }
        let cipherName = String(dekInfo[..<comma].trimmingBlanks())
        let cipher = try LegacyPEMCipher.named(cipherName)
        guard let iv = Hex.decode(String(dekInfo[dekInfo.index(after: comma)...].trimmingBlanks())),
            iv.count == cipher.fileCipher.ivLength
        else {
            throw KeyError.invalidFormat("the DEK-Info IV is not \(cipher.fileCipher.ivLength) bytes of hex")
        }
        let blockSize = cipher.fileCipher.blockSize
        guard !block.body.isEmpty else { throw KeyError.truncated("the encrypted \(kind.label) body") }
        guard block.body.count % blockSize == 0 else {
            throw KeyError.invalidFormat(
                "the encrypted \(kind.label) body is \(block.body.count) bytes, not a multiple of the \(blockSize)-byte block of \(cipher.rawValue)")
        }
        return .legacy(kind, cipherName: cipherName, cipher: cipher, iv: iv, ciphertext: block.body)
    }

    /// `EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedData OCTET STRING }`.
    private static func encryptedPKCS8(_ der: [UInt8]) throws(KeyError) -> Content {
        var reader = try DERReader(parsing: der, "PKCS#8 encrypted private key")
        var algorithm = try reader.sequence("encryption algorithm")
        let oid = try algorithm.objectIdentifier("algorithm")
        guard oid == KeyOID.pbes2 else {
            if let name = KeyOID.pbes1[oid] {
                throw KeyError(
                    .unsupportedCipher,
                    "PKCS#8 encryption \(name) (PBES1) is not supported; re-encrypt with PBES2 (openssl pkcs8 "
                        + "-topk8 -v2 aes-256-cbc)")
            }
            throw KeyError(.unsupportedCipher, "PKCS#8 encryption scheme \(oid) is not supported (PBES2 is)")
        }
        let parameters = try PBES2Parameters(parametersNode: try algorithm.next("PBES2 parameters"))
        try algorithm.expectEnd()
        let ciphertext = try reader.octetString("encrypted data")
        try reader.expectEnd()
        let blockSize = parameters.cipher.fileCipher.blockSize
        guard !ciphertext.isEmpty, ciphertext.count % blockSize == 0 else {
            throw KeyError.invalidFormat(
                "the PKCS#8 encrypted data is \(ciphertext.count) bytes, not a positive multiple of the \(blockSize)-byte "
                    + "block of \(parameters.cipher.rawValue)")
        }
        return .pbes2(parameters, ciphertext: ciphertext)
    }

    var info: PrivateKeyInfo {
        switch content {
        case .plain(_, let format):
            PrivateKeyInfo(format: format, isEncrypted: false)
        case .legacy(_, let cipherName, _, _, _):
            PrivateKeyInfo(
                format: .pem, isEncrypted: true, cipher: cipherName, kdf: "EVP_BytesToKey", kdfRounds: 1,
                kdfParameters: ["digest": "MD5"])
        case .pbes2(let parameters, _):
            PrivateKeyInfo(
                format: .pkcs8, isEncrypted: true, cipher: parameters.cipher.rawValue, kdf: "PBKDF2",
                kdfRounds: parameters.iterations, kdfParameters: ["prf": parameters.prf.rawValue])
        }
    }

    func decrypt(passphrase: [UInt8]?) throws(KeyError) -> PrivateKey {
        switch content {
        case .plain(let key, _):
            return key
        case .legacy(let kind, _, let cipher, let iv, let ciphertext):
            guard let passphrase else { throw KeyError.passphraseRequired }
            var plain = try cipher.decrypt(ciphertext, passphrase: passphrase, iv: iv)
            defer { SecretBytes.wipe(&plain) }
            try Self.expectDER(plain)
            return try PrivateKeyDER.readTraditionalOrPKCS8(kind, plain)
        case .pbes2(let parameters, let ciphertext):
            guard let passphrase else { throw KeyError.passphraseRequired }
            var plain = try parameters.decrypt(ciphertext, passphrase: passphrase)
            defer { SecretBytes.wipe(&plain) }
            try Self.expectDER(plain)
            return try PrivateKeyDER.readPKCS8(plain)
        }
    }

    /// Decrypted bytes that are not one DER SEQUENCE mean the key (so the passphrase) was wrong.
    private static func expectDER(_ plain: [UInt8]) throws(KeyError) {
        guard plain.first == 0x30, (try? DERReader.parse(plain, "decrypted key")) != nil else {
            throw KeyError.wrongPassphrase
        }
    }

    /// The PBES2 parameters of an encrypted PKCS#8 file (for tests that re-encrypt with the same salt and IV).
    var pbes2Parameters: PBES2Parameters? {
        if case .pbes2(let parameters, _) = content { return parameters }
        return nil
    }

    /// The cipher and IV of a legacy encrypted PEM file (for tests that re-encrypt with the same IV).
    var legacyEncryption: (cipher: LegacyPEMCipher, iv: [UInt8])? {
        if case .legacy(_, _, let cipher, let iv, _) = content { return (cipher, iv) }
        return nil
    }
}

extension PrivateKey {
    /// Traditional PEM: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`, as `ssh-keygen -m PEM` writes.
    ///
    /// With a passphrase the DER is encrypted with legacy PEM encryption under `cipher` (`AES-128-CBC` unless
    /// given, as OpenSSH writes; also `AES-192-CBC`, `AES-256-CBC`, `DES-EDE3-CBC`) and a random IV. That
    /// encryption derives its key with one MD5, so PKCS#8 or openssh-key-v1 protect a key far better.
    ///
    /// - Throws: ``KeyError/Code/unsupportedOperation`` for Ed25519 (PEM has no form for it), DSA and FIDO
    ///   keys; ``KeyError/Code/unsupportedCipher`` for another cipher name.
    func pemText(passphrase: [UInt8]?, cipher: String?) throws(KeyError) -> String {
        let legacyCipher = try cipher.map { (name: String) throws(KeyError) in try LegacyPEMCipher.named(name) } ?? .default
        var generator = SystemRandomNumberGenerator()
        let iv = RandomBytes.make(legacyCipher.fileCipher.ivLength, using: &generator)
        return try pemText(passphrase: passphrase, cipher: legacyCipher, iv: iv)
    }

    /// Traditional PEM with a given IV (which is also the salt of the key derivation).
    func pemText(passphrase: [UInt8]?, cipher: LegacyPEMCipher, iv: [UInt8]) throws(KeyError) -> String {
        var (kind, der) = try PrivateKeyDER.traditional(self)
        defer { SecretBytes.wipe(&der) }
        guard let passphrase, !passphrase.isEmpty else { return PEMArmor.encode(der, label: kind.label) }
        guard iv.count == cipher.fileCipher.ivLength else {
            throw KeyError.invalidParameter("\(cipher.rawValue) needs a \(cipher.fileCipher.ivLength)-byte IV, not \(iv.count) bytes")
        }
        let encrypted = try cipher.encrypt(der, passphrase: passphrase, iv: iv)
        return PEMArmor.encode(
            encrypted, label: kind.label,
            headers: [("Proc-Type", "4,ENCRYPTED"), ("DEK-Info", "\(cipher.rawValue),\(Hex.encodeUpper(iv))")])
    }

    /// PKCS#8: `PRIVATE KEY`, or with a passphrase `ENCRYPTED PRIVATE KEY` under PBES2 with
    /// PBKDF2-HMAC-SHA256, AES-256-CBC, a random 16-byte salt and IV, and `iterations` rounds
    /// (``PBES2Parameters/defaultIterations``, 100 000, unless given: OpenSSL's 2048 is too few today).
    ///
    /// - Throws: ``KeyError/Code/invalidParameter`` for iterations outside 1 to 10 000 000;
    ///   ``KeyError/Code/unsupportedOperation`` for DSA and FIDO keys.
    func pkcs8Text(passphrase: [UInt8]?, iterations: Int?) throws(KeyError) -> String {
        let count = iterations ?? PBES2Parameters.defaultIterations
        guard (1...PBES2Parameters.maximumIterations).contains(count) else {
            throw KeyError.invalidParameter("PBKDF2 iteration count \(count) is out of range (1 to \(PBES2Parameters.maximumIterations))")
        }
        var generator = SystemRandomNumberGenerator()
        return try pkcs8Text(passphrase: passphrase, parameters: .random(iterations: count, using: &generator))
    }

    /// PKCS#8 with given PBES2 parameters (used when a passphrase is given).
    func pkcs8Text(passphrase: [UInt8]?, parameters: PBES2Parameters) throws(KeyError) -> String {
        var der = try PrivateKeyDER.pkcs8(self)
        defer { SecretBytes.wipe(&der) }
        guard let passphrase, !passphrase.isEmpty else { return PEMArmor.encode(der, label: PrivateKeyDER.pkcs8Label) }
        guard parameters.iv.count == parameters.cipher.fileCipher.ivLength else {
            throw KeyError.invalidParameter(
                "\(parameters.cipher.rawValue) needs a \(parameters.cipher.fileCipher.ivLength)-byte IV, not \(parameters.iv.count) bytes")
        }
        let encrypted = try parameters.encrypt(der, passphrase: passphrase)
        let wrapped = try DERWriter.build("PKCS#8 encrypted private key") { coder in
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                try parameters.serializeAlgorithm(into: &coder)
                try coder.serializeOctetString(encrypted)
            }
        }
        return PEMArmor.encode(wrapped, label: PrivateKeyDER.encryptedPKCS8Label)
    }
}
