import ArgumentParser
import SSHKeys

/// `keyfleet pubkey`: the public key line of a private key, after decrypting and checking it (`ssh-keygen -y`).
struct PubkeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pubkey",
        abstract: "Print the public key line of a private key, decrypting it first (as ssh-keygen -y).")

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("f"), help: ArgumentHelp("Private key file, as ssh-keygen -y -f takes it.", valueName: "file"))
    var fileOption: String?

    @Argument(help: ArgumentHelp("Private key file (any format), when not given with -f.", valueName: "file"))
    var fileArgument: String?

    var file: String { fileOption ?? fileArgument ?? "" }

    func validate() throws {
        _ = try KeyFileArgument.path(option: fileOption, argument: fileArgument)
    }

    func run() throws {
        let key: PublicKey
        switch try KeyInput.load(file) {
        case .privateKey(let document):
            key = try passphrases.decrypt(document, path: file).publicKey
        case .publicKey:
            throw CLIError("\(Terminal.safe(file)): is a public key, not a private key")
        }
        Terminal.print(key.openSSHLine)
    }
}
