/// The elliptic curves OpenSSH uses for ECDSA keys.
public enum ECDSACurve: String, Hashable, Sendable, CaseIterable {
    /// NIST P-256, P-384 and P-521, named as in the key type (`ecdsa-sha2-nistp256`).
    case nistp256, nistp384, nistp521

    /// The curve's size in bits, as `ssh-keygen -l` prints it.
    public var bits: Int {
        switch self {
        case .nistp256: 256
        case .nistp384: 384
        case .nistp521: 521
        }
    }

    /// Length of a field element in bytes.
    var coordinateLength: Int { (bits + 7) / 8 }

    /// Length of the uncompressed SEC1 point (0x04 || X || Y).
    var pointLength: Int { 1 + 2 * coordinateLength }

    /// The SSH key type name, e.g. `ecdsa-sha2-nistp256`.
    public var keyTypeName: String { "ecdsa-sha2-\(rawValue)" }

    /// The curve with `bits` bits, if OpenSSH has one.
    public init?(bits: Int) {
        guard let curve = Self.allCases.first(where: { $0.bits == bits }) else { return nil }
        self = curve
    }
}

/// The kind of a key, without its numbers: what `ssh-keygen` calls its type.
public enum KeyType: Hashable, Sendable {
    /// Ed25519 (`ssh-ed25519`).
    case ed25519
    /// ECDSA on a NIST curve (`ecdsa-sha2-nistp256`, `-nistp384`, `-nistp521`).
    case ecdsa(ECDSACurve)
    /// RSA (`ssh-rsa`; signatures may use `rsa-sha2-256` or `rsa-sha2-512`).
    case rsa
    /// DSA (`ssh-dss`): read and flagged weak, never generated.
    case dsa
    /// A FIDO security-key Ed25519 key (`sk-ssh-ed25519@openssh.com`).
    case skEd25519
    /// A FIDO security-key ECDSA P-256 key (`sk-ecdsa-sha2-nistp256@openssh.com`).
    case skECDSA

    /// Every type we recognise.
    public static let all: [KeyType] = [
        .ed25519, .ecdsa(.nistp256), .ecdsa(.nistp384), .ecdsa(.nistp521), .rsa, .dsa, .skEd25519, .skECDSA,
    ]

    /// The SSH wire name: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ...
    public var name: String {
        switch self {
        case .ed25519: "ssh-ed25519"
        case .ecdsa(let curve): curve.keyTypeName
        case .rsa: "ssh-rsa"
        case .dsa: "ssh-dss"
        case .skEd25519: "sk-ssh-ed25519@openssh.com"
        case .skECDSA: "sk-ecdsa-sha2-nistp256@openssh.com"
        }
    }

    /// The certificate type name for keys of this type, e.g. `ssh-ed25519-cert-v01@openssh.com`.
    public var certificateName: String {
        switch self {
        case .ed25519: "ssh-ed25519-cert-v01@openssh.com"
        case .ecdsa(let curve): "\(curve.keyTypeName)-cert-v01@openssh.com"
        case .rsa: "ssh-rsa-cert-v01@openssh.com"
        case .dsa: "ssh-dss-cert-v01@openssh.com"
        case .skEd25519: "sk-ssh-ed25519-cert-v01@openssh.com"
        case .skECDSA: "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"
        }
    }

    /// The short upper-case name `ssh-keygen -l` prints in parentheses: `ED25519`, `ECDSA`, `RSA`, ...
    public var shortName: String {
        switch self {
        case .ed25519: "ED25519"
        case .ecdsa: "ECDSA"
        case .rsa: "RSA"
        case .dsa: "DSA"
        case .skEd25519: "ED25519-SK"
        case .skECDSA: "ECDSA-SK"
        }
    }

    /// Whether keys of this type live on a FIDO security key.
    public var isSecurityKey: Bool { self == .skEd25519 || self == .skECDSA }

    /// The type whose plain or certificate name is `name`, and whether it was the certificate name.
    public static func named(_ name: String) -> (type: KeyType, isCertificate: Bool)? {
        switch name {
        case "ssh-ed25519": (.ed25519, false)
        case "ecdsa-sha2-nistp256": (.ecdsa(.nistp256), false)
        case "ecdsa-sha2-nistp384": (.ecdsa(.nistp384), false)
        case "ecdsa-sha2-nistp521": (.ecdsa(.nistp521), false)
        case "ssh-rsa": (.rsa, false)
        case "ssh-dss": (.dsa, false)
        case "sk-ssh-ed25519@openssh.com": (.skEd25519, false)
        case "sk-ecdsa-sha2-nistp256@openssh.com": (.skECDSA, false)
        case "ssh-ed25519-cert-v01@openssh.com": (.ed25519, true)
        case "ecdsa-sha2-nistp256-cert-v01@openssh.com": (.ecdsa(.nistp256), true)
        case "ecdsa-sha2-nistp384-cert-v01@openssh.com": (.ecdsa(.nistp384), true)
        case "ecdsa-sha2-nistp521-cert-v01@openssh.com": (.ecdsa(.nistp521), true)
        case "ssh-rsa-cert-v01@openssh.com": (.rsa, true)
        case "ssh-dss-cert-v01@openssh.com": (.dsa, true)
        case "sk-ssh-ed25519-cert-v01@openssh.com": (.skEd25519, true)
        case "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com": (.skECDSA, true)
        default: nil
        }
    }
}
