import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The private key file formats a user can name on the command line.
enum FormatName: String, ExpressibleByArgument, CaseIterable {
    case openssh, pem, pkcs8, ppk, ppk2

    /// The name of a private key file format, nil for none the command line names.
    init?(_ format: PrivateKeyFormat) {
        switch format {
        case .openSSH: self = .openssh
        case .pem: self = .pem
        case .pkcs8: self = .pkcs8
        case .ppk(3): self = .ppk
        case .ppk(2): self = .ppk2
        case .ppk: return nil
        }
    }

    var format: PrivateKeyFormat {
        switch self {
        case .openssh: .openSSH
        case .pem: .pem
        case .pkcs8: .pkcs8
        case .ppk: .ppk(version: 3)
        case .ppk2: .ppk(version: 2)
        }
    }
}

/// `keyfleet keygen`: makes a key pair as `ssh-keygen` does, with its flags.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a new key pair (FILE mode 0600, FILE.pub mode 0644).")

    @Option(name: .customShort("t"), help: "Key type: ed25519 (default), ecdsa or rsa.")
    var type: String = "ed25519"

    @Option(name: .customShort("b"), help: "Bits: 2048 to 16384 for rsa (default 3072); 256, 384 or 521 for ecdsa (default 256).")
    var bits: Int?

    @Option(name: .customShort("C"), parsing: .unconditional, help: "Comment (default user@host).")
    var comment: String?

    @Option(name: .customShort("f"), help: "Private key file (default ~/.ssh/id_TYPE).")
    var file: String?

    @Option(name: .customShort("N"), parsing: .unconditional, help: "Passphrase; empty for none. Asked twice on a terminal when not given.")
    var newPassphrase: String?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp("Read the passphrase from the first line of a file.", valueName: "file"))
    var passphraseFile: String?

    @Option(name: .customShort("a"), help: "bcrypt KDF rounds for an encrypted OpenSSH key (default \(PrivateKeyEncoding.defaultOpenSSHRounds)).")
    var rounds: Int?

    @Option(name: .customShort("Z"), help: "Cipher for an encrypted OpenSSH key (default \(PrivateKeyEncoding.defaultOpenSSHCipher)).")
    var cipher: String?

    @Option(help: "Private key format: openssh (default), pem, pkcs8, ppk (PuTTY v3) or ppk2.")
    var format: FormatName = .openssh

    @Option(
        name: .customShort("m"),
        help: ArgumentHelp(
            "Private key format as ssh-keygen -m: PEM or PKCS8 (RSA, ECDSA), else OpenSSH's; -a and -Z are then ignored, as there.",
            valueName: "format"))
    var sshKeygenFormat: SSHKeygenFormat?

    @Option(name: .customLong("ppk-param"), help: "PuTTY v3 KDF: version=3,kdf=argon2id|argon2i|argon2d,memory=KIB,passes=N,parallelism=N.")
    var ppkParameters: String?

    @Flag(help: "Overwrite FILE and FILE.pub when they exist.")
    var force = false

    @Flag(name: .customShort("q"), help: "Quiet: print nothing on success, as ssh-keygen -q.")
    var quiet = false

    @Flag(name: .customShort("o"), help: "Accepted and ignored, as by ssh-keygen: the OpenSSH format is already the default.")
    var openSSHFormat = false

    func run() throws {
        try KeygenOptions(
            type: type, bits: bits, comment: comment, file: file, newPassphrase: newPassphrase,
            passphraseFile: passphraseFile, rounds: rounds, cipher: cipher, format: format,
            formatGiven: format != .openssh, sshKeygenFormat: sshKeygenFormat,
            ppkParameters: ppkParameters, force: force, quiet: quiet
        ).run()
    }

    /// The key type and size named by `-t` and `-b`, checked.
    static func resolveType(_ name: String, bits: Int?) throws(CLIError) -> (KeyType, Int?) {
        switch name.lowercased() {
        case "ed25519", "ssh-ed25519":
            if let bits, bits != 256 { throw CLIError.usage("ed25519 keys have 256 bits; -b \(bits) does not apply") }
            return (.ed25519, nil)
        case "ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521":
            var size = bits ?? 256
            if name.hasPrefix("ecdsa-sha2-nistp"), let named = Int(name.dropFirst("ecdsa-sha2-nistp".count)) { size = bits ?? named }
            guard let curve = ECDSACurve(bits: size) else {
                throw CLIError.usage("ecdsa keys have 256, 384 or 521 bits, not \(size)")
            }
            return (.ecdsa(curve), nil)
        case "rsa", "ssh-rsa":
            let size = bits ?? 3072
            guard PrivateKey.rsaBitRange.contains(size), size % 8 == 0 else {
                throw CLIError.usage("rsa keys must have 2048 to 16384 bits in multiples of 8, not \(size)")
            }
            return (.rsa, size)
        case "dsa", "ssh-dss":
            throw CLIError.usage("DSA keys are obsolete and not generated; use -t ed25519")
        default:
            throw CLIError.usage("unknown key type \"\(Terminal.safe(name))\" (use ed25519, ecdsa or rsa)")
        }
    }

    static func defaultFileSuffix(_ type: KeyType) -> String {
        switch type {
        case .ed25519: "ed25519"
        case .ecdsa: "ecdsa"
        case .rsa: "rsa"
        default: "key"
        }
    }

    static func displayName(_ type: KeyType) -> String {
        switch type {
        case .ed25519: "ed25519"
        case .ecdsa: "ecdsa"
        case .rsa: "rsa"
        default: type.name
        }
    }
}

/// What `keyfleet keygen` was asked to do, however the arguments were parsed.
struct KeygenOptions {
    var type = "ed25519"
    var bits: Int?
    var comment: String?
    var file: String?
    var newPassphrase: String?
    var passphraseFile: String?
    var rounds: Int?
    var cipher: String?
    var format: FormatName = .openssh
    /// Whether `--format` was given (it and `-m` exclude each other).
    var formatGiven = false
    /// ssh-keygen's `-m`: picks the format as ssh-keygen does and makes `-a` and `-Z` mean what they mean there.
    var sshKeygenFormat: SSHKeygenFormat?
    var ppkParameters: String?
    var force = false
    var quiet = false

    func run() throws(CLIError) {
        let (keyType, size) = try KeygenCommand.resolveType(type, bits: bits)
        var format = format
        var rounds = rounds
        var cipher = cipher
        if let sshKeygenFormat {
            if formatGiven { throw CLIError.usage("give either --format or -m, not both") }
            format = sshKeygenFormat.privateFormat(for: keyType)
            // ssh-keygen takes -Z only by an OpenSSH cipher name, and uses -a and -Z only for its own format.
            if let name = cipher, !PrivateKeyEncoding.isOpenSSHCipher(name) {
                throw CLIError.usage("invalid OpenSSH-format cipher \"\(Terminal.safe(name))\"")
            }
            if format != .openssh {
                rounds = nil
                cipher = nil
            }
        }
        let path = file ?? "\(FileSystem.homeDirectory())/.ssh/id_\(KeygenCommand.defaultFileSuffix(keyType))"
        let publicPath = path + ".pub"
        for existing in [path, publicPath] {
            guard let status = FileSystem.status(existing) else { continue }
            guard force else { throw CLIError("\(Terminal.safe(existing)): already exists (use --force to overwrite)") }
            // Checked for both before either is written, so --force never leaves a mismatched pair.
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw CLIError("\(Terminal.safe(existing)): not a regular file; refusing to replace it")
            }
        }
        if format == .pem, keyType == .ed25519 { throw CLIError.usage("PEM has no form for Ed25519 keys; use --format pkcs8 or openssh") }
        if rounds != nil, format != .openssh { throw CLIError.usage("-a applies only to --format openssh") }
        if cipher != nil, format == .pkcs8 || format == .ppk || format == .ppk2 {
            throw CLIError.usage("-Z applies only to --format openssh and pem")
        }
        let ppk = try PPKParameterOption.parse(ppkParameters, format: format)
        let passphrase = try Passphrase.new(
            flag: newPassphrase, file: passphraseFile, environment: ["KEYFLEET_NEW_PASSPHRASE", "KEYFLEET_PASSPHRASE"], allowPrompt: true, for: path)
        if sshKeygenFormat != nil { try SSHKeygenFormat.checkPassphrase(passphrase, format: format, path: path) }
        let keyComment = comment ?? FileSystem.userAtHost()
        if !quiet { Terminal.print("Generating public/private \(KeygenCommand.displayName(keyType)) key pair.") }
        // RSA's prime search takes seconds at 8192 bits; a spinner shows it on a terminal.
        let key = try Progress.run("Generating a \(size ?? 0)-bit RSA key", when: keyType == .rsa) { () throws(CLIError) in
            try KeyError.located(in: nil) { () throws(KeyError) in try PrivateKey.generate(keyType, bits: size, comment: keyComment) }
        }
        let encoding = PrivateKeyEncoding(format: format.format, passphrase: passphrase, cipher: cipher, rounds: rounds, ppkParameters: ppk)
        let text = try Progress.run("Encrypting the key", when: !passphrase.isEmpty) { () throws(CLIError) in
            try KeyError.located(in: path) { () throws(KeyError) in try key.serialized(as: encoding) }
        }
        let publicKey = key.publicKey
        // Each file is synced before its name appears, so a crash never leaves an empty key. The directory is
        // synced only when files are replaced: a new pair that a crash forgets is simply not there.
        try FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o600, replace: force, syncDirectory: false)
        try FileSystem.writeAtomically(publicPath, Array(SSHKeygenPublicFile.line(publicKey)), mode: 0o644, replace: force, syncDirectory: force)
        if quiet { return }
        var sanitized: [UInt8] = []
        OpenSSHTextSanitizer.fromEnvironment().append(Array(keyComment.utf8), to: &sanitized)
        Terminal.print(
            """
            Your identification has been saved in \(Terminal.safe(path))
            Your public key has been saved in \(Terminal.safe(publicPath))
            The key fingerprint is:
            \(publicKey.fingerprint()) \(String(decoding: sanitized, as: UTF8.self))
            The key's randomart image is:
            \(publicKey.randomart())
            """)
    }

    /// ssh-keygen's own argument forms (`-t ed25519 -C x -f FILE -N ''`), read without ArgumentParser: its
    /// reflection costs about as much as making an Ed25519 key, and `keygen` is run by scripts in loops.
    /// Returns nil for anything else (help, long forms, unknown or repeated flags, attached values), which
    /// then goes through ArgumentParser and gets its full checking and messages.
    static func quickParse(_ arguments: [String]) -> KeygenOptions? {
        var options = KeygenOptions()
        var seen: [String] = []
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            guard !seen.contains(flag) else { return nil }
            seen.append(flag)
            if flag == "--force" || flag == "-q" || flag == "-o" {
                if flag == "--force" { options.force = true }
                if flag == "-q" { options.quiet = true }
                index += 1
                continue
            }
            guard index + 1 < arguments.count else { return nil }
            let value = arguments[index + 1]
            switch flag {
            case "-t": options.type = value
            case "-b": guard let bits = Int(value) else { return nil }; options.bits = bits
            case "-C": options.comment = value
            case "-f": options.file = value
            case "-N": options.newPassphrase = value
            case "-a": guard let rounds = Int(value) else { return nil }; options.rounds = rounds
            case "-Z": options.cipher = value
            case "--format":
                guard let format = FormatName(rawValue: value) else { return nil }
                options.format = format
                options.formatGiven = true
            case "-m": guard let format = SSHKeygenFormat(argument: value) else { return nil }; options.sshKeygenFormat = format
            default: return nil
            }
            index += 2
        }
        return options
    }
}

/// `--ppk-param version=3,kdf=argon2id,memory=8192,passes=13,parallelism=1`, as puttygen takes it.
enum PPKParameterOption {
    /// PuTTY's defaults: Argon2id, 8 MiB, one lane, and as many passes as take about 100 ms here.
    /// `option` is the command's option that names the format (`--format` or `--to`), for the hints.
    static func parse(_ text: String?, format: FormatName, option: String = "--format") throws(CLIError) -> Argon2Parameters? {
        guard format == .ppk else {
            if text != nil { throw CLIError.usage("--ppk-param applies only to \(option) ppk") }
            return nil
        }
        var parameters = Argon2Parameters(variant: .argon2id, memoryKiB: 8192, passes: 1, parallelism: 1)
        var passesGiven = false
        for item in (text ?? "").split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw CLIError.usage("--ppk-param: \"\(Terminal.safe(String(item)))\" is not NAME=VALUE") }
            switch parts[0] {
            case "version":
                guard parts[1] == "3" else {
                    throw CLIError.usage("--ppk-param: only version=3 has KDF parameters (use \(option) ppk2 for version 2)")
                }
            case "kdf":
                guard let variant = Argon2Parameters.Variant(rawValue: parts[1]) else {
                    throw CLIError.usage("--ppk-param: kdf must be argon2id, argon2i or argon2d")
                }
                parameters.variant = variant
            case "memory", "passes", "parallelism":
                guard let value = Int(parts[1]), value > 0 else { throw CLIError.usage("--ppk-param: \(parts[0]) must be a positive number") }
                // PuTTY files over these are refused when read; checked before any Argon2 run (calibration).
                let limits = ["memory": 1 << 20, "passes": 1000, "parallelism": 255]
                if let limit = limits[parts[0]], value > limit {
                    throw CLIError.usage("--ppk-param: \(parts[0]) \(value) is over the limit of \(limit)")
                }
                if parts[0] == "memory" { parameters.memoryKiB = value }
                if parts[0] == "passes" {
                    parameters.passes = value
                    passesGiven = true
                }
                if parts[0] == "parallelism" { parameters.parallelism = value }
            default:
                throw CLIError.usage("--ppk-param: unknown parameter \"\(Terminal.safe(parts[0]))\"")
            }
        }
        if !passesGiven {
            parameters.passes = Progress.run("Timing Argon2 with \(parameters.memoryKiB) KiB") {
                Argon2Calibration.passes(for: parameters, targetMilliseconds: 100)
            }
        }
        return parameters
    }
}
