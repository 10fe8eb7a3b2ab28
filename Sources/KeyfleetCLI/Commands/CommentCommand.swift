import ArgumentParser
import SSHKeys

/// `keyfleet comment`: change the comment of a private key (and of FILE.pub), as `ssh-keygen -c`.
struct CommentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comment",
        abstract: "Change the comment of a private key file and of FILE.pub beside it.",
        discussion: """
            Prints what ssh-keygen -c prints. The key keeps its encryption, mode and owner, and its format but for \
            PEM and PKCS#8, which hold no comment: as ssh-keygen -c does, those are written in the OpenSSH format.
            """)

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("C"), parsing: .unconditional, help: "The new comment.")
    var comment: String

    @Flag(name: .customShort("o"), help: "Accepted and ignored, as by ssh-keygen.")
    var openSSHFormat = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Private key file, as ssh-keygen -c -f takes it.", valueName: "file"))
    var fileOption: String?

    @Argument(help: ArgumentHelp("Private key file, when not given with -f.", valueName: "file"))
    var fileArgument: String?

    var file: String { fileOption ?? fileArgument ?? "" }

    func validate() throws {
        _ = try KeyFileArgument.path(option: fileOption, argument: fileArgument)
    }

    func run() throws {
        guard case .privateKey(let document) = try KeyInput.load(file) else {
            throw CLIError("\(Terminal.safe(file)): is a public key; edit its line instead")
        }
        let info = document.info
        let (decrypted, passphrase) = try passphrases.decryptKeepingPassphrase(document, path: file)
        let key = try KeyError.located(in: file) { () throws(KeyError) in try decrypted.withComment(comment) }
        // ssh-keygen -c prints comments as they are; one that is not safe text is shown escaped.
        func shown(_ bytes: [UInt8]) -> String { CommentPolicy.displayText(bytes) }
        let holdsComment = info.format != .pem && info.format != .pkcs8
        Terminal.print(holdsComment ? "Old comment: \(shown(decrypted.commentBytes))" : "No existing comment")
        if holdsComment, decrypted.commentBytes == Array(comment.utf8) {
            Terminal.print("No change to comment")
            return
        }
        // PEM and PKCS#8 have no place for a comment: ssh-keygen -c writes such a key in its own format.
        let format = holdsComment ? info.format : .openSSH
        let encoding = PrivateKeyEncoding(
            format: format, passphrase: info.isEncrypted ? passphrase : nil, cipher: info.format == .openSSH ? info.cipher : nil,
            rounds: info.format == .openSSH ? info.kdfRounds : nil, ppkParameters: CommentCommand.ppkParameters(info))
        let text = try KeyError.located(in: file) { () throws(KeyError) in try key.serialized(as: encoding) }
        try FileSystem.replaceKeepingMode(file, Array(text.utf8))
        if !holdsComment {
            Terminal.printInfo(
                "\(Terminal.safe(file)): \(info.format) keys hold no comment; the key is now in the OpenSSH format, as ssh-keygen -c writes it")
        }
        // ssh-keygen writes FILE.pub whether or not it was there; beside a PuTTY file, only one that exists is changed.
        let publicPath = file + ".pub"
        let publicLine = Array(SSHKeygenPublicFile.line(key.publicKey))
        if FileSystem.exists(publicPath) {
            try FileSystem.replaceKeepingMode(publicPath, publicLine)
        } else if case .ppk = info.format {
        } else {
            try FileSystem.writeAtomically(publicPath, publicLine, mode: 0o644, replace: false)
        }
        Terminal.print(comment.isEmpty ? "Comment removed" : "Comment '\(shown(Array(comment.utf8)))' applied")
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
