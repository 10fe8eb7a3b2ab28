import ArgumentParser
import SSHKeys

/// `keyfleet comment`: change the comment of a private key (and of FILE.pub), as `ssh-keygen -c`.
struct CommentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comment",
        abstract: "Change the comment of a private key file and of FILE.pub beside it.",
        discussion: "The key keeps its format, encryption, mode and owner. PEM and PKCS#8 files hold no comment.")

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("C"), parsing: .unconditional, help: "The new comment.")
    var comment: String

    @Argument(help: ArgumentHelp("Private key file.", valueName: "file"))
    var file: String

    func run() throws {
        guard case .privateKey(let document) = try KeyInput.load(file) else {
            throw CLIError("\(Terminal.safe(file)): is a public key; edit its line instead")
        }
        let info = document.info
        switch info.format {
        case .pem, .pkcs8:
            throw CLIError("\(Terminal.safe(file)): \(info.format) keys carry no comment; convert to openssh first")
        case .openSSH, .ppk:
            break
        }
        let (decrypted, passphrase) = try passphrases.decryptKeepingPassphrase(document, path: file)
        let key = try KeyError.located(in: file) { () throws(KeyError) in try decrypted.withComment(comment) }
        let encoding = PrivateKeyEncoding(
            format: info.format, passphrase: info.isEncrypted ? passphrase : nil, cipher: info.format == .openSSH ? info.cipher : nil,
            rounds: info.format == .openSSH ? info.kdfRounds : nil, ppkParameters: CommentCommand.ppkParameters(info))
        let text = try KeyError.located(in: file) { () throws(KeyError) in try key.serialized(as: encoding) }
        try FileSystem.replaceKeepingMode(file, Array(text.utf8))
        let publicPath = file + ".pub"
        if FileSystem.exists(publicPath) {
            try FileSystem.replaceKeepingMode(publicPath, Array((key.publicKey.openSSHLine + "\n").utf8))
        }
        Terminal.print("The comment of \(Terminal.safe(file)) is now \"\(Terminal.safe(comment))\".")
    }

    /// The Argon2 parameters a PuTTY v3 file was written with, to write it again the same way.
    static func ppkParameters(_ info: PrivateKeyInfo) -> Argon2Parameters? {
        guard case .ppk(3) = info.format, info.isEncrypted, let kdf = info.kdf?.lowercased(),
            let variant = Argon2Parameters.Variant(rawValue: kdf),
            let memory = info.kdfParameters["memory"].flatMap({ Int($0) }),
            let parallelism = info.kdfParameters["parallelism"].flatMap({ Int($0) }),
            let passes = info.kdfRounds
        else { return nil }
        return Argon2Parameters(variant: variant, memoryKiB: memory, passes: passes, parallelism: parallelism)
    }
}
