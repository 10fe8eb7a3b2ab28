/// The file formats a private key is read from and written to.
public enum PrivateKeyFormat: Hashable, Sendable, CustomStringConvertible {
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` (openssh-key-v1, PROTOCOL.key).
    case openSSH
    /// Traditional PEM: PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` (and `DSA PRIVATE KEY`, read only),
    /// optionally with legacy `Proc-Type`/`DEK-Info` encryption.
    case pem
    /// PKCS#8 `PRIVATE KEY` or `ENCRYPTED PRIVATE KEY` (PBES2).
    case pkcs8
    /// PuTTY `.ppk`, version 2 or 3.
    case ppk(version: Int)

    /// The lower-case name: `openssh`, `pem`, `pkcs8`, `ppk2` or `ppk3`.
    public var description: String {
        switch self {
        case .openSSH: "openssh"
        case .pem: "pem"
        case .pkcs8: "pkcs8"
        case .ppk(let version): "ppk\(version)"
        }
    }
}

/// What a private key file says about itself before it is decrypted.
public struct PrivateKeyInfo: Sendable, Hashable {
    /// The format the file is in (for PuTTY, with its version).
    public var format: PrivateKeyFormat
    /// Whether a passphrase is needed to decrypt the key.
    public var isEncrypted: Bool
    /// The cipher, by the name the format uses (`aes256-ctr`, `AES-128-CBC`, `aes-256-cbc`).
    public var cipher: String?
    /// The key derivation function (`bcrypt`, `PBKDF2`, `EVP_BytesToKey` (one round of MD5), `Argon2id`, `SHA-1`).
    public var kdf: String?
    /// Rounds or iterations or passes of the KDF.
    public var kdfRounds: Int?
    /// Further KDF parameters by name (`memory`, `parallelism`, `prf`), for display.
    public var kdfParameters: [String: String]
    /// The public key when the file carries it in the clear (openssh-key-v1, PuTTY), without decrypting.
    public var publicKey: PublicKey?
    /// The comment when the file carries it in the clear (PuTTY), escaped when it is not text (see
    /// ``PrivateKey/commentBytes``).
    public var comment: String?
    /// That comment byte for byte as the file holds it.
    public var commentBytes: [UInt8]?

    /// Makes the description of a file; each format reader fills in what its format carries in the clear.
    public init(
        format: PrivateKeyFormat, isEncrypted: Bool, cipher: String? = nil, kdf: String? = nil, kdfRounds: Int? = nil,
        kdfParameters: [String: String] = [:], publicKey: PublicKey? = nil, comment: String? = nil,
        commentBytes: [UInt8]? = nil
    ) {
        self.format = format
        self.isEncrypted = isEncrypted
        self.cipher = cipher
        self.kdf = kdf
        self.kdfRounds = kdfRounds
        self.kdfParameters = kdfParameters
        self.publicKey = publicKey
        self.comment = comment
        self.commentBytes = commentBytes ?? comment.map { Array($0.utf8) }
    }
}

/// One private key file's parsed container, not yet decrypted: every format reader produces one.
protocol PrivateKeyContainer: Sendable {
    var info: PrivateKeyInfo { get }
    /// Decrypts (when encrypted) and checks the key. Throws ``KeyError/Code/passphraseRequired`` when
    /// encrypted and `passphrase` is nil, ``KeyError/Code/wrongPassphrase`` when the format can tell.
    func decrypt(passphrase: [UInt8]?) throws(KeyError) -> PrivateKey
}

/// A private key file in any supported format, read but not yet decrypted.
///
/// ```swift
/// let document = try PrivateKeyDocument(text: fileContents)
/// if document.info.isEncrypted { ... ask ... }
/// let key = try document.decrypt(passphrase: Array("secret".utf8))
/// ```
public struct PrivateKeyDocument: Sendable {
    let container: any PrivateKeyContainer

    /// The largest private key file we read (a 16384-bit RSA key in PEM is about 12 KiB).
    public static let maximumLength = 256 * 1024

    /// Detects the format and parses the container; nothing is decrypted yet.
    public init(text: String) throws(KeyError) {
        try self.init(bytes: Array(text.utf8))
    }

    /// Detects the format from the bytes of a file.
    public init(bytes: [UInt8]) throws(KeyError) {
        guard bytes.count <= Self.maximumLength else {
            throw KeyError.tooLarge("private key file", limit: Self.maximumLength)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // PuTTY's comment may be any bytes (but CR and LF): such a file is not UTF-8 and still a key.
            if Self.isPPK(bytes) {
                container = try PPKContainer(bytes: bytes)
                return
            }
            throw KeyError.invalidFormat("the file is not text (is it a DER or binary key?)")
        }
        container = try Self.parse(text)
    }

    /// Whether `bytes`, after leading blank lines, start a PuTTY key file.
    static func isPPK(_ bytes: [UInt8]) -> Bool {
        bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.starts(with: PPKContainer.magic.utf8)
    }

    /// Whether `text` looks like a private key file of a format we know (by its first line).
    public static func looksLikePrivateKey(_ text: some StringProtocol) -> Bool {
        let head = text.prefix(128)
        return head.contains("PRIVATE KEY-----") || head.hasPrefix("PuTTY-User-Key-File-")
    }

    /// Whether `text` holds a PEM private key after other text, as `openssl rsa -text` writes one: OpenSSL, so
    /// ssh-keygen, reads such a file as the key (``init(text:)`` does too) although its first line is not
    /// the key's.
    public static func hasPEMPrivateKeyAfterText(_ text: String) -> Bool {
        PEMPrivateKeyContainer.hasPrivateKeyBlockAfterText(text)
    }

    static func parse(_ text: String) throws(KeyError) -> any PrivateKeyContainer {
        let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if trimmed.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return try OpenSSHPrivateKeyContainer(text: text)
        }
        if trimmed.hasPrefix("PuTTY-User-Key-File-") {
            return try PPKContainer(bytes: Array(text.utf8))
        }
        if trimmed.hasPrefix("-----BEGIN ") || PEMPrivateKeyContainer.hasPrivateKeyBlockAfterText(text) {
            return try PEMPrivateKeyContainer(text: text)
        }
        throw KeyError.invalidFormat("not a private key file (no \"-----BEGIN ... PRIVATE KEY-----\" or PuTTY header)")
    }

    /// The format, encryption and clear-text public parts.
    public var info: PrivateKeyInfo { container.info }

    /// Decrypts (when encrypted) and checks the key; see ``PrivateKeyInfo`` for what is known before.
    public func decrypt(passphrase: [UInt8]?) throws(KeyError) -> PrivateKey {
        try container.decrypt(passphrase: passphrase)
    }
}

/// How to write a private key file.
public struct PrivateKeyEncoding: Sendable, Hashable {
    /// The format to write (for PuTTY, version 2 or 3).
    public var format: PrivateKeyFormat
    /// Encrypts when non-nil and non-empty.
    public var passphrase: [UInt8]?
    /// openssh-key-v1 cipher (default `aes256-ctr`) or legacy PEM cipher (default `AES-128-CBC`, as OpenSSH);
    /// PKCS#8 always uses AES-256-CBC.
    public var cipher: String?
    /// bcrypt rounds for openssh-key-v1 (default 24), PBKDF2 iterations for PKCS#8 (default 100,000: OpenSSL's
    /// 2048 is too few against guessing).
    public var rounds: Int?
    /// PuTTY version-3 KDF parameters (default Argon2id, 8192 KiB, 1 lane, passes for about 100 ms).
    public var ppkParameters: Argon2Parameters?

    /// Describes how to write a key; a nil parameter takes the format's default (see each property).
    public init(
        format: PrivateKeyFormat, passphrase: [UInt8]? = nil, cipher: String? = nil, rounds: Int? = nil,
        ppkParameters: Argon2Parameters? = nil
    ) {
        self.format = format
        self.passphrase = passphrase
        self.cipher = cipher
        self.rounds = rounds
        self.ppkParameters = ppkParameters
    }

    /// The openssh-key-v1 cipher used when ``cipher`` is nil: `aes256-ctr`, as `ssh-keygen`.
    public static let defaultOpenSSHCipher = OpenSSHPrivateKeyContainer.defaultCipher
    /// The bcrypt rounds used for openssh-key-v1 when ``rounds`` is nil: 24, as `ssh-keygen`.
    public static let defaultOpenSSHRounds = OpenSSHPrivateKeyContainer.defaultRounds

    /// Whether `name` is an openssh-key-v1 cipher (compared exactly, as OpenSSH does): what `ssh-keygen -Z` accepts.
    public static func isOpenSSHCipher(_ name: String) -> Bool {
        (try? KeyFileCipher.named(name)) != nil
    }

    var effectivePassphrase: [UInt8]? {
        guard let passphrase, !passphrase.isEmpty else { return nil }
        return passphrase
    }
}

extension PrivateKey {
    /// The file text in `encoding`'s format; the one place that dispatches on format.
    public func serialized(as encoding: PrivateKeyEncoding) throws(KeyError) -> String {
        switch encoding.format {
        case .openSSH:
            var generator = SystemRandomNumberGenerator()
            return try openSSHText(
                passphrase: encoding.effectivePassphrase, cipher: encoding.cipher ?? OpenSSHPrivateKeyContainer.defaultCipher,
                rounds: encoding.rounds ?? OpenSSHPrivateKeyContainer.defaultRounds, using: &generator)
        case .pem:
            return try pemText(passphrase: encoding.effectivePassphrase, cipher: encoding.cipher)
        case .pkcs8:
            return try pkcs8Text(passphrase: encoding.effectivePassphrase, iterations: encoding.rounds)
        case .ppk(let version):
            return try ppkText(version: version, passphrase: encoding.effectivePassphrase, parameters: encoding.ppkParameters)
        }
    }
}
