import Crypto

/// A PuTTY `.ppk` private key file, version 2 or 3, parsed but not decrypted.
///
/// The format is PuTTY's manual, appendix C ("PPK file format"). A file is a fixed sequence of
/// `Name: value` header lines:
///
/// ```text
/// PuTTY-User-Key-File-3: ssh-ed25519
/// Encryption: aes256-cbc                  (or none)
/// Comment: the comment, in the clear
/// Public-Lines: 2                         then that many base64 lines: the public key blob
/// Key-Derivation: Argon2id                (version 3, encrypted files only; also Argon2i, Argon2d)
/// Argon2-Memory: 8192                     (KiB)
/// Argon2-Passes: 13
/// Argon2-Parallelism: 1
/// Argon2-Salt: 16 bytes in hex
/// Private-Lines: 1                        then that many base64 lines: the private blob, maybe encrypted
/// Private-MAC: hex                        HMAC-SHA-256 (v3) or HMAC-SHA-1 (v2)
/// ```
///
/// The MAC covers the algorithm name, the encryption name, the comment, the public blob and the decrypted,
/// padded private blob, so neither the comment nor the public half can be changed without the passphrase.
/// Reading accepts LF, CR LF or CR line ends and blanks at the ends of lines. It refuses, before deriving
/// anything: more than ``maximumBlobLines`` lines in a blob, Argon2 memory over ``maximumArgon2MemoryKiB``,
/// memory times passes over ``maximumArgon2Work``, and everything ``Argon2`` itself refuses.
struct PPKContainer: PrivateKeyContainer {
    /// The most base64 lines accepted after `Public-Lines` or `Private-Lines`: 1024 lines of 48 bytes hold
    /// 48 KiB, ten times a 16384-bit RSA private blob. (PuTTY's own limit is 5461 lines.)
    static let maximumBlobLines = 1024
    /// The most Argon2 memory accepted when reading or writing, in KiB: 1 GiB. PuTTY writes 8 MiB by default
    /// and takes any 32-bit number; a file asking for more than a gigabyte is refused as hostile.
    static let maximumArgon2MemoryKiB = 1 << 20
    /// The most Argon2 work accepted, as memory in KiB times passes: 2^24 (16 GiB of blocks to fill, some
    /// seconds to a minute). PuTTY's default of 8 MiB for 100 ms is a few hundred thousand.
    static let maximumArgon2Work = 1 << 24
    /// The salt PuTTY writes, in bytes.
    static let saltLength = 16
    /// The longest `Argon2-Salt` accepted, in bytes.
    static let maximumSaltLength = 1024
    /// Base64 characters per line, as PuTTY writes them.
    static let lineLength = 64
    /// What ``PrivateKey/ppkText(version:passphrase:parameters:)`` uses without parameters: PuTTY's
    /// Argon2id, 8 MiB and one lane, with a fixed 8 passes (the CLI passes calibrated ones instead).
    static let defaultParameters = Argon2Parameters(variant: .argon2id, memoryKiB: 8192, passes: 8, parallelism: 1)
    /// The fixed prefix of the first line.
    static let magic = "PuTTY-User-Key-File-"

    /// The `Encryption` header's two values.
    enum Encryption: String, Sendable {
        case none
        case aes256CBC = "aes256-cbc"
    }

    /// What a .ppk file says before its private part: everything `puttygen` needs for its public outputs.
    struct PublicPart {
        /// The file format version, 2 or 3.
        var version: Int
        /// The `PuTTY-User-Key-File-N:` value: the key type name.
        var algorithm: String
        var keyType: KeyType
        var encryption: Encryption
        /// The `Comment` value with blanks at its end removed: any bytes but CR and LF, as PuTTY allows.
        var comment: [UInt8]
        /// The `Comment` value exactly as in the file, when it ends in blanks: the MAC decides which is meant.
        var untrimmedComment: [UInt8]?
        /// The public key blob, and the key it holds (carrying the comment, escaped if it is not text).
        var publicBlob: [UInt8]
        var publicKey: PublicKey
    }

    let publicPart: PublicPart
    var version: Int { publicPart.version }
    var algorithm: String { publicPart.algorithm }
    var keyType: KeyType { publicPart.keyType }
    var encryption: Encryption { publicPart.encryption }
    var publicBlob: [UInt8] { publicPart.publicBlob }
    var publicKey: PublicKey { publicPart.publicKey }
    /// The Argon2 parameters and salt (version 3, encrypted files only).
    let argon2: Argon2Parameters?
    let salt: [UInt8]
    /// The private blob as stored: encrypted when ``encryption`` is not `none`.
    let privateBlob: [UInt8]
    /// The `Private-MAC` value, decoded.
    let mac: [UInt8]

    var isEncrypted: Bool { encryption != .none }

    /// Reads the header, `Encryption`, `Comment` and `Public-Lines` of a .ppk file.
    static func readPublicPart(_ lines: inout PPKLines) throws(KeyError) -> PublicPart {
        // PuTTY-User-Key-File-N: algorithm
        let (paddedName, firstValue) = try lines.nextHeader()
        let firstName = String(paddedName.drop { $0 == " " || $0 == "\t" })
        guard firstName.hasPrefix(Self.magic) else {
            throw KeyError.invalidFormat("not a PuTTY key file (no \"\(Self.magic)N\" header)").at(lines.location)
        }
        let versionText = firstName.dropFirst(Self.magic.count)
        let version: Int
        switch versionText {
        case "2": version = 2
        case "3": version = 3
        case "1":
            throw KeyError.unsupportedOperation(
                "PuTTY key format version 1 is too old (it was never in a PuTTY release); load and save the key with PuTTYgen 0.52 or later"
            ).at(lines.location)
        default:
            guard let number = PPKLines.decimal(String(versionText)), number > 3 else {
                throw KeyError.invalidFormat("the PuTTY key format version \"\(KeyError.printable(versionText))\" is not a number")
                    .at(lines.location)
            }
            throw KeyError.unsupportedOperation(
                "PuTTY key format version \(KeyError.printable(versionText)) is newer than 3, the latest this program reads"
            ).at(lines.location)
        }
        let algorithm = firstValue
        guard let (type, isCertificate) = KeyType.named(algorithm), !isCertificate else {
            throw KeyError.unsupportedKeyType(algorithm).at(lines.location)
        }
        switch type {
        case .ed25519, .ecdsa, .rsa, .dsa: break
        case .skEd25519, .skECDSA: throw KeyError.unsupportedKeyType(algorithm).at(lines.location)
        }

        // Encryption: none | aes256-cbc
        let encryptionName = try lines.expectHeader("Encryption")
        guard let encryption = Encryption(rawValue: encryptionName) else {
            throw KeyError.unsupportedCipher(encryptionName).at(lines.location)
        }

        // Comment: any bytes but CR and LF (the MAC covers them byte for byte, so trailing blanks are kept aside)
        let (comment, rawComment) = try lines.expectHeaderBytesKeepingBlanks("Comment")

        // Public-Lines: N, then the public blob
        let publicBlob = try lines.blob(countHeader: "Public-Lines", what: "public key")
        let publicLocation = lines.location
        let publicKey: PublicKey
        do {
            publicKey = try PublicKey(wireBytes: publicBlob, comment: CommentPolicy.displayText(comment))
        } catch {
            throw error.at("the Public-Lines blob")
        }
        guard !publicKey.isCertificate, publicKey.typeName == algorithm else {
            throw KeyError.typeMismatch(outer: algorithm, inner: publicKey.typeName).at(publicLocation)
        }
        return PublicPart(
            version: version, algorithm: algorithm, keyType: type, encryption: encryption, comment: comment,
            untrimmedComment: rawComment == comment ? nil : rawComment, publicBlob: publicBlob, publicKey: publicKey)
    }

    /// The public part of a file that ends there: PuTTY reads such a file for its public outputs
    /// (`puttygen -L`, `-l`, `-O public`). Nil for a file that goes on (a private key file) or is not a .ppk.
    static func publicOnly(_ bytes: [UInt8]) throws(KeyError) -> PublicPart? {
        var lines = PPKLines(bytes)
        let part = try readPublicPart(&lines)
        return lines.atEnd ? part : nil
    }

    init(bytes: [UInt8]) throws(KeyError) {
        var lines = PPKLines(bytes)
        let publicPart = try Self.readPublicPart(&lines)
        self.publicPart = publicPart
        let version = publicPart.version, encryption = publicPart.encryption
        if lines.atEnd {
            throw KeyError.invalidFormat("the PuTTY file holds only a public key (nothing follows its Public-Lines)").at(lines.location)
        }

        // Key-Derivation and Argon2-* (version 3, encrypted)
        if version == 3, encryption != .none {
            let kdfName = try lines.expectHeader("Key-Derivation")
            let variant: Argon2Parameters.Variant
            switch kdfName {
            case "Argon2id": variant = .argon2id
            case "Argon2i": variant = .argon2i
            case "Argon2d": variant = .argon2d
            default: throw KeyError.unsupportedKDF(kdfName).at(lines.location)
            }
            let memory = try lines.expectNumberHeader("Argon2-Memory")
            let passes = try lines.expectNumberHeader("Argon2-Passes")
            let parallelism = try lines.expectNumberHeader("Argon2-Parallelism")
            let parameters = Argon2Parameters(variant: variant, memoryKiB: memory, passes: passes, parallelism: parallelism)
            do {
                try Self.checkLimits(parameters)
            } catch {
                throw error.at(lines.location)
            }
            argon2 = parameters
            let saltText = try lines.expectHeader("Argon2-Salt")
            guard let salt = Hex.decode(saltText) else {
                throw KeyError.invalidFormat("the Argon2-Salt is not an even number of hexadecimal digits").at(lines.location)
            }
            guard !salt.isEmpty, salt.count <= Self.maximumSaltLength else {
                throw KeyError.invalidParameter("the Argon2 salt of \(salt.count) bytes is out of range (1 to \(Self.maximumSaltLength))")
                    .at(lines.location)
            }
            self.salt = salt
        } else {
            argon2 = nil
            salt = []
        }

        // Private-Lines: N, then the private blob
        privateBlob = try lines.blob(countHeader: "Private-Lines", what: "private key")
        guard encryption == .none || privateBlob.count % KeyFileCipher.aes256CBC.blockSize == 0 else {
            throw KeyError.invalidFormat(
                "the encrypted private blob is \(privateBlob.count) bytes, not a multiple of the 16-byte AES block"
            ).at(lines.location)
        }

        // Private-MAC: hex
        let (macName, macValue) = try lines.nextHeader()
        guard macName == "Private-MAC" else {
            if macName == "Private-Hash" {
                throw KeyError.unsupportedOperation(
                    "the key is protected by a \"Private-Hash\" as in PuTTY's unreleased format version 1, which is too old; "
                        + "load and save it with PuTTYgen"
                ).at(lines.location)
            }
            throw KeyError.invalidFormat("expected the \"Private-MAC\" header, found \"\(KeyError.printable(macName))\"").at(lines.location)
        }
        let macLength = version == 2 ? 20 : 32
        guard let mac = Hex.decode(macValue), mac.count == macLength else {
            throw KeyError.invalidFormat("the Private-MAC is not \(macLength * 2) hexadecimal digits").at(lines.location)
        }
        self.mac = mac
        try lines.expectOnlyBlankLines()
    }

    /// Refuses Argon2 costs this reader will not spend, before anything is allocated.
    static func checkLimits(_ parameters: Argon2Parameters) throws(KeyError) {
        guard parameters.memoryKiB <= maximumArgon2MemoryKiB else {
            throw KeyError.invalidParameter(
                "Argon2 memory of \(parameters.memoryKiB) KiB is more than the limit of \(maximumArgon2MemoryKiB) KiB (1 GiB)")
        }
        try Argon2.validate(parameters, tagLength: 80)
        let (work, overflow) = parameters.memoryKiB.multipliedReportingOverflow(by: parameters.passes)
        guard !overflow, work <= maximumArgon2Work else {
            throw KeyError.invalidParameter(
                "Argon2 memory of \(parameters.memoryKiB) KiB times \(parameters.passes) passes is more work than the limit of "
                    + "\(maximumArgon2Work) KiB-passes")
        }
    }

    var info: PrivateKeyInfo {
        var kdf: String?
        var rounds: Int?
        var kdfParameters: [String: String] = [:]
        if isEncrypted {
            if let argon2 {
                kdf = Self.kdfName(argon2.variant)
                rounds = argon2.passes
                kdfParameters = ["memory": String(argon2.memoryKiB), "parallelism": String(argon2.parallelism)]
            } else {
                kdf = "SHA-1"
                rounds = 1
            }
        }
        return PrivateKeyInfo(
            format: .ppk(version: version), isEncrypted: isEncrypted, cipher: encryption.rawValue, kdf: kdf,
            kdfRounds: rounds, kdfParameters: kdfParameters, publicKey: publicKey, comment: CommentPolicy.displayText(publicPart.comment),
            commentBytes: publicPart.comment)
    }

    static func kdfName(_ variant: Argon2Parameters.Variant) -> String {
        switch variant {
        case .argon2id: "Argon2id"
        case .argon2i: "Argon2i"
        case .argon2d: "Argon2d"
        }
    }

    func decrypt(passphrase: [UInt8]?) throws(KeyError) -> PrivateKey {
        let secret: [UInt8]
        if isEncrypted {
            guard let passphrase else { throw KeyError.passphraseRequired }
            secret = passphrase
        } else {
            secret = []
        }
        var keys = try PPKKeys(version: version, encryption: encryption, passphrase: secret, argon2: argon2, salt: salt)
        defer { keys.wipe() }
        var plain = isEncrypted ? try KeyFileCipher.aes256CBC.decrypt(privateBlob, key: keys.cipherKey, iv: keys.iv) : privateBlob
        defer { SecretBytes.wipe(&plain) }

        // The MAC first: nothing from the private blob is looked at before it verifies.
        var verifiedComment: [UInt8]?
        for candidate in [publicPart.comment] + (publicPart.untrimmedComment.map { [$0] } ?? []) {
            var expected = Self.mac(
                version: version, key: keys.macKey, algorithm: algorithm, encryption: encryption,
                comment: candidate, publicBlob: publicBlob, privatePlaintext: plain)
            defer { SecretBytes.wipe(&expected) }
            if Poly1305.constantTimeEqual(expected, mac) {
                verifiedComment = candidate
                break
            }
        }
        guard let verifiedComment else {
            if isEncrypted { throw KeyError.wrongPassphrase }
            throw KeyError.corrupt("the Private-MAC does not match: the unencrypted key file was tampered with or is corrupt")
        }
        let material = try PrivateKey.Material.readPPK(
            type: keyType, publicMaterial: publicKey.material, privateBlob: plain)
        return try PrivateKey(material: material, commentBytes: verifiedComment)
    }

    /// The MAC of a file: HMAC-SHA-1 (version 2) or HMAC-SHA-256 (version 3) over the five SSH strings.
    static func mac(
        version: Int, key: [UInt8], algorithm: String, encryption: Encryption, comment: [UInt8], publicBlob: [UInt8],
        privatePlaintext: [UInt8]
    ) -> [UInt8] {
        var data = WireWriter(capacity: privatePlaintext.count + publicBlob.count + 128)
        data.writeString(algorithm)
        data.writeString(encryption.rawValue)
        data.writeString(comment)
        data.writeString(publicBlob)
        data.writeString(privatePlaintext)
        var bytes = data.bytes
        defer { SecretBytes.wipe(&bytes) }
        let symmetricKey = SymmetricKey(data: key)
        if version == 2 {
            return Array(HMAC<Insecure.SHA1>.authenticationCode(for: bytes, using: symmetricKey))
        }
        return Array(HMAC<SHA256>.authenticationCode(for: bytes, using: symmetricKey))
    }
}

/// The cipher key, IV and MAC key of one file, derived from the passphrase.
struct PPKKeys {
    var cipherKey: [UInt8]
    var iv: [UInt8]
    var macKey: [UInt8]

    /// Version 3: Argon2 gives key (32) || IV (16) || MAC key (32) for `aes256-cbc`, and all three are empty for
    /// `none`. Version 2: key = SHA-1(0x00000000 || passphrase) || SHA-1(0x00000001 || passphrase), first 32
    /// bytes; IV zero; MAC key = SHA-1("putty-private-key-file-mac-key" || passphrase), the passphrase being
    /// empty for `none`.
    init(version: Int, encryption: PPKContainer.Encryption, passphrase: [UInt8], argon2: Argon2Parameters?, salt: [UInt8]) throws(KeyError) {
        if version == 3 {
            guard encryption != .none else {
                cipherKey = []
                iv = []
                macKey = []
                return
            }
            guard let argon2 else { throw KeyError.invalidFormat("the encrypted key has no Argon2 parameters") }
            var derived = try Argon2.hash(password: passphrase, salt: salt, parameters: argon2, tagLength: 80)
            defer { SecretBytes.wipe(&derived) }
            cipherKey = Array(derived[0..<32])
            iv = Array(derived[32..<48])
            macKey = Array(derived[48..<80])
        } else {
            if encryption == .none {
                cipherKey = []
                iv = []
            } else {
                var material = [UInt8]()
                for counter: UInt8 in 0...1 {
                    var hash = Insecure.SHA1()
                    hash.update(data: [0, 0, 0, counter])
                    hash.update(data: passphrase)
                    material += Array(hash.finalize())
                }
                cipherKey = Array(material[0..<32])
                SecretBytes.wipe(&material)
                iv = [UInt8](repeating: 0, count: 16)
            }
            var hash = Insecure.SHA1()
            hash.update(data: Array("putty-private-key-file-mac-key".utf8))
            hash.update(data: passphrase)
            macKey = Array(hash.finalize())
        }
    }

    mutating func wipe() {
        SecretBytes.wipe(&cipherKey)
        SecretBytes.wipe(&iv)
        SecretBytes.wipe(&macKey)
    }
}

/// The lines of a .ppk file, read in order, with the location of the last one read for error messages.
struct PPKLines {
    /// Each line's bytes without its line end; readers trim trailing blanks (space, tab) with `trimmingBlanks(leading: false)`.
    private var lines: [ArraySlice<UInt8>] = []
    private var index = 0

    init(_ bytes: [UInt8]) {
        var start = 0
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<position])
                if byte == 0x0D, position + 1 < bytes.count, bytes[position + 1] == 0x0A { position += 1 }
                start = position + 1
            }
            position += 1
        }
        if start < bytes.count { lines.append(bytes[start..<bytes.count]) }
        // Blank lines before the first header are skipped.
        while index < lines.count, lines[index].trimmingBlanks(leading: false).isEmpty { index += 1 }
    }

    /// Whether only blank lines are left.
    var atEnd: Bool {
        lines[index...].allSatisfy { $0.trimmingBlanks(leading: false).isEmpty }
    }

    /// "line N" of the line read last (1-based).
    var location: String { "line \(max(index, 1))" }

    private mutating func nextLine(_ expecting: String) throws(KeyError) -> ArraySlice<UInt8> {
        guard index < lines.count else {
            throw KeyError(.truncated, "the PuTTY key file ends before \(expecting)").at("line \(index + 1)")
        }
        defer { index += 1 }
        return lines[index]
    }

    /// A `Name: value` line: the name, and the value without trailing blanks and (with it) without.
    private mutating func header(_ expecting: String) throws(KeyError) -> (name: String, value: String, raw: String) {
        let (name, value, raw) = try headerBytes(expecting)
        return (name, String(decoding: value, as: UTF8.self), String(decoding: raw, as: UTF8.self))
    }

    /// A `Name: value` line with its value as bytes: without trailing blanks, and as it is.
    private mutating func headerBytes(_ expecting: String) throws(KeyError) -> (name: String, value: [UInt8], raw: [UInt8]) {
        let line = try nextLine(expecting)
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw KeyError.invalidFormat("expected \(expecting), found a line without \"Name: value\"").at(location)
        }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        // "Name: value", as PuTTY requires; "Name:" alone is an empty value whose space was trimmed away.
        var valueStart = colon + 1
        if valueStart < line.endIndex {
            guard line[valueStart] == 0x20 else {
                throw KeyError.invalidFormat("the \"\(KeyError.printable(name))\" header is not followed by \": \"").at(location)
            }
            valueStart += 1
        }
        let raw = line[valueStart..<line.endIndex]
        return (name, Array(raw.trimmingBlanks(leading: false)), Array(raw))
    }

    mutating func nextHeader() throws(KeyError) -> (name: String, value: String) {
        let (name, value, _) = try header("a header")
        return (name, value)
    }

    /// The value of the header `name`, which must come next.
    mutating func expectHeader(_ name: String) throws(KeyError) -> String {
        try expectHeaderKeepingBlanks(name).value
    }

    mutating func expectHeaderKeepingBlanks(_ name: String) throws(KeyError) -> (value: String, raw: String) {
        let (found, value, raw) = try header("the \"\(name)\" header")
        guard found == name else {
            throw KeyError.invalidFormat("expected the \"\(name)\" header, found \"\(KeyError.printable(found))\"").at(location)
        }
        return (value, raw)
    }

    /// The value of the header `name`, which must come next, as bytes: trimmed and as it is.
    mutating func expectHeaderBytesKeepingBlanks(_ name: String) throws(KeyError) -> (value: [UInt8], raw: [UInt8]) {
        let (found, value, raw) = try headerBytes("the \"\(name)\" header")
        guard found == name else {
            throw KeyError.invalidFormat("expected the \"\(name)\" header, found \"\(KeyError.printable(found))\"").at(location)
        }
        return (value, raw)
    }

    /// A header holding a decimal number from 0 to 2^32 − 1, as PuTTY reads its Argon2 parameters.
    mutating func expectNumberHeader(_ name: String) throws(KeyError) -> Int {
        let text = try expectHeader(name)
        guard let number = Self.decimal(text), number <= Int(UInt32.max) else {
            throw KeyError.invalidParameter("the \(name) value \"\(KeyError.printable(text))\" is not a number from 0 to 4294967295")
                .at(location)
        }
        return number
    }

    /// Digits only, at most 10 of them.
    static func decimal(_ text: String) -> Int? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// `countHeader: N` followed by N lines of base64, decoded.
    mutating func blob(countHeader: String, what: String) throws(KeyError) -> [UInt8] {
        let countText = try expectHeader(countHeader)
        guard let count = Self.decimal(countText) else {
            throw KeyError.invalidFormat("the \(countHeader) value \"\(KeyError.printable(countText))\" is not a number").at(location)
        }
        guard count <= PPKContainer.maximumBlobLines else {
            throw KeyError(.tooLarge, "\(countHeader) of \(count) is more than the \(PPKContainer.maximumBlobLines) lines accepted")
                .at(location)
        }
        var text = [UInt8]()
        for read in 0..<count {
            let line = try nextLine("the \(count) lines \(countHeader) announces").trimmingBlanks(leading: false)
            if line.contains(UInt8(ascii: ":")) {
                throw KeyError.invalidFormat("\(countHeader) says \(count) lines of base64, but only \(read) follow").at(location)
            }
            text += line
        }
        guard let bytes = Base64.decode(text) else {
            throw KeyError.invalidBase64("the \(what) after \(countHeader)").at(location)
        }
        return bytes
    }

    /// Nothing but blank lines may follow the MAC.
    mutating func expectOnlyBlankLines() throws(KeyError) {
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.trimmingBlanks(leading: false).isEmpty else { throw KeyError.trailingData(after: "Private-MAC line").at(location) }
        }
    }
}

extension PrivateKey.Material {
    /// Reads PuTTY's private blob (after its MAC verified), whose public half comes from the public blob.
    ///
    /// `ssh-rsa`: mpint d, p, q, iqmp. `ssh-dss`: mpint x. `ecdsa-sha2-*`: mpint scalar. `ssh-ed25519`: a
    /// string holding the 32-byte seed (PuTTY's "little-endian integer", which is the seed's bytes as they are).
    /// Padding after these fields is ignored, as PuTTY ignores it.
    static func readPPK(type: KeyType, publicMaterial: PublicKey.Material, privateBlob: [UInt8]) throws(KeyError) -> Self {
        var reader = WireReader(privateBlob, context: "PuTTY private blob")
        switch publicMaterial {
        case .ed25519(let publicKey):
            var seed = Array(try reader.readString("ed25519 private key"))
            guard seed.count <= 32 else {
                SecretBytes.wipe(&seed)
                throw KeyError.invalidKey("the ed25519 private key is \(seed.count) bytes instead of 32")
            }
            // A little-endian number: shorter encodings are missing high (trailing) zero bytes.
            seed += [UInt8](repeating: 0, count: 32 - seed.count)
            return .ed25519(seed: seed, publicKey: publicKey)
        case .ecdsa(let curve, let point):
            let scalar = try reader.readPositiveMPInt("ecdsa private scalar", maxBits: curve.bits)
            return .ecdsa(curve: curve, scalar: paddedScalar(scalar, curve: curve), point: point)
        case .rsa(let exponent, let modulus):
            let d = try reader.readPositiveMPInt("rsa d")
            let p = try reader.readPositiveMPInt("rsa p")
            let q = try reader.readPositiveMPInt("rsa q")
            let iqmp = try reader.readPositiveMPInt("rsa iqmp")
            return .rsa(PrivateKey.RSANumbers(n: modulus, e: exponent, d: d, iqmp: iqmp, p: p, q: q))
        case .dsa(let p, let q, let g, let y):
            let x = try reader.readPositiveMPInt("dsa x")
            return .dsa(p: p, q: q, g: g, y: y, x: x)
        case .skEd25519, .skECDSA:
            throw KeyError.unsupportedKeyType(type.name)
        }
    }

    /// Writes PuTTY's private blob; nil for the types PuTTY's files do not hold (FIDO keys).
    func ppkPrivateBlob() -> [UInt8]? {
        var writer = WireWriter(capacity: 64)
        switch self {
        case .ed25519(let seed, _):
            writer.writeString(seed)
        case .ecdsa(_, let scalar, _):
            writer.writePositiveMPInt(scalar)
        case .rsa(let numbers):
            for value in [numbers.d, numbers.p, numbers.q, numbers.iqmp] { writer.writePositiveMPInt(value) }
        case .dsa(_, _, _, _, let x):
            writer.writePositiveMPInt(x)
        case .skEd25519, .skECDSA:
            return nil
        }
        return writer.bytes
    }
}

extension PrivateKey {
    /// The PuTTY `.ppk` file text with a fresh random salt; see
    /// ``ppkText(version:passphrase:parameters:using:)``.
    func ppkText(version: Int, passphrase: [UInt8]?, parameters: Argon2Parameters?) throws(KeyError) -> String {
        var generator = SystemRandomNumberGenerator()
        return try ppkText(version: version, passphrase: passphrase, parameters: parameters, using: &generator)
    }

    /// The PuTTY `.ppk` file text, as PuTTYgen writes it: LF line ends, base64 in lines of 64 characters,
    /// and the private blob padded to the AES block with the start of its own SHA-1 digest.
    ///
    /// - Parameters:
    ///   - version: 3 (PuTTY 0.75 and later: Argon2 and HMAC-SHA-256) or 2 (older PuTTY: SHA-1 key
    ///     derivation, HMAC-SHA-1).
    ///   - passphrase: encrypts with `aes256-cbc` when non-nil and non-empty; otherwise `Encryption: none`.
    ///   - parameters: version 3's Argon2 variant and costs; nil for Argon2id, 8192 KiB, 8 passes, 1 lane.
    ///     Ignored for version 2 and for unencrypted files.
    ///   - generator: supplies the 16-byte Argon2 salt.
    /// - Throws: ``KeyError/Code/unsupportedOperation`` for FIDO keys (PuTTY cannot hold them);
    ///   ``KeyError/Code/invalidParameter`` for a version other than 2 or 3, or Argon2 costs over
    ///   the limits this package reads back (1 GiB of memory, memory times passes 2^24);
    ///   ``KeyError/Code/forbiddenCharacter`` for a comment with a line break or other control character.
    public func ppkText(
        version: Int = 3, passphrase: [UInt8]?, parameters: Argon2Parameters? = nil,
        using generator: inout some RandomNumberGenerator
    ) throws(KeyError) -> String {
        let salt = RandomBytes.make(PPKContainer.saltLength, using: &generator)
        return try ppkText(version: version, passphrase: passphrase, parameters: parameters, salt: salt)
    }

    /// The `.ppk` text with a given salt (to reproduce a file exactly).
    func ppkText(version: Int, passphrase: [UInt8]?, parameters: Argon2Parameters?, salt: [UInt8]) throws(KeyError) -> String {
        guard version == 2 || version == 3 else {
            throw KeyError.invalidParameter("PuTTY key format version \(version) is not 2 or 3")
        }
        switch type {
        case .skEd25519, .skECDSA:
            throw KeyError.unsupportedOperation("PuTTY key files cannot hold FIDO (\(type.name)) keys")
        case .ed25519, .ecdsa, .rsa, .dsa:
            // DSA is obsolete and never generated, but a DSA .ppk must take a new passphrase as puttygen's does.
            break
        }
        guard CommentPolicy.isAcceptable(comment.utf8) else { throw KeyError.forbiddenCharacter(in: "the key comment") }
        guard var privateBlob = material.ppkPrivateBlob() else {
            throw KeyError.unsupportedOperation("PuTTY key files cannot hold \(type.name) keys")
        }
        defer { SecretBytes.wipe(&privateBlob) }

        let passphrase = passphrase.flatMap { $0.isEmpty ? nil : $0 }
        let encryption: PPKContainer.Encryption = passphrase == nil ? .none : .aes256CBC
        var argon2: Argon2Parameters?
        if version == 3, passphrase != nil {
            let chosen = parameters ?? PPKContainer.defaultParameters
            try PPKContainer.checkLimits(chosen)
            guard !salt.isEmpty, salt.count <= PPKContainer.maximumSaltLength else {
                throw KeyError.invalidParameter("the Argon2 salt of \(salt.count) bytes is out of range (1 to \(PPKContainer.maximumSaltLength))")
            }
            argon2 = chosen
        }

        // Pad to the cipher block with the first bytes of SHA-1(blob), as PuTTY does (no padding unencrypted).
        if encryption != .none, privateBlob.count % 16 != 0 {
            let digest = Array(Insecure.SHA1.hash(data: privateBlob))
            privateBlob += digest[0..<(16 - privateBlob.count % 16)]
        }

        var keys = try PPKKeys(version: version, encryption: encryption, passphrase: passphrase ?? [], argon2: argon2, salt: salt)
        defer { keys.wipe() }
        let publicBlob = material.publicMaterial.wireBytes
        let mac = PPKContainer.mac(
            version: version, key: keys.macKey, algorithm: type.name, encryption: encryption, comment: Array(comment.utf8),
            publicBlob: publicBlob, privatePlaintext: privateBlob)
        let stored =
            encryption == .none
            ? privateBlob : try KeyFileCipher.aes256CBC.encrypt(privateBlob, key: keys.cipherKey, iv: keys.iv)

        var text = "PuTTY-User-Key-File-\(version): \(type.name)\n"
        text += "Encryption: \(encryption.rawValue)\n"
        text += "Comment: \(comment)\n"
        let publicLines = Self.base64Lines(publicBlob)
        text += "Public-Lines: \(publicLines.count)\n"
        for line in publicLines { text += line + "\n" }
        if let argon2 {
            text += "Key-Derivation: \(PPKContainer.kdfName(argon2.variant))\n"
            text += "Argon2-Memory: \(argon2.memoryKiB)\n"
            text += "Argon2-Passes: \(argon2.passes)\n"
            text += "Argon2-Parallelism: \(argon2.parallelism)\n"
            text += "Argon2-Salt: \(Hex.encodeLower(salt))\n"
        }
        let privateLines = Self.base64Lines(stored)
        text += "Private-Lines: \(privateLines.count)\n"
        for line in privateLines { text += line + "\n" }
        text += "Private-MAC: \(Hex.encodeLower(mac))\n"
        return text
    }

    /// Base64 in lines of 64 characters (48 bytes), as PuTTY writes blobs.
    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        Base64.lines(bytes, width: PPKContainer.lineLength)
    }
}

extension PublicKey {
    /// Reads a PuTTY `.ppk` file that holds only a public key: the `PuTTY-User-Key-File-N`, `Encryption`,
    /// `Comment` and `Public-Lines` headers and the public blob, with nothing after them. PuTTY's own public
    /// outputs (`puttygen -L`, `-l`, `-O public`) read such a file; PuTTY never checks a MAC for them, and
    /// there is none. The comment is the file's, escaped when it is not text (``CommentPolicy/displayText(_:)``).
    ///
    /// - Throws: ``KeyError/Code/invalidFormat`` when the file goes on with a private part (read it with
    ///   ``PrivateKeyDocument``), and the errors of the header and public blob checks.
    public init(ppkPublicOnly bytes: [UInt8]) throws(KeyError) {
        guard let part = try PPKContainer.publicOnly(bytes) else {
            throw KeyError.invalidFormat("the PuTTY file holds a private key, not only a public key")
        }
        self = part.publicKey
    }

    /// Whether `bytes` are a PuTTY `.ppk` file that ends after its public key (see ``init(ppkPublicOnly:)``).
    public static func isPPKPublicOnly(_ bytes: [UInt8]) -> Bool {
        PrivateKeyDocument.isPPK(bytes) && ((try? PPKContainer.publicOnly(bytes)) ?? nil) != nil
    }
}
