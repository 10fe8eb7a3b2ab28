import Foundation
import Testing

@testable import SSHKeys

/// Hand-built DER, for files our writer would never make (PBES1, scrypt, absurd parameters).
private enum DERBytes {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out = [tag]
        if content.count < 128 {
            out.append(UInt8(content.count))
        } else {
            var length: [UInt8] = []
            var value = content.count
            while value > 0 {
                length.insert(UInt8(value & 0xFF), at: 0)
                value >>= 8
            }
            out.append(0x80 | UInt8(length.count))
            out += length
        }
        return out + content
    }

    static func sequence(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }
    static func octets(_ bytes: [UInt8]) -> [UInt8] { tlv(0x04, bytes) }
    static let null: [UInt8] = [0x05, 0x00]

    /// A non-negative INTEGER.
    static func integer(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        repeat {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        } while rest > 0
        if let first = bytes.first, first & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }

    /// An INTEGER from a big-endian magnitude.
    static func integer(magnitude: [UInt8]) -> [UInt8] {
        tlv(0x02, (magnitude.first ?? 0x80) & 0x80 != 0 ? [0] + magnitude : magnitude)
    }

    // OBJECT IDENTIFIERs, encoded.
    static let pbes2 = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D])
    static let pbkdf2 = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C])
    static let scrypt = tlv(0x06, [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x04, 0x0B])
    static let pbeSHA1And3DES = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x0C, 0x01, 0x03])
    static let hmacWithSHA256 = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09])
    static let hmacWithMD5 = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x06])
    static let aes256CBC = tlv(0x06, [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A])
    static let aes256GCM = tlv(0x06, [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2E])
    static let rsaEncryption = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01])
    static let rsaPSS = tlv(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A])
    static let dsa = tlv(0x06, [0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x01])
    static let x25519 = tlv(0x06, [0x2B, 0x65, 0x6E])

    static func pbkdf2Parameters(salt: [UInt8], iterations: Int, keyLength: Int? = nil, prf: [UInt8]? = hmacWithSHA256) -> [UInt8] {
        sequence(pbkdf2, sequence(octets(salt), integer(iterations), keyLength.map(integer) ?? [], prf.map { sequence($0, null) } ?? []))
    }

    static func encryptedPrivateKeyInfo(kdf: [UInt8], cipher: [UInt8], data: [UInt8] = [UInt8](repeating: 0x5A, count: 32)) -> String {
        PEMArmor.encode(sequence(sequence(pbes2, sequence(kdf, cipher)), octets(data)), label: "ENCRYPTED PRIVATE KEY")
    }

    static func privateKeyInfo(algorithm: [UInt8], key: [UInt8]) -> String {
        PEMArmor.encode(sequence(integer(0), algorithm, octets(key)), label: "PRIVATE KEY")
    }
}

/// PKCS#8 `PRIVATE KEY` and `ENCRYPTED PRIVATE KEY` (PBES2/PBKDF2), against fixtures, hand-built refusals,
/// and ssh-keygen and openssl at test time.
@Suite("PKCS#8 format")
struct PKCS8FormatTests {
    struct Scheme: Sendable, CustomTestStringConvertible {
        let cipher: PBES2Parameters.Cipher?
        let prf: PBES2Parameters.PRF
        var testDescription: String { cipher.map { "\($0.rawValue) \(prf.rawValue)" } ?? "plain" }
    }

    static let schemes: [Scheme] = [
        Scheme(cipher: nil, prf: .hmacWithSHA256),
        Scheme(cipher: .aes128CBC, prf: .hmacWithSHA256),
        Scheme(cipher: .aes192CBC, prf: .hmacWithSHA1),
        Scheme(cipher: .aes256CBC, prf: .hmacWithSHA512),
        Scheme(cipher: .aes256CBC, prf: .hmacWithSHA384),
        Scheme(cipher: .desEDE3CBC, prf: .hmacWithSHA224),
    ]

    static func parameters(_ cipher: PBES2Parameters.Cipher, _ prf: PBES2Parameters.PRF, iterations: Int) -> PBES2Parameters {
        var generator = SystemRandomNumberGenerator()
        return PBES2Parameters(
            salt: RandomBytes.make(Int.random(in: 8...20), using: &generator), iterations: iterations, prf: prf, cipher: cipher,
            iv: RandomBytes.make(cipher.fileCipher.ivLength, using: &generator))
    }

    // MARK: Round trips

    @Test(arguments: SampleKey.allCases, schemes)
    func roundTrip(_ sample: SampleKey, scheme: Scheme) throws {
        let key = try sample.make()
        let passphrase = scheme.cipher.map { _ in Array(PEMTestSupport.randomPassphrase().utf8) }
        let parameters = Self.parameters(scheme.cipher ?? .aes256CBC, scheme.prf, iterations: Int.random(in: 1000...1100))
        let text = try key.pkcs8Text(passphrase: passphrase, parameters: parameters)
        let label = scheme.cipher == nil ? "PRIVATE KEY" : "ENCRYPTED PRIVATE KEY"
        #expect(text.hasPrefix("-----BEGIN \(label)-----\n"))

        let document = try PrivateKeyDocument(text: text)
        #expect(document.info.format == .pkcs8)
        #expect(document.info.isEncrypted == (scheme.cipher != nil))
        #expect(document.info.publicKey == nil)
        if let cipher = scheme.cipher {
            #expect(document.info.cipher == cipher.rawValue)
            #expect(document.info.kdf == "PBKDF2")
            #expect(document.info.kdfRounds == parameters.iterations)
            #expect(document.info.kdfParameters["prf"] == scheme.prf.rawValue)
            #expect(try PEMTestSupport.container(text).pbes2Parameters == parameters)
            #expect(throws: KeyError.passphraseRequired) { try document.decrypt(passphrase: nil) }
            #expect(throws: KeyError.wrongPassphrase) { try document.decrypt(passphrase: (passphrase ?? []) + [0x21]) }
        }
        #expect(try document.decrypt(passphrase: passphrase).material == key.material)
    }

    @Test func defaults() throws {
        let key = try SampleKey.ecdsa256.make()
        let passphrase = Array("secret-pass".utf8)
        let text = try key.serialized(as: PrivateKeyEncoding(format: .pkcs8, passphrase: passphrase))
        let parameters = try #require(try PEMTestSupport.container(text).pbes2Parameters)
        #expect(parameters.iterations == 100_000)
        #expect(parameters.prf == .hmacWithSHA256)
        #expect(parameters.cipher == .aes256CBC)
        #expect(parameters.salt.count == 16)
        #expect(try PrivateKeyDocument(text: text).decrypt(passphrase: passphrase).material == key.material)

        let fewer = try key.serialized(as: PrivateKeyEncoding(format: .pkcs8, passphrase: passphrase, rounds: 4096))
        #expect(try PrivateKeyDocument(text: fewer).info.kdfRounds == 4096)
        // An empty passphrase writes the key unencrypted.
        #expect(try key.serialized(as: PrivateKeyEncoding(format: .pkcs8, passphrase: [])).hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    // MARK: Limits and refusals

    @Test func iterationLimits() throws {
        let key = try SampleKey.ed25519.make()
        let passphrase = Array("secret-pass".utf8)
        for bad in [0, -5, 10_000_001, Int.max] {
            #expect(throws: KeyError(.invalidParameter, "")) { try key.pkcs8Text(passphrase: passphrase, iterations: bad) }
        }
        // A file asking for more than 10 000 000 iterations is refused before any work.
        let absurd = DERBytes.encryptedPrivateKeyInfo(
            kdf: DERBytes.pbkdf2Parameters(salt: Array(repeating: 1, count: 8), iterations: 10_000_001),
            cipher: DERBytes.sequence(DERBytes.aes256CBC, DERBytes.octets(Array(repeating: 2, count: 16))))
        let start = ContinuousClock.now
        #expect(throws: KeyError(.invalidParameter, "")) { try PrivateKeyDocument(text: absurd) }
        #expect(ContinuousClock.now - start < .seconds(1))
        let huge = DERBytes.encryptedPrivateKeyInfo(
            kdf: DERBytes.pbkdf2Parameters(salt: Array(repeating: 1, count: 8), iterations: Int(UInt32.max) * 1000),
            cipher: DERBytes.sequence(DERBytes.aes256CBC, DERBytes.octets(Array(repeating: 2, count: 16))))
        #expect(throws: KeyError(.invalidParameter, "")) { try PrivateKeyDocument(text: huge) }
    }

    @Test func handBuiltMatchesOurWriter() throws {
        // Checks the DER builder the refusal tests use against our writer (and so against OpenSSL's layout).
        let key = try SampleKey.ed25519.make()
        let passphrase = Array("secret-pass".utf8)
        let parameters = PBES2Parameters(
            salt: Array(repeating: 1, count: 8), iterations: 1000, prf: .hmacWithSHA256, cipher: .aes256CBC,
            iv: Array(repeating: 2, count: 16))
        let text = try key.pkcs8Text(passphrase: passphrase, parameters: parameters)
        let ciphertext = try parameters.encrypt(try PrivateKeyDER.pkcs8(key), passphrase: passphrase)
        let built = DERBytes.encryptedPrivateKeyInfo(
            kdf: DERBytes.pbkdf2Parameters(salt: parameters.salt, iterations: 1000),
            cipher: DERBytes.sequence(DERBytes.aes256CBC, DERBytes.octets(parameters.iv)), data: ciphertext)
        #expect(built == text)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let code: KeyError.Code
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = {
        let salt = [UInt8](repeating: 1, count: 8)
        let iv = DERBytes.sequence(DERBytes.aes256CBC, DERBytes.octets(Array(repeating: 2, count: 16)))
        let kdf = DERBytes.pbkdf2Parameters(salt: salt, iterations: 2048)
        let rsaModulus = [UInt8](repeating: 0xC3, count: 2049)  // 16392 bits
        return [
            Refusal(
                name: "PBES1 (pbeWithSHA1And3-KeyTripleDES-CBC)",
                text: PEMArmor.encode(
                    DERBytes.sequence(
                        DERBytes.sequence(DERBytes.pbeSHA1And3DES, DERBytes.sequence(DERBytes.octets(salt), DERBytes.integer(2048))),
                        DERBytes.octets(Array(repeating: 0, count: 32))),
                    label: "ENCRYPTED PRIVATE KEY"),
                code: .unsupportedCipher),
            Refusal(
                name: "scrypt",
                text: DERBytes.encryptedPrivateKeyInfo(
                    kdf: DERBytes.sequence(
                        DERBytes.scrypt,
                        DERBytes.sequence(DERBytes.octets(salt), DERBytes.integer(16384), DERBytes.integer(8), DERBytes.integer(1))),
                    cipher: iv),
                code: .unsupportedKDF),
            Refusal(
                name: "hmacWithMD5",
                text: DERBytes.encryptedPrivateKeyInfo(
                    kdf: DERBytes.pbkdf2Parameters(salt: salt, iterations: 2048, prf: DERBytes.hmacWithMD5), cipher: iv),
                code: .unsupportedKDF),
            Refusal(
                name: "aes-256-gcm",
                text: DERBytes.encryptedPrivateKeyInfo(
                    kdf: kdf, cipher: DERBytes.sequence(DERBytes.aes256GCM, DERBytes.octets(Array(repeating: 2, count: 12)))),
                code: .unsupportedCipher),
            Refusal(
                name: "key length 16 for AES-256",
                text: DERBytes.encryptedPrivateKeyInfo(kdf: DERBytes.pbkdf2Parameters(salt: salt, iterations: 2048, keyLength: 16), cipher: iv),
                code: .invalidParameter),
            Refusal(
                name: "IV of 8 bytes for AES",
                text: DERBytes.encryptedPrivateKeyInfo(
                    kdf: kdf, cipher: DERBytes.sequence(DERBytes.aes256CBC, DERBytes.octets(Array(repeating: 2, count: 8)))),
                code: .invalidParameter),
            Refusal(
                name: "empty salt",
                text: DERBytes.encryptedPrivateKeyInfo(kdf: DERBytes.pbkdf2Parameters(salt: [], iterations: 2048), cipher: iv),
                code: .invalidParameter),
            Refusal(
                name: "zero iterations",
                text: DERBytes.encryptedPrivateKeyInfo(kdf: DERBytes.pbkdf2Parameters(salt: salt, iterations: 0), cipher: iv),
                code: .invalidParameter),
            Refusal(
                name: "ciphertext not a whole number of blocks",
                text: DERBytes.encryptedPrivateKeyInfo(kdf: kdf, cipher: iv, data: Array(repeating: 1, count: 20)),
                code: .invalidFormat),
            Refusal(name: "empty ciphertext", text: DERBytes.encryptedPrivateKeyInfo(kdf: kdf, cipher: iv, data: []), code: .invalidFormat),
            Refusal(
                name: "DSA in PKCS#8",
                text: DERBytes.privateKeyInfo(
                    algorithm: DERBytes.sequence(DERBytes.dsa, DERBytes.sequence(DERBytes.integer(23), DERBytes.integer(11), DERBytes.integer(4))),
                    key: DERBytes.integer(3)),
                code: .unsupportedKeyType),
            Refusal(
                name: "X25519",
                text: DERBytes.privateKeyInfo(algorithm: DERBytes.sequence(DERBytes.x25519), key: DERBytes.octets(Array(repeating: 7, count: 32))),
                code: .unsupportedKeyType),
            Refusal(
                name: "RSASSA-PSS",
                text: DERBytes.privateKeyInfo(algorithm: DERBytes.sequence(DERBytes.rsaPSS), key: DERBytes.sequence()),
                code: .unsupportedKeyType),
            Refusal(
                name: "RSA of 16392 bits",
                text: DERBytes.privateKeyInfo(
                    algorithm: DERBytes.sequence(DERBytes.rsaEncryption, DERBytes.null),
                    key: DERBytes.sequence(
                        DERBytes.integer(0), DERBytes.integer(magnitude: rsaModulus), DERBytes.integer(65537),
                        DERBytes.integer(magnitude: rsaModulus), DERBytes.integer(3), DERBytes.integer(5), DERBytes.integer(7),
                        DERBytes.integer(9), DERBytes.integer(11))),
                code: .invalidKey),
            Refusal(
                name: "Ed25519 seed of 31 bytes",
                text: DERBytes.privateKeyInfo(
                    algorithm: DERBytes.sequence(DERBytes.tlv(0x06, [0x2B, 0x65, 0x70])), key: DERBytes.octets(Array(repeating: 7, count: 31))),
                code: .invalidKey),
            Refusal(
                name: "PKCS#8 version 2",
                text: PEMArmor.encode(
                    DERBytes.sequence(
                        DERBytes.integer(2), DERBytes.sequence(DERBytes.tlv(0x06, [0x2B, 0x65, 0x70])),
                        DERBytes.octets(DERBytes.octets(Array(repeating: 7, count: 32)))),
                    label: "PRIVATE KEY"),
                code: .invalidFormat),
        ]
    }()

    @Test(arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        #expect(throws: KeyError(refusal.code, "")) {
            try PrivateKeyDocument(text: refusal.text).decrypt(passphrase: Array("secret-pass".utf8))
        }
    }

    @Test func ed25519WithPublicKey() throws {
        // RFC 8410 section 10.3: OneAsymmetricKey version 1 with the public key in [1].
        let text = """
            -----BEGIN PRIVATE KEY-----
            MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
            oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB
            Z9w7lshQhqowtrbLDFw4rXAxZuE=
            -----END PRIVATE KEY-----
            """
        let key = try PrivateKeyDocument(text: text).decrypt(passphrase: nil)
        #expect(key.type == .ed25519)
        guard case .ed25519(_, let publicKey) = key.material else { return }
        #expect(publicKey.first == 0x19)
        // The public key must match the seed.
        let altered = text.replacingOccurrences(of: "Z9w7lshQ", with: "Z9w7lshR")
        #expect(throws: KeyError(.corrupt, "")) { try PrivateKeyDocument(text: altered) }
    }

    // MARK: Fixtures

    struct Fixture: Sendable, CustomTestStringConvertible {
        let file: String
        let publicFile: String
        let cipher: String?
        let prf: String?
        let iterations: Int?
        var testDescription: String { file }
    }

    static let fixtures: [Fixture] = [
        Fixture(file: "ecdsa384-pkcs8-aes128-sha256.pem", publicFile: "ecdsa384.pub", cipher: "aes-128-cbc", prf: "hmacWithSHA256", iterations: 2048),
        Fixture(file: "rsa2048-pkcs8-aes192-sha512.pem", publicFile: "rsa2048.pub", cipher: "aes-192-cbc", prf: "hmacWithSHA512", iterations: 1500),
        Fixture(file: "ed25519-pkcs8-des3-sha1.pem", publicFile: "ed25519.pub", cipher: "des-ede3-cbc", prf: "hmacWithSHA1", iterations: 1000),
        Fixture(file: "ed25519-pkcs8.pem", publicFile: "ed25519.pub", cipher: nil, prf: nil, iterations: nil),
    ]

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) throws {
        let text = try PEMTestSupport.fixture(fixture.file)
        let document = try PrivateKeyDocument(text: text)
        #expect(document.info.format == .pkcs8)
        #expect(document.info.cipher == fixture.cipher)
        #expect(document.info.kdfParameters["prf"] == fixture.prf)
        #expect(document.info.kdfRounds == fixture.iterations)
        let passphrase = fixture.cipher == nil ? nil : PEMFormatTests.fixturePassphrase
        let key = try document.decrypt(passphrase: passphrase)
        #expect(PEMTestSupport.keyFields(key.publicKey.openSSHLine) == PEMTestSupport.keyFields(try PEMTestSupport.fixture(fixture.publicFile)))
        if let parameters = try PEMTestSupport.container(text).pbes2Parameters {
            #expect(try key.pkcs8Text(passphrase: passphrase, parameters: parameters) == text)
        } else {
            #expect(try key.pkcs8Text(passphrase: nil, iterations: nil) == text)
        }
    }

    // MARK: Against ssh-keygen and openssl

    static let sshKeygenKeys: [SampleKey] = [.rsa2048, .ecdsa256, .ecdsa384, .ecdsa521]

    /// `ssh-keygen -m PKCS8` files (PBES2, AES-128-CBC, HMAC-SHA256, 2048 iterations from OpenSSL): we read the
    /// key `ssh-keygen -y` prints and write the same bytes given the same salt and IV.
    @Test(arguments: sshKeygenKeys)
    func readsSSHKeygenPKCS8(_ sample: SampleKey) throws {
        try PEMTestSupport.withScratch { directory in
            for passphrase in ["", PEMTestSupport.randomPassphrase()] {
                let path = directory.appendingPathComponent("k-\(passphrase.isEmpty ? "plain" : "enc")")
                try PEMTestSupport.run(
                    "ssh-keygen", ["-q"] + sample.sshKeygenArguments + ["-m", "PKCS8", "-N", passphrase, "-C", "", "-f", path.path],
                    in: directory)
                let text = try PEMTestSupport.read(path)
                let expected = try PEMTestSupport.run("ssh-keygen", ["-y", "-P", passphrase, "-f", path.path], in: directory).stdout
                let bytes = passphrase.isEmpty ? nil : Array(passphrase.utf8)
                let key = try PrivateKeyDocument(text: text).decrypt(passphrase: bytes)
                #expect(PEMTestSupport.keyFields(key.publicKey.openSSHLine) == PEMTestSupport.keyFields(expected))
                if let bytes {
                    let parameters = try #require(try PEMTestSupport.container(text).pbes2Parameters)
                    #expect(parameters.cipher == .aes128CBC)
                    #expect(parameters.prf == .hmacWithSHA256)
                    #expect(try key.pkcs8Text(passphrase: bytes, parameters: parameters) == text)
                } else {
                    #expect(try key.pkcs8Text(passphrase: nil, iterations: nil) == text)
                }
            }
        }
    }

    /// `openssl pkcs8 -topk8 -v2 CIPHER -v2prf PRF` of our plain file: we read it, and write it again byte for byte.
    @Test(
        arguments: SampleKey.allCases,
        [
            ("aes-128-cbc", "hmacWithSHA256"), ("aes-192-cbc", "hmacWithSHA1"), ("aes-256-cbc", "hmacWithSHA512"),
            ("des3", "hmacWithSHA224"), ("aes-256-cbc", "hmacWithSHA384"),
        ])
    func readsOpenSSLPKCS8(_ sample: SampleKey, scheme: (cipher: String, prf: String)) throws {
        let key = try sample.make()
        let passphrase = PEMTestSupport.randomPassphrase()
        let iterations = Int.random(in: 1000...3000)
        try PEMTestSupport.withScratch { directory in
            let plain = directory.appendingPathComponent("plain.pem")
            let encrypted = directory.appendingPathComponent("encrypted.pem")
            try PEMTestSupport.write(try key.pkcs8Text(passphrase: nil, iterations: nil), to: plain)
            try PEMTestSupport.run(
                "openssl",
                [
                    "pkcs8", "-topk8", "-in", plain.path, "-v2", scheme.cipher, "-v2prf", scheme.prf, "-iter", String(iterations),
                    "-passout", "pass:\(passphrase)", "-out", encrypted.path,
                ],
                in: directory)
            let text = try PEMTestSupport.read(encrypted)
            let document = try PrivateKeyDocument(text: text)
            #expect(document.info.kdfRounds == iterations)
            #expect(document.info.kdfParameters["prf"] == scheme.prf)
            #expect(document.info.cipher == (scheme.cipher == "des3" ? "des-ede3-cbc" : scheme.cipher))
            let decoded = try document.decrypt(passphrase: Array(passphrase.utf8))
            #expect(decoded.material == key.material)
            let parameters = try #require(try PEMTestSupport.container(text).pbes2Parameters)
            #expect(try decoded.pkcs8Text(passphrase: Array(passphrase.utf8), parameters: parameters) == text)
        }
    }

    /// Our PKCS#8, plain and encrypted with the defaults: `openssl pkey` reads it and writes the same plain
    /// PKCS#8 and SubjectPublicKeyInfo bytes we do; `ssh-keygen -y` reads it (RSA and ECDSA: OpenSSH 9.2 reads
    /// Ed25519 only from its own format).
    @Test(arguments: SampleKey.allCases)
    func toolsReadOurPKCS8(_ sample: SampleKey) throws {
        let key = try sample.make()
        let passphrase = PEMTestSupport.randomPassphrase()
        let plainText = try key.pkcs8Text(passphrase: nil, iterations: nil)
        let encryptedText = try key.pkcs8Text(passphrase: Array(passphrase.utf8), iterations: nil)
        try PEMTestSupport.withScratch { directory in
            let plain = directory.appendingPathComponent("plain.pem")
            let encrypted = directory.appendingPathComponent("encrypted.pem")
            try PEMTestSupport.write(plainText, to: plain)
            try PEMTestSupport.write(encryptedText, to: encrypted)
            for (path, pass) in [(plain, ""), (encrypted, passphrase)] {
                let rewritten = try PEMTestSupport.run(
                    "openssl", ["pkey", "-in", path.path, "-passin", "pass:\(pass)"], in: directory
                ).stdout
                #expect(rewritten == plainText)
                let spki = try PEMTestSupport.run(
                    "openssl", ["pkey", "-in", path.path, "-passin", "pass:\(pass)", "-pubout"], in: directory
                ).stdout
                #expect(spki == (try key.publicKey.pkcs8PEM()))
                guard sample != .ed25519 else { continue }
                let printed = try PEMTestSupport.run("ssh-keygen", ["-y", "-P", pass, "-f", path.path], in: directory).stdout
                #expect(PEMTestSupport.keyFields(printed) == PEMTestSupport.keyFields(key.publicKey.openSSHLine))
            }
            // A wrong passphrase is refused by openssl too.
            #expect(throws: (any Error).self) {
                try PEMTestSupport.run("openssl", ["pkey", "-in", encrypted.path, "-passin", "pass:\(passphrase)x"], in: directory)
            }
        }
    }

    // MARK: Bad input

    @Test func truncationAndBitFlips() throws {
        let passphrase = Array("secret-pass".utf8)
        let ecdsa = try SampleKey.ecdsa256.make()
        let parameters = Self.parameters(.aes128CBC, .hmacWithSHA256, iterations: 1)
        let encrypted = try ecdsa.pkcs8Text(passphrase: passphrase, parameters: parameters)
        let ed25519 = try SampleKey.ed25519.make().pkcs8Text(passphrase: nil, iterations: nil)

        for text in [encrypted, ed25519] {
            let bytes = Array(text.utf8)
            for length in 0..<(bytes.count - 1) {
                #expect(throws: KeyError.self, "prefix of \(length) bytes") {
                    try PrivateKeyDocument(text: String(decoding: bytes[..<length], as: UTF8.self)).decrypt(passphrase: passphrase)
                }
            }
        }

        // Every bit flip in the encrypted EC key's body is an error (before decryption the structure, after it
        // the padding, the DER or the scalar against the stored point) or, when it lands in the IV on the
        // PKCS#8 version (0 and 1 are both valid), the same key: never another key, never a crash.
        let lines = encrypted.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where !line.hasPrefix("-----") && !line.isEmpty {
            for position in 0..<line.utf8.count {
                for bit in 0..<7 {
                    var bytes = Array(line.utf8)
                    bytes[position] ^= 1 << bit
                    var mutated = lines
                    mutated[index] = String(decoding: bytes, as: UTF8.self)
                    do {
                        let decoded = try PrivateKeyDocument(text: mutated.joined(separator: "\n")).decrypt(passphrase: passphrase)
                        #expect(decoded.material == ecdsa.material, "line \(index) byte \(position) bit \(bit)")
                    } catch {
                        // A KeyError (the only kind `decrypt` throws): what the flip should give.
                    }
                }
            }
        }

        // Flips in a plain Ed25519 key may give another valid key (the seed is not checked against anything),
        // but never a crash.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var bytes = Array(ed25519.utf8)
            let position = Int.random(in: 28..<(bytes.count - 26), using: &generator)
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            _ = try? PrivateKeyDocument(text: String(decoding: bytes, as: UTF8.self)).decrypt(passphrase: nil)
        }
    }
}
