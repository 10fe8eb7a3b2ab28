import ArgumentParser
import SSHKeys

/// `keyfleet passwd`: add, change or remove a private key's passphrase in place (`ssh-keygen -p`).
struct PasswdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Add, change or remove the passphrase of a private key, in place and atomically.",
        discussion: "The file keeps its format, mode and owner. An empty new passphrase removes encryption.")

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("N"), parsing: .unconditional, help: "New passphrase; empty for none. Asked twice on a terminal when not given.")
    var newPassphrase: String?

    @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from the first line of a file.", valueName: "file"))
    var newPassphraseFile: String?

    @Option(name: .customShort("a"), help: "bcrypt KDF rounds for OpenSSH keys (default \(PrivateKeyEncoding.defaultOpenSSHRounds)).")
    var rounds: Int?

    @Option(name: .customShort("Z"), help: "Cipher for OpenSSH keys (default \(PrivateKeyEncoding.defaultOpenSSHCipher)).")
    var cipher: String?

    @Argument(help: ArgumentHelp("Private key file.", valueName: "file"))
    var file: String

    func run() throws {
        guard case .privateKey(let document) = try KeyInput.load(file) else {
            throw CLIError("\(Terminal.safe(file)): is a public key, not a private key")
        }
        let format = document.info.format
        if rounds != nil, format != .openSSH { throw CLIError.usage("-a applies only to OpenSSH keys") }
        if cipher != nil, format != .openSSH, format != .pem { throw CLIError.usage("-Z applies only to OpenSSH and PEM keys") }
        let key = try passphrases.decrypt(document, path: file)
        let new = try Passphrase.new(flag: newPassphrase, file: newPassphraseFile, environment: ["KEYFLEET_NEW_PASSPHRASE"], allowPrompt: true, for: file)
        var ppk: Argon2Parameters?
        if case .ppk(3) = format, !new.isEmpty {
            ppk = try PPKParameterOption.parse(nil, format: .ppk)
        }
        let encoding = PrivateKeyEncoding(format: format, passphrase: new, cipher: cipher, rounds: rounds, ppkParameters: ppk)
        let text = try Progress.run("Encrypting the key", when: !new.isEmpty) { () throws(CLIError) in
            try KeyError.located(in: file) { () throws(KeyError) in try key.serialized(as: encoding) }
        }
        try FileSystem.replaceKeepingMode(file, Array(text.utf8))
        Terminal.print(new.isEmpty ? "Your identification has been saved without a passphrase." : "Your identification has been saved with the new passphrase.")
    }
}
