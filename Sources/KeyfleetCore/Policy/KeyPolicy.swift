public import SSHKeys

/// Which keys the registry accepts, whatever format they came in.
///
/// Refused: certificates (sshd never accepts a certificate listed in authorized_keys; its CA belongs in
/// `TrustedUserCAKeys`), DSA keys (1024 bits by definition, disabled in OpenSSH since 7.0) and RSA keys under
/// ``minimumRSABits`` bits. Accepted: Ed25519, ECDSA P-256/P-384/P-521, RSA of 2048 to 16384 bits, and the
/// FIDO security-key types `sk-ssh-ed25519@openssh.com` and `sk-ecdsa-sha2-nistp256@openssh.com`. Unknown
/// types never get this far: SSHKeys cannot parse them.
public enum KeyPolicy {
    /// The smallest RSA modulus accepted.
    public static let minimumRSABits = 2048

    /// Throws the refusal for `key`, if any.
    public static func check(_ key: PublicKey) throws(PolicyError) {
        guard !key.isCertificate else { throw PolicyError.certificate }
        switch key.type {
        case .dsa:
            throw PolicyError.dsaKey
        case .rsa where key.bits < minimumRSABits:
            throw PolicyError.weakRSAKey(bits: key.bits)
        default:
            break
        }
    }
}
