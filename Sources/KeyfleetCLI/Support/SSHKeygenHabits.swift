import ArgumentParser
import SSHKeys

/// ssh-keygen's `-m` key formats: `PEM`, `PKCS8` and `RFC4716` (or `ssh2`), in any case, as ssh-keygen reads them.
///
/// For a private key written by `keygen` or `passwd` it picks the file format as OpenSSH 9.2 does: PEM and
/// PKCS#8 for RSA and ECDSA; OpenSSH's own format for Ed25519 (OpenSSH writes no other) and for `RFC4716`,
/// which holds no private keys. For `convert` it names the public export of `ssh-keygen -e -m`.
enum SSHKeygenFormat: ExpressibleByArgument {
    case pem, pkcs8, rfc4716

    init?(argument: String) {
        switch argument.lowercased() {
        case "pem": self = .pem
        case "pkcs8": self = .pkcs8
        case "rfc4716", "ssh2": self = .rfc4716
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["PEM", "PKCS8", "RFC4716"] }

    /// The private key file format ssh-keygen 9.2 writes for a key of `type` under this `-m`.
    func privateFormat(for type: KeyType) -> FormatName {
        switch (self, type) {
        case (.pem, .rsa), (.pem, .ecdsa), (.pem, .dsa): .pem
        case (.pkcs8, .rsa), (.pkcs8, .ecdsa), (.pkcs8, .dsa): .pkcs8
        default: .openssh
        }
    }

    /// ssh-keygen refuses a passphrase of one to four characters for PEM and PKCS#8 files (OpenSSL's minimum):
    /// the same line, the same refusal.
    static func checkPassphrase(_ passphrase: [UInt8], format: FormatName, path: String) throws(CLIError) {
        guard format == .pem || format == .pkcs8, (1...4).contains(passphrase.count) else { return }
        throw CLIError("\(Terminal.safe(path)): passphrase is too short (minimum five characters) for a \(format.rawValue) key")
    }
}

/// The key file of a command given as ssh-keygen takes it (`-f FILE`) or as the command's argument.
enum KeyFileArgument {
    /// The one file named, or a usage error when there is none or there are two.
    static func path(option: String?, argument: String?) throws(CLIError) -> String {
        switch (option, argument) {
        case (let path?, nil), (nil, let path?): return path
        case (nil, nil): throw CLIError.usage("give the key file, as -f FILE or as the argument")
        case (.some, .some): throw CLIError.usage("give the key file once, as -f FILE or as the argument, not both")
        }
    }
}

/// FILE.pub as ssh-keygen writes it beside a key it makes or changes.
enum SSHKeygenPublicFile {
    /// The key, a space, the comment and a line feed: with an empty comment the line ends in that space, as
    /// `sshkey_save_public` writes it.
    static func line(_ key: PublicKey) -> String.UTF8View {
        (key.comment.isEmpty ? key.openSSHLine + " \n" : key.openSSHLine + "\n").utf8
    }
}
