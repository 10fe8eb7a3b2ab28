public import SSHKeys

/// Who a key belongs to.
public enum KeyOwner: Hashable, Sendable {
    /// A personal key: it reaches the hosts of every project where the user is an owner or member.
    case user(UserID)
    /// A project key: it reaches the project's hosts.
    case project(ProjectID)
}

/// A named public key in the registry.
///
/// The key is kept as a value and re-rendered canonically (``openSSHLine``); the text a user submitted is
/// never stored. A record can only hold a key ``KeyPolicy`` accepts, a ``NamePolicy`` name, labels that
/// ``LabelPolicy`` accepts, a comment without control characters, and an expiry that authorized_keys can
/// express. An expiry in the past is allowed here (a stored key may have expired); a new key is checked
/// with ``KeyImport/checkNewExpiry(_:now:)``.
public struct SSHKeyRecord: Hashable, Sendable, Identifiable {
    /// The key's identifier.
    public let id: KeyID
    /// The key's name, unique per owner (the store's rule).
    public private(set) var name: String
    /// The user or project the key belongs to.
    public let owner: KeyOwner
    /// The key itself, without comment, re-encoded from its numbers.
    public let publicKey: PublicKey
    /// The comment kept with the key (shown, never rendered into authorized_keys).
    public private(set) var comment: String
    /// The labels.
    public private(set) var labels: [String: String]
    /// When the key stops working, in seconds since 1970-01-01 UTC; nil for never.
    public private(set) var expiresAt: UInt64?
    /// Who added the key.
    public let createdBy: UserID
    /// When the key was added, in seconds since 1970-01-01 UTC.
    public let createdAt: UInt64
    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    public let sha256Fingerprint: String
    /// `MD5:aa:bb:...`, as `ssh-keygen -l -E md5` prints it; worked out when asked, since only the API's
    /// answers show it and a registry holds a million keys.
    public var md5Fingerprint: String { publicKey.fingerprint(.md5) }

    /// The longest comment kept, in bytes.
    public static let maximumCommentLength = 1024

    /// Makes a record, checking every field as described above.
    ///
    /// - Parameter publicKey: the key; its own comment is ignored (pass `comment`).
    public init(
        id: KeyID, name: String, owner: KeyOwner, publicKey: PublicKey, comment: String = "", labels: [String: String] = [:],
        expiresAt: UInt64? = nil, createdBy: UserID, createdAt: UInt64
    ) throws(PolicyError) {
        try KeyPolicy.check(publicKey)
        try NamePolicy.validate(name)
        try Self.validate(comment: comment)
        try LabelPolicy.validate(labels)
        if let expiresAt { try ExpiryTime.validate(expiresAt) }
        let canonical: PublicKey
        do {
            canonical = try PublicKey(material: publicKey.material)
        } catch {
            throw PolicyError.invalidKey(error)
        }
        self.id = id
        self.name = name
        self.owner = owner
        self.publicKey = canonical
        self.comment = comment
        self.labels = labels
        self.expiresAt = expiresAt
        self.createdBy = createdBy
        self.createdAt = createdAt
        sha256Fingerprint = canonical.fingerprint(.sha256)
    }

    /// A record for a key that ``KeyImport/parse(text:)`` accepted, keeping its comment, created `now`.
    ///
    /// Unlike ``init(id:name:owner:publicKey:comment:labels:expiresAt:createdBy:createdAt:)`` this refuses an
    /// expiry that is not after `now` (``PolicyError/Code-swift.struct/expiryInPast``).
    public init(
        id: KeyID, name: String, owner: KeyOwner, imported: ImportedKey, labels: [String: String] = [:], expiresAt: UInt64? = nil,
        createdBy: UserID, now: UInt64
    ) throws(PolicyError) {
        if let expiresAt { try KeyImport.checkNewExpiry(expiresAt, now: now) }
        try self.init(
            id: id, name: name, owner: owner, publicKey: imported.publicKey, comment: imported.comment, labels: labels,
            expiresAt: expiresAt, createdBy: createdBy, createdAt: now)
    }

    /// The key type.
    public var type: KeyType { publicKey.type }
    /// The key size as `ssh-keygen -l` prints it.
    public var bits: Int { publicKey.bits }

    /// The stored form: `type base64 [comment]`, rendered from the value.
    public var openSSHLine: String {
        // The comment passed CommentPolicy when the record was made.
        ((try? publicKey.withComment(comment)) ?? publicKey).openSSHLine
    }

    /// Whether the key still works at `now`: it has no expiry, or its expiry is after `now`.
    public func isValid(at now: UInt64) -> Bool {
        guard let expiresAt else { return true }
        return expiresAt > now
    }

    /// Renames the key, checking the new name.
    public mutating func rename(_ newName: String) throws(PolicyError) {
        try NamePolicy.validate(newName)
        name = newName
    }

    /// Replaces the comment, checking it.
    public mutating func setComment(_ newComment: String) throws(PolicyError) {
        try Self.validate(comment: newComment)
        comment = newComment
    }

    /// Replaces the labels, checking them.
    public mutating func setLabels(_ newLabels: [String: String]) throws(PolicyError) {
        try LabelPolicy.validate(newLabels)
        labels = newLabels
    }

    /// Sets or clears the expiry; a new expiry must be after `now`.
    public mutating func setExpiry(_ newExpiry: UInt64?, now: UInt64) throws(PolicyError) {
        if let newExpiry { try KeyImport.checkNewExpiry(newExpiry, now: now) }
        expiresAt = newExpiry
    }

    /// Throws `forbidden-character` when `comment` holds a character ``TextPolicy`` refuses and `comment-too-long`
    /// when it is over ``maximumCommentLength`` bytes; `field` names the request field in the error. The one
    /// check of a key comment, for an import, a generated key and an update alike.
    public static func validate(comment: some StringProtocol, field: String = "comment") throws(PolicyError) {
        guard TextPolicy.isAcceptable(comment) else {
            throw PolicyError.forbiddenCharacter(in: "the key comment", field: field)
        }
        guard comment.utf8.count <= maximumCommentLength else {
            throw PolicyError(.commentTooLong, "the key comment is longer than \(maximumCommentLength) bytes", field: field)
        }
    }
}
