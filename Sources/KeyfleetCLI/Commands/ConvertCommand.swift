import ArgumentParser
import SSHKeys

/// `keyfleet convert`: any key format in, the named format out.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a key between OpenSSH, RFC 4716, PKCS#8, PEM and PuTTY formats.",
        discussion: """
            The input format is detected. With --public (implied for public key input) only the public key is \
            written: openssh (one line), rfc4716 (SSH2), pkcs8 (PEM SubjectPublicKeyInfo) or pem (PKCS#1 for \
            RSA, SubjectPublicKeyInfo for others, as ssh-keygen -e -m PEM). A private key is written encrypted \
            with -N when given, else with its current passphrase.

            -m PEM|PKCS8|RFC4716 instead of --to writes the public key exactly as ssh-keygen -e -m does, its \
            RFC 4716 Comment header included; as there, Ed25519 keys have no PEM or PKCS8 export.
            """)

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case openssh, rfc4716, pkcs8, pem, ppk, ppk2
    }

    @Option(help: "Output format: openssh, rfc4716, pkcs8, pem, ppk (PuTTY v3) or ppk2.")
    var to: Target?

    @Option(
        name: .customShort("m"), help: ArgumentHelp("Export the public key as ssh-keygen -e -m does: PEM, PKCS8 or RFC4716.", valueName: "format"))
    var exportFormat: SSHKeygenFormat?

    @Flag(help: "Write only the public key.")
    var `public` = false

    @OptionGroup var passphrases: PassphraseOptions

    @Option(
        name: .customShort("N"), parsing: .unconditional, help: "Passphrase for the written private key; empty for none (default: the current one).")
    var newPassphrase: String?

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of a file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(name: .customLong("ppk-param"), help: "PuTTY v3 KDF: version=3,kdf=argon2id|argon2i|argon2d,memory=KIB,passes=N,parallelism=N.")
    var ppkParameters: String?

    @Option(
        name: .customShort("o"),
        help: ArgumentHelp("Write to this file (mode 0600 for private keys, 0644 for public) instead of standard output.", valueName: "out"))
    var output: String?

    @Flag(help: "Overwrite OUT when it exists.")
    var force = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Key file, as ssh-keygen -f takes it.", valueName: "file"))
    var fileOption: String?

    @Argument(help: ArgumentHelp("Key file in any format, when not given with -f.", valueName: "file"))
    var fileArgument: String?

    var file: String { fileOption ?? fileArgument ?? "" }

    func validate() throws {
        _ = try KeyFileArgument.path(option: fileOption, argument: fileArgument)
        switch (to, exportFormat) {
        case (nil, nil): throw CLIError.usage("give the output format with --to (or -m PEM|PKCS8|RFC4716 for ssh-keygen's public export)")
        case (.some, .some): throw CLIError.usage("give either --to or -m, not both")
        default: break
        }
        if exportFormat != nil, ppkParameters != nil { throw CLIError.usage("--ppk-param applies only to --to ppk") }
    }

    func run() throws {
        let input = try KeyInput.load(file)
        guard let to else { return try export(input) }
        let text: String
        let isPrivateOutput: Bool
        switch input {
        case .publicKey(let key):
            text = try publicText(key, to: to)
            isPrivateOutput = false
        case .privateKey(let document):
            if self.public {
                let key: PublicKey
                if let clear = document.info.publicKey, document.info.isEncrypted, try passphrases.given() == nil {
                    key = clear
                } else {
                    key = try passphrases.decrypt(document, path: file).publicKey
                }
                text = try publicText(key, to: to)
                isPrivateOutput = false
            } else {
                // Written under the passphrase that decrypted it (typed or given) unless -N says otherwise.
                let (key, current) = try passphrases.decryptKeepingPassphrase(document, path: file)
                let passphrase: [UInt8]
                if newPassphrase != nil || newPassphraseFile != nil {
                    passphrase = try Passphrase.new(flag: newPassphrase, file: newPassphraseFile, environment: [], allowPrompt: false, for: file)
                } else {
                    passphrase = current ?? []
                }
                let format: FormatName
                switch to {
                case .openssh: format = .openssh
                case .pkcs8: format = .pkcs8
                case .pem: format = .pem
                case .ppk: format = .ppk
                case .ppk2: format = .ppk2
                case .rfc4716: throw CLIError.usage("rfc4716 holds only public keys; add --public")
                }
                if format == .pem, key.type == .ed25519 {
                    throw CLIError("\(Terminal.safe(file)): PEM has no form for Ed25519 keys; use --to pkcs8 or --to openssh")
                }
                let ppk = passphrase.isEmpty ? nil : try PPKParameterOption.parse(ppkParameters, format: format, option: "--to")
                let encoding = PrivateKeyEncoding(format: format.format, passphrase: passphrase, ppkParameters: ppk)
                text = try Progress.run("Encrypting the key", when: !passphrase.isEmpty) { () throws(CLIError) in
                    try KeyError.located(in: file) { () throws(KeyError) in try key.serialized(as: encoding) }
                }
                isPrivateOutput = true
            }
        }
        if let output {
            try FileSystem.writeAtomically(output, Array(text.utf8), mode: isPrivateOutput ? 0o600 : 0o644, replace: force)
        } else {
            Terminal.write(Array(text.utf8), to: 1)
        }
    }

    /// The public key of a private key file: its clear copy when the file is encrypted and no passphrase was
    /// given, else the decrypted key's.
    private func publicKey(of document: PrivateKeyDocument) throws(CLIError) -> PublicKey {
        if let clear = document.info.publicKey, document.info.isEncrypted, try passphrases.given() == nil {
            return clear
        }
        return try passphrases.decrypt(document, path: file).publicKey
    }

    /// `ssh-keygen -e -m FORMAT`: the public key in FORMAT, byte for byte as ssh-keygen 9.2 writes it.
    private func export(_ input: KeyInput) throws(CLIError) {
        guard let exportFormat else { return }
        let key: PublicKey
        switch input {
        case .publicKey(let publicKey): key = publicKey
        case .privateKey(let document): key = try publicKey(of: document)
        }
        let text: String
        switch (exportFormat, key.type) {
        case (.rfc4716, _):
            // ssh-keygen's own header, cut to the 60 bytes of its buffer.
            var comment = "\(key.bits)-bit \(key.displayTypeName), converted by \(FileSystem.userAtHost()) from OpenSSH"
            while comment.utf8.count > 60 { comment.removeLast() }
            text = key.rfc4716Text(comment: comment)
        case (.pem, .rsa), (.pem, .ecdsa), (.pkcs8, .rsa), (.pkcs8, .ecdsa):
            text = try KeyError.located(in: file) { () throws(KeyError) in
                exportFormat == .pem && key.type == .rsa ? try key.plainKey.pkcs1PEM() : try key.plainKey.pkcs8PEM()
            }
        case (_, .dsa):
            throw CLIError("\(Terminal.safe(file)): DSA public keys are not exported as PEM or PKCS8 (DSA is obsolete); use -m RFC4716")
        default:
            let name = exportFormat == .pem ? "PEM" : "PKCS8"
            throw CLIError("\(Terminal.safe(file)): ssh-keygen -e -m \(name) has no export for \(key.typeName) keys; use --to \(name.lowercased())")
        }
        if let output {
            try FileSystem.writeAtomically(output, Array(text.utf8), mode: 0o644, replace: force)
        } else {
            Terminal.write(Array(text.utf8), to: 1)
        }
    }

    private func publicText(_ key: PublicKey, to: Target) throws(CLIError) -> String {
        if ppkParameters != nil { throw CLIError.usage("--ppk-param applies only to private keys") }
        return try KeyError.located(in: file) { () throws(KeyError) in
            switch to {
            case .openssh: return key.openSSHLine + "\n"
            case .rfc4716: return key.rfc4716Text()
            case .pkcs8: return try key.pkcs8PEM()
            // As ssh-keygen -e -m PEM: PKCS#1 for RSA, SubjectPublicKeyInfo for the others.
            case .pem: return key.type == .rsa ? try key.pkcs1PEM() : try key.pkcs8PEM()
            case .ppk, .ppk2:
                throw KeyError(.unsupportedOperation, "PuTTY files hold private keys; give a private key, or use --to openssh or --to rfc4716")
            }
        }
    }
}
