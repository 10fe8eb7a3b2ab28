/// The fields of an OpenSSH certificate (PROTOCOL.certkeys), decoded.
///
/// A `Certificate` only exists inside a ``PublicKey`` whose signature by ``signatureKey`` verified.
public struct Certificate: Hashable, Sendable {
    /// Whether the certificate identifies a user or a host.
    public enum Kind: UInt32, Hashable, Sendable {
        /// A user certificate (`SSH2_CERT_TYPE_USER`, 1).
        case user = 1
        /// A host certificate (`SSH2_CERT_TYPE_HOST`, 2).
        case host = 2

        /// `user` or `host`, as `ssh-keygen -L` prints it.
        public var name: String { self == .user ? "user" : "host" }
    }

    /// A critical option or extension: a name and its data. For the options OpenSSH defines, the data
    /// is itself a string (`force-command`, `source-address`) or empty (the `permit-*` extensions).
    public struct Option: Hashable, Sendable {
        /// The option's name, e.g. `force-command` or `permit-pty`.
        public var name: String
        /// The raw data field.
        public var data: [UInt8]

        /// The data as text when it is one SSH string holding UTF-8, as for `force-command`.
        public var text: String? {
            guard !data.isEmpty else { return nil }
            var reader = WireReader(data, context: "option")
            guard let value = try? reader.readText("value"), reader.isAtEnd else { return nil }
            return value
        }
    }

    /// The CA-chosen random nonce.
    public var nonce: [UInt8]
    /// The serial number the CA assigned; 0 when it assigned none.
    public var serial: UInt64
    /// Whether this is a user or a host certificate.
    public var kind: Kind
    /// The key identifier, free text chosen by the CA.
    public var keyID: String
    /// Users or host names the certificate is valid for; empty means any.
    public var principals: [String]
    /// Start of validity, seconds since the epoch.
    public var validAfter: UInt64
    /// End of validity, seconds since the epoch; `UInt64.max` means forever.
    public var validBefore: UInt64
    /// Critical options (`force-command`, `source-address`), in certificate order; a server refuses
    /// a certificate with one it does not know.
    public var criticalOptions: [Option]
    /// Extensions (`permit-pty`, `permit-port-forwarding`, ...), in certificate order; a server ignores
    /// those it does not know.
    public var extensions: [Option]
    /// The CA's signature algorithm (`ssh-ed25519`, `rsa-sha2-512`, ...).
    public var signatureAlgorithm: String
    let signatureKeyBox: Indirect<PublicKey>

    /// The CA key that signed the certificate.
    public var signatureKey: PublicKey { signatureKeyBox.value }

    /// Whether the certificate is valid forever.
    public var isValidForever: Bool { validAfter == 0 && validBefore == UInt64.max }

    /// The most principals OpenSSH accepts in one certificate.
    static let maximumPrincipals = 256

    /// Parses the certificate fields that follow the type name and verifies the CA signature.
    static func parse(type: KeyType, reader: inout WireReader) throws(KeyError) -> (material: PublicKey.Material, value: Certificate) {
        let nonce = Array(try reader.readString("nonce"))
        let material = try PublicKey.Material.read(type: type, from: &reader)
        try material.validate()
        let serial = try reader.readUInt64("serial")
        let rawKind = try reader.readUInt32("type")
        guard let kind = Kind(rawValue: rawKind) else {
            throw KeyError.invalidFormat("certificate type \(rawKind) is neither user (1) nor host (2)")
        }
        let keyID = try reader.readText("key id")
        var principalReader = WireReader(try reader.readString("valid principals"), context: "certificate principals")
        var principals: [String] = []
        while !principalReader.isAtEnd {
            guard principals.count < maximumPrincipals else {
                throw KeyError.invalidFormat("certificate has more than \(maximumPrincipals) principals")
            }
            principals.append(try principalReader.readText("principal"))
        }
        let validAfter = try reader.readUInt64("valid after")
        let validBefore = try reader.readUInt64("valid before")
        let criticalOptions = try readOptions(try reader.readString("critical options"), context: "critical options")
        let extensions = try readOptions(try reader.readString("extensions"), context: "extensions")
        _ = try reader.readString("reserved")
        let signatureKeyBytes = try reader.readString("signature key")
        let signedLength = reader.offset
        let signature = try reader.readString("signature")

        let signatureKey: PublicKey
        do {
            signatureKey = try PublicKey(wireBytes: signatureKeyBytes)
        } catch {
            throw KeyError(error.code, "certificate signing key: \(error.reason)")
        }
        guard !signatureKey.isCertificate else {
            throw KeyError.invalidFormat("certificate is signed by another certificate")
        }
        let algorithm = try SignatureVerifier.verify(
            signature: signature, of: reader.bytes[0..<signedLength], by: signatureKey)
        let value = Certificate(
            nonce: nonce, serial: serial, kind: kind, keyID: keyID, principals: principals,
            validAfter: validAfter, validBefore: validBefore, criticalOptions: criticalOptions,
            extensions: extensions, signatureAlgorithm: algorithm, signatureKeyBox: Indirect(signatureKey))
        return (material, value)
    }

    static func readOptions(_ bytes: ArraySlice<UInt8>, context: String) throws(KeyError) -> [Option] {
        var reader = WireReader(bytes, context: "certificate \(context)")
        var options: [Option] = []
        while !reader.isAtEnd {
            let name = try reader.readText("name")
            let data = Array(try reader.readString("data"))
            options.append(Option(name: name, data: data))
        }
        return options
    }
}
