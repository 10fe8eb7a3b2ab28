import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `keyfleet inspect`: everything a key file says about itself, with warnings.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a key file's format, type, size, encryption, KDF, comment, fingerprints and certificate fields.",
        discussion: "An encrypted key is shown without decrypting it unless a passphrase is given (-P, --passphrase-file, KEYFLEET_PASSPHRASE).")

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var passphrases: PassphraseOptions

    @Option(name: .customShort("f"), help: ArgumentHelp("Key file, as ssh-keygen -f takes it.", valueName: "file"))
    var fileOption: String?

    @Argument(help: ArgumentHelp("Key file in any format, when not given with -f.", valueName: "file"))
    var fileArgument: String?

    var file: String { fileOption ?? fileArgument ?? "" }

    func validate() throws {
        _ = try KeyFileArgument.path(option: fileOption, argument: fileArgument)
    }

    func run() throws {
        let report = try Report.make(file: file, input: try KeyInput.load(file), passphrases: passphrases)
        Terminal.print(json ? report.json.text : report.table)
    }

    /// What inspect shows, as ordered fields and warnings.
    struct Report {
        var fields: [(String, JSON)] = []
        var warnings: [String] = []
        /// The comment is inside the encrypted part (openssh-key-v1) and no passphrase was given to read it.
        /// JSON says so in `comment encrypted`; the table says so on the comment line.
        var commentEncrypted = false

        static func make(file: String, input: KeyInput, passphrases: PassphraseOptions) throws(CLIError) -> Report {
            var report = Report()
            report.fields.append(("file", .string(file)))
            var key: PublicKey?
            var comment: String?
            switch input {
            case .publicKey(let publicKey):
                report.fields.append(("format", .string("public key")))
                key = publicKey
                comment = publicKey.comment
            case .privateKey(let document):
                let info = document.info
                report.fields.append(("format", .string(formatName(info.format))))
                report.fields.append(("encrypted", .bool(info.isEncrypted)))
                if info.isEncrypted {
                    report.fields.append(("cipher", info.cipher.map(JSON.string) ?? .null))
                    report.fields.append(("kdf", info.kdf.map(JSON.string) ?? .null))
                    if let rounds = info.kdfRounds { report.fields.append(("kdf rounds", .int(rounds))) }
                    for (name, value) in info.kdfParameters.sorted(by: { $0.key < $1.key }) {
                        report.fields.append(("kdf \(name)", .string(value)))
                    }
                    report.warnings += kdfWarnings(info)
                } else {
                    report.warnings.append("the private key is not encrypted: anyone who reads the file can use it")
                }
                key = info.publicKey
                // PuTTY files keep the comment in the clear; openssh-key-v1 keeps it with the private part,
                // encrypted; PEM and PKCS#8 have none.
                comment = info.comment
                let givenPassphrase = try passphrases.given()
                if !info.isEncrypted || givenPassphrase != nil {
                    let decrypted = try passphrases.decrypt(document, path: file)
                    key = decrypted.publicKey
                    if info.format == .openSSH || comment == nil { comment = decrypted.comment }
                } else if info.format == .openSSH {
                    report.commentEncrypted = true
                }
            }
            guard let key else {
                report.warnings.append("the key type is unknown until the key is decrypted (give its passphrase with -P)")
                return report
            }
            report.fields.append(("type", .string(key.typeName)))
            if case .ecdsa(let curve) = key.type {
                report.fields.append(("curve", .string(curve.rawValue)))
            }
            report.fields.append(("bits", .int(key.bits)))
            report.fields.append(("comment", comment.map(JSON.string) ?? .null))
            if case .privateKey = input { report.fields.append(("comment encrypted", .bool(report.commentEncrypted))) }
            report.fields.append(("sha256", .string(key.fingerprint(.sha256))))
            report.fields.append(("md5", .string(key.fingerprint(.md5))))
            report.warnings += keyWarnings(key)
            if let certificate = key.certificate {
                report.fields.append(("certificate", certificateJSON(certificate)))
                report.warnings += certificateWarnings(certificate)
            }
            return report
        }

        static func formatName(_ format: PrivateKeyFormat) -> String {
            switch format {
            case .openSSH: "openssh-key-v1"
            case .pem: "pem"
            case .pkcs8: "pkcs8"
            case .ppk(let version): "putty ppk version \(version)"
            }
        }

        static func kdfWarnings(_ info: PrivateKeyInfo) -> [String] {
            var warnings: [String] = []
            switch info.format {
            case .openSSH:
                if let rounds = info.kdfRounds, rounds < 16 {
                    warnings.append("only \(rounds) bcrypt rounds: use 16 or more (keyfleet passwd -a 24)")
                }
            case .pem:
                warnings.append("legacy PEM encryption derives its key with one round of MD5 and is weak against guessing: convert to openssh")
            case .pkcs8:
                if let rounds = info.kdfRounds, rounds < 100_000 {
                    warnings.append("only \(rounds) PBKDF2 iterations: weak against guessing; convert to openssh")
                }
            case .ppk(let version):
                if version == 2 { warnings.append("PuTTY version 2 files derive their key with one round of SHA-1: use version 3") }
            }
            return warnings
        }

        static func keyWarnings(_ key: PublicKey) -> [String] {
            var warnings: [String] = []
            switch key.material {
            case .rsa(let exponent, _):
                if key.bits < 2048 { warnings.append("RSA key of \(key.bits) bits is under 2048 bits: too weak, replace it") }
                if exponent != [0x01, 0x00, 0x01] { warnings.append("RSA public exponent is not 65537") }
            case .dsa:
                warnings.append("DSA keys are obsolete and refused by current OpenSSH: replace it with ed25519")
            default:
                break
            }
            return warnings
        }

        static func certificateJSON(_ certificate: Certificate) -> JSON {
            .object([
                ("kind", .string(certificate.kind.name)),
                ("serial", .uint(certificate.serial)),
                ("key id", .string(certificate.keyID)),
                ("principals", .array(certificate.principals.map(JSON.string))),
                ("valid after", .string(timestamp(certificate.validAfter))),
                ("valid before", .string(timestamp(certificate.validBefore))),
                ("critical options", .object(certificate.criticalOptions.map { ($0.name, $0.text.map(JSON.string) ?? .string("")) })),
                ("extensions", .array(certificate.extensions.map { .string($0.name) })),
                ("signing ca", .string("\(certificate.signatureKey.displayTypeName) \(certificate.signatureKey.fingerprint())")),
                ("signature algorithm", .string(certificate.signatureAlgorithm)),
            ])
        }

        static func certificateWarnings(_ certificate: Certificate) -> [String] {
            let now = UInt64(max(time(nil), 0))
            if now >= certificate.validBefore { return ["the certificate expired at \(timestamp(certificate.validBefore))"] }
            if now < certificate.validAfter { return ["the certificate is not valid before \(timestamp(certificate.validAfter))"] }
            return []
        }

        /// `forever`, `always`, or an ISO 8601 UTC time.
        static func timestamp(_ seconds: UInt64) -> String {
            if seconds == UInt64.max { return "forever" }
            if seconds == 0 { return "always" }
            var value = time_t(clamping: seconds)
            var parts = tm()
            guard gmtime_r(&value, &parts) != nil else { return String(seconds) }
            func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
            let date = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
            return "\(date)T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
        }

        var json: JSON {
            .object(fields + [("warnings", .array(warnings.map(JSON.string)))])
        }

        var table: String {
            var lines: [String] = []
            func render(_ name: String, _ value: JSON, indent: String) {
                switch value {
                case .object(let members):
                    lines.append("\(indent)\(name):")
                    for (member, inner) in members { render(member, inner, indent: indent + "  ") }
                case .array(let values):
                    lines.append("\(indent)\(name):".padding(18) + values.map(plain).joined(separator: ", "))
                default:
                    lines.append("\(indent)\(name):".padding(18) + plain(value))
                }
            }
            for (name, value) in fields {
                switch name {
                case "comment encrypted":
                    continue
                case "comment" where commentEncrypted:
                    lines.append("comment:".padding(18) + "(encrypted with the key: give its passphrase with -P to see it)")
                default:
                    render(name, value, indent: "")
                }
            }
            for warning in warnings { lines.append("warning:".padding(18) + warning) }
            return lines.joined(separator: "\n")
        }

        private func plain(_ value: JSON) -> String {
            switch value {
            case .string(let text): return Terminal.safe(text)
            case .int(let number): return String(number)
            case .uint(let number): return String(number)
            case .bool(let flag): return flag ? "yes" : "no"
            case .null: return "(none)"
            default: return value.text
            }
        }
    }
}

extension String {
    /// The string padded with spaces to at least `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
