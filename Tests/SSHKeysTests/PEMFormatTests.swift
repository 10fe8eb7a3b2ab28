import Foundation
import TestSupport
import Testing

@testable import SSHKeys

// MARK: - Support shared by the PEM and PKCS#8 tests

/// Fixtures, sample keys, random passphrases and a small runner for `ssh-keygen` and `openssl`.
enum PEMTestSupport {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What a finished tool printed.
    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `tool` (by name, through TestSupport's ``ExternalTool``, which fails with install advice when it
    /// is missing) in `directory`; throws when it exits non-zero.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: URL) throws -> Output {
        let result = try ExternalTool.run(tool, arguments, currentDirectory: directory.path)
        guard result.status == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")) exited with \(result.status): \(result.stderr)")
        }
        return Output(status: result.status, stdout: result.text, stderr: result.stderr)
    }

    /// Runs `body` with a fresh temporary directory, removed afterwards.
    static func withScratch<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyfleet-pem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Writes `text` with mode 600 (ssh-keygen refuses private keys others can read).
    static func write(_ text: String, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw Failure(description: "cannot write \(url.path)") }
    }

    static func read(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    /// A fixture from Fixtures/pem (see its README for the commands that made each file).
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/pem").appendingPathComponent(name)
        return try read(url)
    }

    /// 8 to 24 characters (ssh-keygen refuses 4 or fewer for PEM): letters, digits, punctuation, spaces and
    /// some non-ASCII letters.
    static func randomPassphrase() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&()*+,-./:;<=>?@[]^_{|}~éß€ж")
        return String((0..<Int.random(in: 8...24)).map { _ in alphabet.randomElement() ?? "a" })
    }

    /// "type base64" of an OpenSSH public key line, without the comment.
    static func keyFields(_ line: String) -> String {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline }).prefix(2).joined(separator: " ")
    }

    /// The container behind a PEM or PKCS#8 text, for its parsed parameters.
    static func container(_ text: String) throws -> PEMPrivateKeyContainer {
        try PEMPrivateKeyContainer(text: text)
    }
}

/// The keys the round trips use: the RSA fixture (generating RSA in a debug build is slow) and fresh
/// ECDSA and Ed25519 keys.
enum SampleKey: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case rsa2048, ecdsa256, ecdsa384, ecdsa521, ed25519

    var testDescription: String { rawValue }

    func make() throws -> PrivateKey {
        switch self {
        case .rsa2048: try PrivateKeyDocument(text: try PEMTestSupport.fixture("rsa2048-pkcs1.pem")).decrypt(passphrase: nil)
        case .ecdsa256: try PrivateKey.generate(.ecdsa(.nistp256))
        case .ecdsa384: try PrivateKey.generate(.ecdsa(.nistp384))
        case .ecdsa521: try PrivateKey.generate(.ecdsa(.nistp521))
        case .ed25519: try PrivateKey.generate(.ed25519)
        }
    }

    /// `ssh-keygen -t` and `-b` for a fresh key of this kind.
    var sshKeygenArguments: [String] {
        switch self {
        case .rsa2048: ["-t", "rsa", "-b", "2048"]
        case .ecdsa256: ["-t", "ecdsa", "-b", "256"]
        case .ecdsa384: ["-t", "ecdsa", "-b", "384"]
        case .ecdsa521: ["-t", "ecdsa", "-b", "521"]
        case .ed25519: ["-t", "ed25519"]
        }
    }
}

// MARK: - Traditional PEM and public key PEM

/// `RSA PRIVATE KEY` / `EC PRIVATE KEY` / `DSA PRIVATE KEY` with and without legacy encryption, and the
/// `PUBLIC KEY` / `RSA PUBLIC KEY` forms, against fixtures and against ssh-keygen and openssl at test time.
@Suite("PEM format")
struct PEMFormatTests {
    static let pemKeys: [SampleKey] = [.rsa2048, .ecdsa256, .ecdsa384, .ecdsa521]
    static let ciphers: [String?] = [nil, "AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "DES-EDE3-CBC"]

    // MARK: Round trips

    @Test(arguments: pemKeys, ciphers)
    func roundTrip(_ sample: SampleKey, cipher: String?) throws {
        let key = try sample.make()
        let passphrase = cipher.map { _ in Array(PEMTestSupport.randomPassphrase().utf8) }
        let text = try key.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: passphrase, cipher: cipher))
        let label = sample == .rsa2048 ? "RSA PRIVATE KEY" : "EC PRIVATE KEY"
        #expect(text.hasPrefix("-----BEGIN \(label)-----\n"))
        #expect(text.hasSuffix("-----END \(label)-----\n"))

        let document = try PrivateKeyDocument(text: text)
        #expect(document.info.format == .pem)
        #expect(document.info.isEncrypted == (cipher != nil))
        #expect(document.info.cipher == cipher)
        #expect(document.info.publicKey == nil)
        if cipher != nil {
            #expect(text.contains("Proc-Type: 4,ENCRYPTED\nDEK-Info: \(cipher ?? ""),"))
            #expect(document.info.kdf == "EVP_BytesToKey")
            #expect(document.info.kdfRounds == 1)
            #expect(throws: KeyError.passphraseRequired) { try document.decrypt(passphrase: nil) }
            #expect(throws: KeyError.wrongPassphrase) { try document.decrypt(passphrase: (passphrase ?? []) + [0x78]) }
        }
        let decoded = try document.decrypt(passphrase: passphrase)
        #expect(decoded.material == key.material)
    }

    @Test func defaultCipherIsAES128CBC() throws {
        let key = try SampleKey.ecdsa256.make()
        let text = try key.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: Array("secret-pass".utf8)))
        #expect(try PrivateKeyDocument(text: text).info.cipher == "AES-128-CBC")
        // Lower-case names are accepted and written in OpenSSL's upper case.
        let lower = try key.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: Array("secret-pass".utf8), cipher: "aes-256-cbc"))
        #expect(lower.contains("DEK-Info: AES-256-CBC,"))
    }

    @Test func refusals() throws {
        let ed25519 = try SampleKey.ed25519.make()
        #expect(throws: KeyError(.unsupportedOperation, "")) { try ed25519.serialized(as: PrivateKeyEncoding(format: .pem)) }
        let ecdsa = try SampleKey.ecdsa256.make()
        #expect(throws: KeyError(.unsupportedCipher, "")) {
            try ecdsa.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: Array("secret-pass".utf8), cipher: "DES-CBC"))
        }
        #expect(throws: KeyError(.invalidParameter, "")) {
            try ecdsa.pemText(passphrase: Array("secret-pass".utf8), cipher: .aes128CBC, iv: [1, 2, 3])
        }
        // A public key, or a block we do not know, is not a private key.
        #expect(throws: KeyError(.invalidFormat, "")) { try PrivateKeyDocument(text: try PEMTestSupport.fixture("rsa2048-spki.pem")) }
        #expect(throws: KeyError(.invalidFormat, "")) {
            try PrivateKeyDocument(text: "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
        }
    }

    @Test func malformedLegacyHeaders() throws {
        let key = try SampleKey.ecdsa256.make()
        let good = try key.pemText(passphrase: Array("secret-pass".utf8), cipher: .aes128CBC, iv: [UInt8](repeating: 7, count: 16))
        let cases: [(String, String, KeyError.Code)] = [
            ("Proc-Type: 4,ENCRYPTED", "Proc-Type: 4,MIC-ONLY", .invalidFormat),
            ("DEK-Info: AES-128-CBC,", "DEK-Info: DES-CBC,", .unsupportedCipher),
            ("DEK-Info: AES-128-CBC,07070707070707070707070707070707", "DEK-Info: AES-128-CBC,0707", .invalidFormat),
            ("DEK-Info: AES-128-CBC,07070707070707070707070707070707", "DEK-Info: AES-128-CBC,zz070707070707070707070707070707", .invalidFormat),
            ("DEK-Info: AES-128-CBC,07070707070707070707070707070707", "DEK-Info: AES-128-CBC", .invalidFormat),
            ("Proc-Type: 4,ENCRYPTED\n", "", .invalidFormat),
            ("Proc-Type: 4,ENCRYPTED\n", "Proc-Type: 4,ENCRYPTED\nComment: hello\n", .invalidFormat),
        ]
        for (old, new, code) in cases {
            let text = good.replacingOccurrences(of: old, with: new)
            #expect(text != good)
            #expect(throws: KeyError(code, "")) { try PrivateKeyDocument(text: text) }
        }
        // Headers on a PKCS#8 block are refused.
        let pkcs8 = try key.pkcs8Text(passphrase: nil, iterations: nil)
        let withHeader = pkcs8.replacingOccurrences(
            of: "-----BEGIN PRIVATE KEY-----\n", with: "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n")
        #expect(withHeader != pkcs8)
        #expect(throws: KeyError(.invalidFormat, "")) { try PrivateKeyDocument(text: withHeader) }
    }

    // MARK: Fixtures

    /// A fixture, the public key file that goes with it, and its passphrase.
    struct Fixture: Sendable, CustomTestStringConvertible {
        let file: String
        let publicFile: String
        let encrypted: Bool
        /// Whether writing the key again (with the file's IV) must give the file byte for byte.
        let rewritesIdentically: Bool
        var testDescription: String { file }
    }

    static let fixtures: [Fixture] = [
        Fixture(file: "rsa2048-pkcs1.pem", publicFile: "rsa2048.pub", encrypted: false, rewritesIdentically: true),
        Fixture(file: "rsa2048-pem-aes256.pem", publicFile: "rsa2048.pub", encrypted: true, rewritesIdentically: true),
        Fixture(file: "ecdsa256-pem-aes128.pem", publicFile: "ecdsa256.pub", encrypted: true, rewritesIdentically: true),
        Fixture(file: "ecdsa521-sec1.pem", publicFile: "ecdsa521.pub", encrypted: false, rewritesIdentically: true),
        Fixture(file: "ecdsa521-pem-des3.pem", publicFile: "ecdsa521.pub", encrypted: true, rewritesIdentically: true),
        Fixture(file: "ecdsa256-with-ecparameters.pem", publicFile: "ecdsa256-with-ecparameters.pub", encrypted: false, rewritesIdentically: false),
        Fixture(file: "dsa1024.pem", publicFile: "dsa1024.pub", encrypted: false, rewritesIdentically: false),
    ]
    static let fixturePassphrase = Array("keyfleet-fixture".utf8)

    @Test(arguments: fixtures)
    func fixture(_ fixture: Fixture) throws {
        let text = try PEMTestSupport.fixture(fixture.file)
        let document = try PrivateKeyDocument(text: text)
        #expect(document.info.format == .pem)
        #expect(document.info.isEncrypted == fixture.encrypted)
        let key = try document.decrypt(passphrase: fixture.encrypted ? Self.fixturePassphrase : nil)
        let expected = PEMTestSupport.keyFields(try PEMTestSupport.fixture(fixture.publicFile))
        #expect(PEMTestSupport.keyFields(key.publicKey.openSSHLine) == expected)
        guard fixture.rewritesIdentically else { return }
        let container = try PEMTestSupport.container(text)
        if let (cipher, iv) = container.legacyEncryption {
            #expect(try key.pemText(passphrase: Self.fixturePassphrase, cipher: cipher, iv: iv) == text)
        } else {
            #expect(try key.pemText(passphrase: nil, cipher: nil) == text)
        }
    }

    @Test func ecParametersBlockIsSkipped() throws {
        // `openssl ecparam -genkey` writes the curve first; the key that follows is what OpenSSL writes itself.
        let text = try PEMTestSupport.fixture("ecdsa256-with-ecparameters.pem")
        let key = try PrivateKeyDocument(text: text).decrypt(passphrase: nil)
        guard let start = text.range(of: "-----BEGIN EC PRIVATE KEY-----") else {
            Issue.record("no EC PRIVATE KEY block")
            return
        }
        #expect(try key.pemText(passphrase: nil, cipher: nil) == String(text[start.lowerBound...]))
    }

    /// A DSA key read from PEM is written back to PEM (a new passphrase, as ssh-keygen -p does for it), byte for
    /// byte as OpenSSL wrote it; PKCS#8 holds no DSA key here, read or written.
    @Test func dsaIsWrittenBackAsPEM() throws {
        let fixture = try PEMTestSupport.fixture("dsa1024.pem")
        let key = try PrivateKeyDocument(text: fixture).decrypt(passphrase: nil)
        #expect(key.type == .dsa)
        #expect(try key.serialized(as: PrivateKeyEncoding(format: .pem)) == fixture)
        let passphrase = Array(RandomInput.passphrase().utf8)
        let encrypted = try key.serialized(as: PrivateKeyEncoding(format: .pem, passphrase: passphrase))
        #expect(try PrivateKeyDocument(text: encrypted).decrypt(passphrase: passphrase).material == key.material)
        #expect(throws: KeyError(.unsupportedOperation, "")) { try key.serialized(as: PrivateKeyEncoding(format: .pkcs8)) }
        #expect(throws: KeyError(.unsupportedOperation, "")) { try key.publicKey.pkcs8PEM() }
    }

    // MARK: Public keys

    struct PublicFixture: Sendable, CustomTestStringConvertible {
        let file: String
        let publicFile: String
        let pkcs1: Bool
        var testDescription: String { file }
    }

    static let publicFixtures: [PublicFixture] = [
        PublicFixture(file: "rsa2048-spki.pem", publicFile: "rsa2048.pub", pkcs1: false),
        PublicFixture(file: "rsa2048-pkcs1-public.pem", publicFile: "rsa2048.pub", pkcs1: true),
        PublicFixture(file: "ecdsa384-spki.pem", publicFile: "ecdsa384.pub", pkcs1: false),
        PublicFixture(file: "ed25519-spki.pem", publicFile: "ed25519.pub", pkcs1: false),
    ]

    @Test(arguments: publicFixtures)
    func publicFixture(_ fixture: PublicFixture) throws {
        let text = try PEMTestSupport.fixture(fixture.file)
        let key = try PublicKey(pem: text)
        #expect(PEMTestSupport.keyFields(key.openSSHLine) == PEMTestSupport.keyFields(try PEMTestSupport.fixture(fixture.publicFile)))
        #expect(key.comment == "")
        #expect(try (fixture.pkcs1 ? key.pkcs1PEM() : key.pkcs8PEM()) == text)
    }

    @Test func publicRefusals() throws {
        let ecdsa = try SampleKey.ecdsa256.make().publicKey
        #expect(throws: KeyError(.unsupportedOperation, "")) { try ecdsa.pkcs1PEM() }
        let sk = try PublicKey(material: .skEd25519(publicKey: [UInt8](repeating: 9, count: 32), application: "ssh:"))
        #expect(throws: KeyError(.unsupportedOperation, "")) { try sk.pkcs8PEM() }
        #expect(throws: KeyError(.invalidFormat, "")) { try PublicKey(pem: try PEMTestSupport.fixture("rsa2048-pkcs1.pem")) }
        #expect(throws: KeyError(.tooLarge, "")) { try PublicKey(pem: String(repeating: "A", count: 70_000)) }
        // An X25519 key is a valid SubjectPublicKeyInfo but not an SSH key.
        let x25519 = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAHLw8K0xmDe2MC9ljzyCGn2p0I5TcFZWcTRdsG6V4U3s=\n-----END PUBLIC KEY-----\n"
        #expect(throws: KeyError(.unsupportedKeyType, "")) { try PublicKey(pem: x25519) }
    }

    @Test(arguments: SampleKey.allCases)
    func publicRoundTrip(_ sample: SampleKey) throws {
        let key = try sample.make().publicKey
        #expect(try PublicKey(pem: try key.pkcs8PEM()).wireBytes == key.wireBytes)
        if sample == .rsa2048 {
            #expect(try PublicKey(pem: try key.pkcs1PEM()).wireBytes == key.wireBytes)
        }
    }

    // MARK: Against ssh-keygen and openssl

    /// ssh-keygen writes a fresh key as PEM (with and without a passphrase); we read the public key
    /// `ssh-keygen -y` prints, and writing it again with the file's IV gives the file byte for byte.
    @Test(arguments: pemKeys)
    func readsSSHKeygenPEM(_ sample: SampleKey) throws {
        try PEMTestSupport.withScratch { directory in
            for passphrase in ["", PEMTestSupport.randomPassphrase()] {
                let path = directory.appendingPathComponent("k-\(passphrase.isEmpty ? "plain" : "enc")")
                try PEMTestSupport.run(
                    "ssh-keygen", ["-q"] + sample.sshKeygenArguments + ["-m", "PEM", "-N", passphrase, "-C", "", "-f", path.path],
                    in: directory)
                let text = try PEMTestSupport.read(path)
                let expected = try PEMTestSupport.run("ssh-keygen", ["-y", "-P", passphrase, "-f", path.path], in: directory).stdout
                let bytes = passphrase.isEmpty ? nil : Array(passphrase.utf8)
                let key = try PrivateKeyDocument(text: text).decrypt(passphrase: bytes)
                #expect(PEMTestSupport.keyFields(key.publicKey.openSSHLine) == PEMTestSupport.keyFields(expected))
                let container = try PEMTestSupport.container(text)
                if let bytes, let (cipher, iv) = container.legacyEncryption {
                    #expect(cipher == .aes128CBC)
                    #expect(try key.pemText(passphrase: bytes, cipher: cipher, iv: iv) == text)
                } else {
                    #expect(bytes == nil)
                    #expect(try key.pemText(passphrase: nil, cipher: nil) == text)
                }
            }
        }
    }

    /// Our PEM files, with every cipher, are read by `ssh-keygen -y` and by `openssl pkey`.
    @Test(arguments: pemKeys, ciphers)
    func sshKeygenAndOpenSSLReadOurPEM(_ sample: SampleKey, cipher: String?) throws {
        let key = try sample.make()
        let passphrase = PEMTestSupport.randomPassphrase()
        let text = try key.pemText(passphrase: cipher == nil ? nil : Array(passphrase.utf8), cipher: cipher)
        try PEMTestSupport.withScratch { directory in
            let path = directory.appendingPathComponent("ours.pem")
            try PEMTestSupport.write(text, to: path)
            let printed = try PEMTestSupport.run(
                "ssh-keygen", ["-y", "-P", cipher == nil ? "" : passphrase, "-f", path.path], in: directory
            ).stdout
            #expect(PEMTestSupport.keyFields(printed) == PEMTestSupport.keyFields(key.publicKey.openSSHLine))
            let spki = try PEMTestSupport.run(
                "openssl", ["pkey", "-in", path.path, "-passin", "pass:\(passphrase)", "-pubout"], in: directory
            ).stdout
            #expect(spki == (try key.publicKey.pkcs8PEM()))
            // openssl writes the traditional form of the decrypted key byte for byte as we do.
            let traditional = try PEMTestSupport.run(
                "openssl", ["pkey", "-in", path.path, "-passin", "pass:\(passphrase)", "-traditional"], in: directory
            ).stdout
            #expect(traditional == (try key.pemText(passphrase: nil, cipher: nil)))
        }
    }

    /// `ssh-keygen -e -m PKCS8|PEM` prints what we write; `ssh-keygen -i -m PKCS8|PEM` reads what we write.
    @Test(arguments: pemKeys)
    func publicExportAndImportMatchSSHKeygen(_ sample: SampleKey) throws {
        try PEMTestSupport.withScratch { directory in
            // A fresh key from ssh-keygen, so RSA is new on every run too.
            let path = directory.appendingPathComponent("k")
            try PEMTestSupport.run(
                "ssh-keygen", ["-q"] + sample.sshKeygenArguments + ["-N", "", "-C", "", "-f", path.path], in: directory)
            let key = try PublicKey(openSSHLine: try PEMTestSupport.read(directory.appendingPathComponent("k.pub")))
            let pub = path.path + ".pub"

            let pkcs8 = try PEMTestSupport.run("ssh-keygen", ["-e", "-m", "PKCS8", "-f", pub], in: directory).stdout
            #expect(pkcs8 == (try key.pkcs8PEM()))
            let ours = directory.appendingPathComponent("ours-spki.pem")
            try PEMTestSupport.write(try key.pkcs8PEM(), to: ours)
            let imported = try PEMTestSupport.run("ssh-keygen", ["-i", "-m", "PKCS8", "-f", ours.path], in: directory).stdout
            #expect(PEMTestSupport.keyFields(imported) == PEMTestSupport.keyFields(key.openSSHLine))
            #expect(try PublicKey(pem: pkcs8).wireBytes == key.wireBytes)

            guard sample == .rsa2048 else { return }
            let pkcs1 = try PEMTestSupport.run("ssh-keygen", ["-e", "-m", "PEM", "-f", pub], in: directory).stdout
            #expect(pkcs1 == (try key.pkcs1PEM()))
            let oursPKCS1 = directory.appendingPathComponent("ours-pkcs1.pem")
            try PEMTestSupport.write(try key.pkcs1PEM(), to: oursPKCS1)
            let importedPKCS1 = try PEMTestSupport.run("ssh-keygen", ["-i", "-m", "PEM", "-f", oursPKCS1.path], in: directory).stdout
            #expect(PEMTestSupport.keyFields(importedPKCS1) == PEMTestSupport.keyFields(key.openSSHLine))
        }
    }

    /// openssl's other spellings of the same keys: compressed EC points in SubjectPublicKeyInfo.
    @Test
    func readsCompressedECPublicKey() throws {
        let key = try SampleKey.ecdsa384.make()
        try PEMTestSupport.withScratch { directory in
            let path = directory.appendingPathComponent("k.pem")
            try PEMTestSupport.write(try key.pemText(passphrase: nil, cipher: nil), to: path)
            let compressed = try PEMTestSupport.run(
                "openssl", ["ec", "-in", path.path, "-pubout", "-conv_form", "compressed"], in: directory
            ).stdout
            #expect(try PublicKey(pem: compressed).wireBytes == key.publicKey.wireBytes)
        }
    }

    // MARK: Bad input

    /// Every proper prefix of a PEM file that cuts into its footer or earlier is an error, never a crash.
    @Test(arguments: [nil, "AES-128-CBC", "DES-EDE3-CBC"] as [String?])
    func truncation(cipher: String?) throws {
        let key = try SampleKey.ecdsa256.make()
        let passphrase = Array("secret-pass".utf8)
        let text = try key.pemText(passphrase: cipher == nil ? nil : passphrase, cipher: cipher)
        let bytes = Array(text.utf8)
        // The text stays complete down to the footer's last dash; only the final newline may go.
        for length in 0..<(bytes.count - 1) {
            let prefix = String(decoding: bytes[..<length], as: UTF8.self)
            #expect(throws: KeyError.self, "prefix of \(length) bytes") {
                try PrivateKeyDocument(text: prefix).decrypt(passphrase: passphrase)
            }
        }
    }

    /// Every single-bit flip in the base64 body of an EC key is an error (every byte of SEC1 is checked:
    /// the scalar against the stored point), never a crash; random flips in an RSA key never crash.
    @Test(arguments: [nil, "AES-128-CBC"] as [String?])
    func bitFlips(cipher: String?) throws {
        let passphrase = Array("secret-pass".utf8)
        let ecdsa = try SampleKey.ecdsa256.make()
        let text = try ecdsa.pemText(passphrase: cipher == nil ? nil : passphrase, cipher: cipher)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where !line.hasPrefix("-----") && !line.contains(":") && !line.isEmpty {
            for position in 0..<line.utf8.count {
                for bit in 0..<7 {
                    var bytes = Array(line.utf8)
                    bytes[position] ^= 1 << bit
                    var mutated = lines
                    mutated[index] = String(decoding: bytes, as: UTF8.self)
                    #expect(throws: KeyError.self, "line \(index) byte \(position) bit \(bit)") {
                        try PrivateKeyDocument(text: mutated.joined(separator: "\n")).decrypt(passphrase: passphrase)
                    }
                }
            }
        }

        let rsa = try SampleKey.rsa2048.make()
        let rsaText = try rsa.pemText(passphrase: cipher == nil ? nil : passphrase, cipher: cipher)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes = Array(rsaText.utf8)
            let position = Int.random(in: 40..<(bytes.count - 40), using: &generator)
            bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            _ = try? PrivateKeyDocument(text: String(decoding: bytes, as: UTF8.self)).decrypt(passphrase: passphrase)
        }
    }

    /// Structures that are DER but not what they claim to be.
    @Test func malformedDER() throws {
        func pem(_ label: String, _ der: [UInt8]) -> String { PEMArmor.encode(der, label: label) }
        let cases: [(String, [UInt8], KeyError.Code)] = [
            ("RSA PRIVATE KEY", [], .truncated),
            ("RSA PRIVATE KEY", [0x30, 0x03, 0x02, 0x01, 0x00], .invalidFormat),  // version only
            ("RSA PRIVATE KEY", [0x30, 0x03, 0x02, 0x01, 0x01], .unsupportedKeyType),  // multi-prime
            ("RSA PRIVATE KEY", [0x30, 0x05, 0x02, 0x01], .truncated),
            ("RSA PRIVATE KEY", [0x30, 0x00, 0x00], .invalidFormat),  // trailing byte
            ("EC PRIVATE KEY", [0x30, 0x03, 0x02, 0x01, 0x00], .invalidFormat),  // version 0
            ("EC PRIVATE KEY", [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x01], .invalidFormat),  // no curve
            ("EC PRIVATE KEY", [0x30, 0x0B, 0x02, 0x01, 0x01, 0x04, 0x01, 0x01, 0xA0, 0x03, 0x06, 0x01, 0x2A], .unsupportedKeyType),
            ("DSA PRIVATE KEY", [0x31, 0x00], .invalidFormat),
        ]
        for (label, der, code) in cases {
            #expect(throws: KeyError(code, ""), "\(label) \(der)") { try PrivateKeyDocument(text: pem(label, der)) }
        }
    }
}
