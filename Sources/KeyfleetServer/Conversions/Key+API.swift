internal import Foundation
internal import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore
internal import SSHKeys

extension Components.Schemas.SSHKey {
    /// The key as the API shows it.
    init(_ record: SSHKeyRecord) {
        self.init(
            id: record.id.rawValue, name: record.name, owner: Components.Schemas.KeyOwner(record.owner),
            publicKey: record.openSSHLine, _type: record.type.name, bits: record.bits, fingerprintSha256: record.sha256Fingerprint,
            fingerprintMd5: record.md5Fingerprint, comment: record.comment, labels: Components.Schemas.Labels(record.labels),
            expiresAt: record.expiresAt.map(Timestamps.date), createdBy: record.createdBy.rawValue,
            createdAt: Timestamps.date(record.createdAt))
    }
}

extension Components.Schemas.KeyOwner {
    /// The owner as the API shows it.
    init(_ owner: KeyOwner) {
        switch owner {
        case .user(let id): self.init(kind: .user, id: id.rawValue)
        case .project(let id): self.init(kind: .project, id: id.rawValue)
        }
    }
}

extension Components.Schemas.Labels {
    /// Labels as the API shows them.
    init(_ labels: [String: String]) {
        self.init(additionalProperties: labels)
    }
}

extension Components.Schemas.ImportWarning {
    /// A warning about an accepted key.
    init(_ warning: ImportWarning) {
        self.init(code: warning.code.rawValue, message: warning.message)
    }
}

extension Components.Schemas.CreateSSHKeyResponse.FormatPayload {
    /// The format a key was submitted in.
    init(_ format: ImportedKey.Format) {
        switch format {
        case .openSSH: self = .openssh
        case .rfc4716: self = .rfc4716
        case .pkcs8PEM: self = .pkcs8Pem
        case .pkcs1PEM: self = .pkcs1Pem
        case .privateKey: self = .privateKey
        }
    }
}
