import ArgumentParser
import SSHKeys

/// `keyfleet passwd`: add, change or remove a private key's passphrase in place (`ssh-keygen -p`).
struct PasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Add, change or remove the passphrase of a private key, in place and atomically.",
        discussion: """
            The file keeps its mode, owner and (unless -m names another) its format. An empty new passphrase \
            removes encryption.
            """)

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("N"), parsing: .unconditional, help: "New passphrase; empty for none. Asked twice on a terminal when not given.")
    var newPassphrase: String?

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of a file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(name: .customShort("a"), help: "bcrypt KDF rounds for OpenSSH keys (default \(PrivateKeyEncoding.defaultOpenSSHRounds)).")
    var rounds: Int?

    @Option(name: .customShort("Z"), help: "Cipher for OpenSSH keys (default \(PrivateKeyEncoding.defaultOpenSSHCipher)).")
    var cipher: String?

    @Option(
        name: .customShort("m"),
        help: ArgumentHelp(
            "Write the key as ssh-keygen -p -m does: PEM or PKCS8 (RSA, ECDSA), else OpenSSH's format; -a and -Z are then ignored, as there.",
            valueName: "format"))
    var sshKeygenFormat: SSHKeygenFormat?

    @Flag(name: .customShort("o"), help: "Accepted and ignored, as by ssh-keygen.")
    var openSSHFormat = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Private key file, as ssh-keygen -p -f takes it.", valueName: "file"))
    var fileOption: String?

    @Argument(help: ArgumentHelp("Private key file, when not given with -f.", valueName: "file"))
    var fileArgument: String?

    var file: String { fileOption ?? fileArgument ?? "" }

    func validate() throws {
        _ = try KeyFileArgument.path(option: fileOption, argument: fileArgument)
    }

    func run() throws {
        guard case .privateKey(let document) = try KeyInput.load(file) else {
            throw CLIError("\(Terminal.safe(file)): is a public key, not a private key")
        }
        var rounds = rounds
        var cipher = cipher
        if sshKeygenFormat == nil {
            let format = document.info.format
            if rounds != nil, format != .openSSH { throw CLIError.usage("-a applies only to OpenSSH keys") }
            if cipher != nil, format != .openSSH, format != .pem { throw CLIError.usage("-Z applies only to OpenSSH and PEM keys") }
        } else if let name = cipher, !PrivateKeyEncoding.isOpenSSHCipher(name) {
            throw CLIError.usage("invalid OpenSSH-format cipher \"\(Terminal.safe(name))\"")
        }
        let key = try passphrases.decrypt(document, path: file)
        var format = document.info.format
        if let sshKeygenFormat {
            format = sshKeygenFormat.privateFormat(for: key.type).format
            // As ssh-keygen: -a and -Z shape only its own format.
            if format != .openSSH {
                rounds = nil
                cipher = nil
            }
        }
        // ssh-keygen says which key it changes by its comment; PEM and PKCS#8 files have none.
        if document.info.format != .pem, document.info.format != .pkcs8 {
            var line = Array("Key has comment '".utf8)
            OpenSSHTextSanitizer.fromEnvironment().append(key.commentBytes, to: &line)
            Terminal.print(String(decoding: line, as: UTF8.self) + "'")
        }
        let new = try Passphrase.new(
            flag: newPassphrase, file: newPassphraseFile, environment: ["KEYFLEET_NEW_PASSPHRASE"], allowPrompt: true, for: file)
        if sshKeygenFormat != nil, let name = FormatName(format) { try SSHKeygenFormat.checkPassphrase(new, format: name, path: file) }
        var ppk: Argon2Parameters?
        if case .ppk(3) = format, !new.isEmpty {
            ppk = try PPKParameterOption.parse(nil, format: .ppk)
        }
        let encoding = PrivateKeyEncoding(format: format, passphrase: new, cipher: cipher, rounds: rounds, ppkParameters: ppk)
        let text = try Progress.run("Encrypting the key", when: !new.isEmpty) { () throws(CLIError) in
            try KeyError.located(in: file) { () throws(KeyError) in try key.serialized(as: encoding) }
        }
        try FileSystem.replaceKeepingMode(file, Array(text.utf8))
        // ssh-keygen's words, also when the passphrase was removed.
        Terminal.print("Your identification has been saved with the new passphrase.")
    }
}
