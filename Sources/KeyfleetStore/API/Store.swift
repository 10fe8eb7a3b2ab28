public import KeyfleetCore
public import SSHKeys

/// The registry's persistent state, as the HTTP server, the CLI's local commands and the tests see it.
///
/// Every change is written in one transaction together with its ``AuditEntry`` and, when it can alter
/// effective access, an increment of ``version()``. Identifiers and times come from the generator and clock
/// the implementation was made with, so a store is deterministic under test. Lookups return nil for a
/// missing object; changes to a missing object throw ``StoreError/Code-swift.struct/notFound``.
public protocol Store: Sendable {
    // MARK: Users and tokens

    /// Adds a user.
    func createUser(name: String, role: User.Role, by principal: Principal) async throws -> User
    /// The user, or nil.
    func user(_ id: UserID) async throws -> User?
    /// Users in identifier order.
    func users(page: PageRequest) async throws -> Page<User>
    /// Users in identifier order; a non-nil `name` keeps the users of exactly that name.
    func users(named name: String?, page: PageRequest) async throws -> Page<User>
    /// Changes a user (name, role) with `change`.
    func updateUser(_ id: UserID, by principal: Principal, _ change: @Sendable (inout User) throws -> Void) async throws -> User
    /// Deletes a user with their tokens, personal keys and memberships; each token and key removed with the
    /// user gets its own audit entry in the same transaction.
    func deleteUser(_ id: UserID, by principal: Principal) async throws

    /// Records an API token of `user` by the SHA-256 of its text (32 bytes); the text itself is never stored.
    func createToken(user: UserID, tokenHash: [UInt8], scope: APIToken.Scope, by principal: Principal) async throws -> APIToken
    /// The token whose SHA-256 is `tokenHash`, revoked or not (the caller checks ``APIToken/isActive``).
    func token(hash tokenHash: [UInt8]) async throws -> APIToken?
    /// The tokens of `user`, in identifier order.
    func tokens(of user: UserID) async throws -> [APIToken]
    /// One page of the tokens of `user`, revoked ones included, in identifier order.
    func tokens(of user: UserID, page: PageRequest) async throws -> Page<APIToken>
    /// The token with this identifier, revoked or not, or nil.
    func token(_ id: TokenID) async throws -> APIToken?
    /// Revokes a token (revoking twice keeps the first time).
    func revokeToken(_ id: TokenID, by principal: Principal) async throws -> APIToken

    // MARK: Projects

    /// Adds a project; names are unique.
    func createProject(name: String, by principal: Principal) async throws -> Project
    /// Adds a project with `owner` as its first owner, in one transaction.
    func createProject(name: String, owner: UserID, by principal: Principal) async throws -> Project
    /// The project, or nil.
    func project(_ id: ProjectID) async throws -> Project?
    /// The project named `name`, or nil.
    func project(named name: String) async throws -> Project?
    /// Projects in identifier order; `member` keeps those the user belongs to.
    func projects(member: UserID?, page: PageRequest) async throws -> Page<Project>
    /// Projects in identifier order; `member` keeps those the user belongs to, `name` the one of that name.
    func projects(member: UserID?, named name: String?, page: PageRequest) async throws -> Page<Project>
    /// Changes a project (name, members) with `change`.
    func updateProject(_ id: ProjectID, by principal: Principal, _ change: @Sendable (inout Project) throws -> Void) async throws -> Project
    /// Adds `user` to the project or changes their role.
    func setMember(_ user: UserID, role: Project.Role, in project: ProjectID, by principal: Principal) async throws -> Project
    /// Removes `user` from the project.
    func removeMember(_ user: UserID, from project: ProjectID, by principal: Principal) async throws -> Project
    /// Invites `user` to the project with `role`, or changes the role of their open invitation.
    ///
    /// - Throws: ``StoreError/Code-swift.struct/conflict`` when the user is already a member;
    ///   ``StoreError/Code-swift.struct/invalidReference`` for an unknown user.
    func invite(_ user: UserID, role: Project.Role, to project: ProjectID, by principal: Principal) async throws -> Invitation
    /// The open invitations to `user`, in project identifier order.
    func invitations(to user: UserID) async throws -> [Invitation]
    /// The open invitations of `project`, in user identifier order.
    func invitations(of project: ProjectID) async throws -> [Invitation]
    /// Makes the user's invitation to `project` a membership with its role.
    func acceptInvitation(to project: ProjectID, user: UserID, by principal: Principal) async throws -> Project
    /// Removes the user's invitation to `project` (declined by them, or withdrawn by the project's owner).
    func removeInvitation(to project: ProjectID, user: UserID, by principal: Principal) async throws
    /// Deletes a project with its keys, hosts and clusters, each with its own audit entry in the same
    /// transaction; the hosts' credentials are retired (``isRetiredHostCredential(_:)``).
    func deleteProject(_ id: ProjectID, by principal: Principal) async throws

    // MARK: SSH keys

    /// Adds a key, created now by the principal's user.
    ///
    /// - Throws: ``StoreError/Code-swift.struct/conflict`` when the owner already has a key of that name or
    ///   the same key (SHA256 fingerprint), naming the existing key; ``PolicyError`` for a bad field.
    func createKey(_ key: NewKey, by principal: Principal) async throws -> SSHKeyRecord
    /// Adds several keys in one transaction: all of them, or (when any is refused) none.
    ///
    /// - Throws: as ``createKey(_:by:)`` for the first key refused, also when two of `keys` clash.
    func createKeys(_ keys: [NewKey], by principal: Principal) async throws -> [SSHKeyRecord]
    /// The key, or nil.
    func key(_ id: KeyID) async throws -> SSHKeyRecord?
    /// Keys in identifier order, filtered.
    func keys(_ filter: KeyFilter, page: PageRequest) async throws -> Page<SSHKeyRecord>
    /// Changes a key (name, comment, labels, expiry) with `change`; the closure gets the store's `now`.
    func updateKey(_ id: KeyID, by principal: Principal, _ change: @Sendable (inout SSHKeyRecord, UInt64) throws -> Void) async throws
        -> SSHKeyRecord
    /// Deletes a key; it leaves every host, rescue and cluster list.
    func deleteKey(_ id: KeyID, by principal: Principal) async throws

    /// The names of the objects `query` lists, read in one transaction; missing objects are left out.
    func names(_ query: NameQuery) async throws -> NameBook

    // MARK: Hosts and clusters

    /// Adds a host; the store assigns its identifier and passes it to `make`.
    func createHost(by principal: Principal, _ make: @Sendable (HostID) throws -> Host) async throws -> Host
    /// Adds a host as ``createHost(by:_:)`` does and records its first one-time enrollment token (by its SHA-256,
    /// valid until `expiresAt`) in the same transaction: both are stored, or neither.
    func createHost(
        enrollmentTokenHash tokenHash: [UInt8], expiresAt: UInt64, by principal: Principal, _ make: @Sendable (HostID) throws -> Host
    ) async throws -> Host
    /// The host, or nil.
    func host(_ id: HostID) async throws -> Host?
    /// Hosts in identifier order, filtered.
    func hosts(_ filter: HostFilter, page: PageRequest) async throws -> Page<Host>
    /// Changes a host (name, labels, logins, access, rescue keys, cluster) with `change`.
    func updateHost(_ id: HostID, by principal: Principal, _ change: @Sendable (inout Host) throws -> Void) async throws -> Host
    /// Deletes a host with its enrollment tokens and credentials; its unrevoked credentials are retired
    /// (``isRetiredHostCredential(_:)``).
    func deleteHost(_ id: HostID, by principal: Principal) async throws

    /// Adds a cluster; the store assigns its identifier and passes it to `make`.
    func createCluster(by principal: Principal, _ make: @Sendable (ClusterID) throws -> Cluster) async throws -> Cluster
    /// The cluster, or nil.
    func cluster(_ id: ClusterID) async throws -> Cluster?
    /// Clusters in identifier order; `project` keeps one project's.
    func clusters(project: ProjectID?, page: PageRequest) async throws -> Page<Cluster>
    /// Clusters in identifier order, filtered.
    func clusters(_ filter: ClusterFilter, page: PageRequest) async throws -> Page<Cluster>
    /// Changes a cluster (name, keys) with `change`.
    func updateCluster(_ id: ClusterID, by principal: Principal, _ change: @Sendable (inout Cluster) throws -> Void) async throws -> Cluster
    /// Deletes a cluster; its hosts leave it (their logins fall back to the project's keys).
    func deleteCluster(_ id: ClusterID, by principal: Principal) async throws

    // MARK: Enrollment

    /// Records a one-time enrollment token for `host` by its SHA-256, valid until `expiresAt`.
    func createEnrollmentToken(host: HostID, tokenHash: [UInt8], expiresAt: UInt64, by principal: Principal) async throws
    /// Records a one-time enrollment token as ``createEnrollmentToken(host:tokenHash:expiresAt:by:)`` does and, when
    /// `revokingCredentials`, revokes every credential of the host in the same transaction.
    func createEnrollmentToken(host: HostID, tokenHash: [UInt8], expiresAt: UInt64, revokingCredentials: Bool, by principal: Principal) async throws
    /// Consumes an enrollment token and records the host's credential (by its SHA-256) in one transaction.
    ///
    /// Atomic: of any number of concurrent calls with the same token, exactly one gets the host; the others,
    /// and calls with an unknown, used or expired token, get nil.
    func enroll(tokenHash: [UInt8], credentialHash: [UInt8]) async throws -> HostID?
    /// The host whose unrevoked credential has the SHA-256 `credentialHash`, or nil.
    func host(credentialHash: [UInt8]) async throws -> HostID?
    /// Whether `credentialHash` (SHA-256) was the unrevoked credential of a host that has since been deleted.
    func isRetiredHostCredential(_ credentialHash: [UInt8]) async throws -> Bool
    /// Records what a host's agent reported (not audited: it changes no access).
    func recordAgentReport(_ report: AgentReport, host: HostID) async throws
    /// What the agents of `hosts` last reported, and whether each host holds an unrevoked credential;
    /// hosts never enrolled and never reporting are absent.
    func agentStatus(of hosts: [HostID]) async throws -> [HostID: AgentStatus]

    // MARK: Audit, version, snapshot

    /// Audit entries, oldest first, filtered.
    func audit(_ filter: AuditFilter, page: PageRequest) async throws -> Page<AuditEntry>
    /// The change counter: it grows in the same transaction as every change that can alter effective access.
    func version() async throws -> UInt64
    /// Everything effective access depends on, with the version it reflects, from one consistent read.
    func snapshot() async throws -> VersionedRegistry
    /// The objects effective access reads that changed after `version`, as they are now, from one consistent
    /// read; nil when the store no longer keeps the changes since `version`, or when its history at `version`
    /// is not the one marked `mark` (read a whole ``snapshot()`` then).
    func changes(after version: UInt64, mark: Int64) async throws -> RegistryDelta?
}

/// Who makes a change, as the audit log records it.
public struct Principal: Hashable, Sendable {
    /// The user acting, or nil for the server itself (first start, enrollment).
    public var user: UserID?
    /// The API token used, if any.
    public var token: TokenID?

    /// A principal.
    public init(user: UserID?, token: TokenID? = nil) {
        self.user = user
        self.token = token
    }

    /// The server itself.
    public static let system = Principal(user: nil)
}

/// Identifies an ``APIToken``.
public typealias TokenID = Identifier<APIToken>

/// An API token as stored: never its text, only who it belongs to and what it may do.
public struct APIToken: Hashable, Sendable, Identifiable {
    /// What a token may do.
    public enum Scope: String, Hashable, Sendable, Codable, CaseIterable {
        /// Reads only.
        case readOnly = "read-only"
        /// Reads and changes, as the user's role allows.
        case readWrite = "read-write"
    }

    /// The token's identifier (not secret).
    public let id: TokenID
    /// The user it acts for.
    public let user: UserID
    /// What it may do.
    public let scope: Scope
    /// When it was made, in seconds since 1970 UTC.
    public let createdAt: UInt64
    /// When it was revoked, or nil.
    public let revokedAt: UInt64?

    /// Whether the token still works.
    public var isActive: Bool { revokedAt == nil }

    /// A token record.
    public init(id: TokenID, user: UserID, scope: Scope, createdAt: UInt64, revokedAt: UInt64?) {
        self.id = id
        self.user = user
        self.scope = scope
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The fields of a key to add; the store assigns identifier, creator and creation time.
public struct NewKey: Sendable {
    /// The name, unique per owner.
    public var name: String
    /// The owner.
    public var owner: KeyOwner
    /// The key (its own comment is ignored).
    public var publicKey: PublicKey
    /// The comment to keep.
    public var comment: String
    /// The labels.
    public var labels: [String: String]
    /// The expiry, which must be in the future, or nil.
    public var expiresAt: UInt64?

    /// The fields of a key to add.
    public init(name: String, owner: KeyOwner, publicKey: PublicKey, comment: String = "", labels: [String: String] = [:], expiresAt: UInt64? = nil) {
        self.name = name
        self.owner = owner
        self.publicKey = publicKey
        self.comment = comment
        self.labels = labels
        self.expiresAt = expiresAt
    }

    /// The fields of an imported key, keeping its comment.
    public init(name: String, owner: KeyOwner, imported: ImportedKey, labels: [String: String] = [:], expiresAt: UInt64? = nil) {
        self.init(name: name, owner: owner, publicKey: imported.publicKey, comment: imported.comment, labels: labels, expiresAt: expiresAt)
    }
}

/// Which keys a listing returns; nil fields do not filter.
public struct KeyFilter: Hashable, Sendable {
    /// Keys of this owner only.
    public var owner: KeyOwner?
    /// Keys with this label key and value only.
    public var label: LabelSelector?
    /// Keys with this `SHA256:...` fingerprint only.
    public var fingerprint: String?
    /// Keys with exactly this name only.
    public var name: String?
    /// Keys of this type only, by its name (`ssh-ed25519`, `ssh-rsa`, ...).
    public var keyType: String?
    /// Keys this user may read only: their personal keys and the keys of projects they belong to.
    public var readableBy: UserID?

    /// A filter.
    public init(
        owner: KeyOwner? = nil, label: LabelSelector? = nil, fingerprint: String? = nil, name: String? = nil, keyType: String? = nil,
        readableBy: UserID? = nil
    ) {
        self.owner = owner
        self.keyType = keyType
        self.label = label
        self.fingerprint = fingerprint
        self.name = name
        self.readableBy = readableBy
    }
}

/// Which hosts a listing returns; nil fields do not filter.
public struct HostFilter: Hashable, Sendable {
    /// Hosts of this project only.
    public var project: ProjectID?
    /// Hosts of this cluster only.
    public var cluster: ClusterID?
    /// Hosts with this label key and value only.
    public var label: LabelSelector?
    /// Hosts with exactly this name only.
    public var name: String?
    /// Hosts of these projects only (the projects a caller may read).
    public var projects: Set<ProjectID>?

    /// A filter.
    public init(
        project: ProjectID? = nil, cluster: ClusterID? = nil, label: LabelSelector? = nil, name: String? = nil, projects: Set<ProjectID>? = nil
    ) {
        self.project = project
        self.cluster = cluster
        self.label = label
        self.name = name
        self.projects = projects
    }
}

/// Which clusters a listing returns; nil fields do not filter.
public struct ClusterFilter: Hashable, Sendable {
    /// Clusters of this project only.
    public var project: ProjectID?
    /// Clusters with exactly this name only.
    public var name: String?
    /// Clusters of these projects only (the projects a caller may read).
    public var projects: Set<ProjectID>?

    /// A filter.
    public init(project: ProjectID? = nil, name: String? = nil, projects: Set<ProjectID>? = nil) {
        self.project = project
        self.name = name
        self.projects = projects
    }
}

/// `key=value`: objects whose label `key` is `value`.
public struct LabelSelector: Hashable, Sendable {
    /// The label's key.
    public var key: String
    /// The label's value.
    public var value: String

    /// A selector.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
