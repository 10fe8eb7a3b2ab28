package import ArgumentParser
package import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the current passphrase of a key comes from: `-P`, `--passphrase-file`, `KEYFLEET_PASSPHRASE`,
/// or (when none is given and there is a terminal) a prompt.
package struct PassphraseOptions: ParsableArguments {
    @Option(name: .customShort("P"), parsing: .unconditional, help: ArgumentHelp("The key's current passphrase.", valueName: "passphrase"))
    package var passphrase: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the current passphrase from the first line of a file.", valueName: "file"))
    package var passphraseFile: String?

    /// Options as ArgumentParser makes them.
    package init() {}

    /// The passphrase given without prompting, if any.
    package func given() throws(CLIError) -> [UInt8]? {
        if let passphrase { return Array(passphrase.utf8) }
        if let passphraseFile { return try Passphrase.fromFile(passphraseFile) }
        if let value = getenv("KEYFLEET_PASSPHRASE") { return Array(String(cString: value).utf8) }
        return nil
    }

    /// Decrypts `document`, asking on the terminal when it is encrypted and no passphrase was given.
    package func decrypt(_ document: PrivateKeyDocument, path: String) throws(CLIError) -> PrivateKey {
        try decryptKeepingPassphrase(document, path: path).key
    }

    /// Decrypts as ``decrypt(_:path:)`` and also returns the passphrase that worked (nil for a key that
    /// was not encrypted), so a command can write the key again under the same one.
    package func decryptKeepingPassphrase(_ document: PrivateKeyDocument, path: String) throws(CLIError) -> (key: PrivateKey, passphrase: [UInt8]?) {
        var passphrase = try given()
        if passphrase == nil, document.info.isEncrypted {
            guard let typed = Terminal.readSecret(prompt: "Enter passphrase for \(Terminal.safe(path)): ") else {
                throw CLIError("\(Terminal.safe(path)): the key is encrypted; give its passphrase with -P, --passphrase-file or KEYFLEET_PASSPHRASE")
            }
            passphrase = typed
        }
        // Argon2 with large memory or many bcrypt rounds take seconds: a spinner shows it on a terminal.
        let key = try Progress.run("Decrypting the key", when: document.info.isEncrypted) { () throws(CLIError) in
            try KeyError.located(in: path) { () throws(KeyError) in try document.decrypt(passphrase: passphrase) }
        }
        return (key, document.info.isEncrypted ? passphrase : nil)
    }
}

package enum Passphrase {
    /// The first line of `path`, without its line break.
    package static func fromFile(_ path: String) throws(CLIError) -> [UInt8] {
        let bytes = try FileSystem.read(path, limit: 64 * 1024)
        var line = Array(bytes.prefix { $0 != 0x0A })
        if line.last == 0x0D { line.removeLast() }
        return line
    }

    /// A new passphrase from `-N`, a file, the environment, or asked twice on the terminal (/dev/tty, even
    /// when standard input is redirected, as ssh-keygen). Empty means none. With no terminal and nothing
    /// given this is an error, never a silent "no passphrase": `-N ''` says that explicitly.
    package static func new(flag: String?, file: String?, environment: [String], allowPrompt: Bool, for path: String) throws(CLIError) -> [UInt8] {
        if let flag { return Array(flag.utf8) }
        if let file { return try fromFile(file) }
        for name in environment {
            if let value = getenv(name) { return Array(String(cString: value).utf8) }
        }
        guard allowPrompt, let first = Terminal.readSecret(prompt: "Enter passphrase for \(Terminal.safe(path)) (empty for no passphrase): ") else {
            throw CLIError(
                "\(Terminal.safe(path)): no new passphrase given and no terminal to ask on: use -N PASSPHRASE (or -N '' for none), "
                    + "--new-passphrase-file or \(environment.first ?? "KEYFLEET_NEW_PASSPHRASE")")
        }
        guard let second = Terminal.readSecret(prompt: "Enter same passphrase again: "), second == first else {
            throw CLIError("\(Terminal.safe(path)): the two passphrases typed do not match; nothing was written")
        }
        return first
    }
}

package enum OpenSSHKeyTextTrim {
    /// Text without trailing blanks and CR.
    package static func trimmed(_ text: String) -> String {
        var result = Substring(text)
        while let last = result.last, last == " " || last == "\t" || last == "\r" { result.removeLast() }
        return String(result)
    }
}

/// A key file read from disk: a private key (not yet decrypted) or a public key.
package enum KeyInput {
    case privateKey(PrivateKeyDocument)
    case publicKey(PublicKey)

    /// Reads `path` and detects its format: openssh-key-v1, PEM/PKCS#8, PuTTY, RFC 4716, PKCS#8/PKCS#1
    /// public PEM, or an OpenSSH public key line (the first key in the file).
    package static func load(_ path: String) throws(CLIError) -> KeyInput {
        let bytes = try FileSystem.read(path, limit: PrivateKeyDocument.maximumLength)
        return try KeyError.located(in: path) { () throws(KeyError) in try parse(bytes) }
    }

    private static let rfc4716Marker = "---- BEGIN SSH2 PUBLIC KEY ----"
    private static let pemPublicMarkers = ["-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----"]

    /// Whether `head` (leading blanks removed) starts an armoured public key: RFC 4716 or PEM. Such files
    /// hold one key, read by ``parse(_:)``, not a list of key lines.
    package static func isArmoredPublicKey(_ head: some StringProtocol) -> Bool {
        head.hasPrefix(rfc4716Marker) || pemPublicMarkers.contains { head.hasPrefix($0) }
    }

    package static func parse(_ bytes: [UInt8]) throws(KeyError) -> KeyInput {
        // A .ppk file that ends after its public key, as PuTTY reads one for its public outputs.
        if PublicKey.isPPKPublicOnly(bytes) { return .publicKey(try PublicKey(ppkPublicOnly: bytes)) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            // A PuTTY comment may be any bytes: the document reader takes such a file, and refuses others.
            if PrivateKeyDocument.looksLikePrivateKey(String(decoding: bytes.prefix(128), as: UTF8.self)) {
                return .privateKey(try PrivateKeyDocument(bytes: bytes))
            }
            throw KeyError(.invalidFormat, "not a text file (is it a DER or binary key?)")
        }
        let head = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if PrivateKeyDocument.looksLikePrivateKey(head) || PrivateKeyDocument.hasPEMPrivateKeyAfterText(text) {
            return .privateKey(try PrivateKeyDocument(text: text))
        }
        if head.hasPrefix(rfc4716Marker) {
            return .publicKey(try PublicKey(rfc4716: text))
        }
        if pemPublicMarkers.contains(where: { head.hasPrefix($0) }) {
            return .publicKey(try PublicKey(pem: text))
        }
        var found: PublicKey?
        var failure: KeyError?
        KeyListScanner().scan(bytes) { line in
            guard found == nil, failure == nil else { return }
            if let key = line.key {
                let text = line.comment.map { String(decoding: bytes[$0], as: UTF8.self) } ?? ""
                found = (try? key.withComment(OpenSSHKeyTextTrim.trimmed(text))) ?? key
            } else if let error = line.error {
                failure = error.at("line \(line.number)")
            }
        }
        if let found { return .publicKey(found) }
        throw failure ?? KeyError(.invalidFormat, "no key found")
    }

    /// The public key: of the private key's clear public part, or of decrypting it with `passphrases`.
    package func publicKey(path: String, passphrases: PassphraseOptions) throws(CLIError) -> PublicKey {
        switch self {
        case .publicKey(let key):
            return key
        case .privateKey(let document):
            return try passphrases.decrypt(document, path: path).publicKey
        }
    }
}
