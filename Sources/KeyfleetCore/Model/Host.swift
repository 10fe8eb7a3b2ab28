/// A server whose SSH access the registry decides.
///
/// Each login (Unix account) has an access mode: ``LoginAccess/inherited`` (the default) or an
/// ``LoginAccess/explicit(_:)`` list of keys. Rescue keys are break-glass keys, kept per login: they reach
/// their login only while the host is flagged for rescue (``rescueActive``). See ``EffectiveAccess`` for the rules.
public struct Host: Hashable, Sendable, Identifiable {
    /// Which keys may log in as one login.
    public enum LoginAccess: Hashable, Sendable {
        /// The cluster's keys when the host is in a cluster; otherwise the project's keys and the personal
        /// keys of the project's owners and members.
        case inherited
        /// Exactly these keys (the host's own list, which overrides the cluster's and the project's).
        case explicit([KeyID])
    }

    /// Logins cloud-init gives a special meaning (`default` is the image's default user), refused.
    public static let reservedLogins: Set<String> = ["default"]

    /// The host's identifier.
    public let id: HostID
    /// The project the host belongs to.
    public let project: ProjectID
    /// The host's name (checked by ``NamePolicy``).
    public private(set) var name: String
    /// The labels.
    public private(set) var labels: [String: String]
    /// The Unix accounts keys may log in as, in order, without duplicates; `root` by default.
    public private(set) var logins: [LoginName]
    /// The cluster the host belongs to, if any (it must be in the same project).
    public var cluster: ClusterID?
    /// The access mode of each login that is not ``LoginAccess/inherited``; only logins in ``logins``.
    public private(set) var access: [LoginName: LoginAccess]
    /// Break-glass keys per login (only logins in ``logins``, no empty lists), delivered while ``rescueActive``.
    public private(set) var rescueKeys: [LoginName: [KeyID]]
    /// Whether the host is flagged for rescue: its rescue keys log in beside the login's own keys.
    public var rescueActive: Bool
    /// Where the host is reached (a DNS name or an IP address), for people; checked by ``validate(address:)``.
    public private(set) var address: String?

    /// Makes a host, checking name, labels and logins.
    ///
    /// - Throws: ``PolicyError/Code-swift.struct/invalidLogin`` for a login listed twice or an `access`
    ///   entry for a login not in `logins`; ``PolicyError/Code-swift.struct/reservedLogin`` for `default`.
    public init(
        id: HostID, project: ProjectID, name: String, labels: [String: String] = [:], logins: [LoginName] = [.root],
        cluster: ClusterID? = nil, access: [LoginName: LoginAccess] = [:], rescueKeys: [LoginName: [KeyID]] = [:], rescueActive: Bool = false,
        address: String? = nil
    ) throws(PolicyError) {
        try NamePolicy.validate(name)
        if let address { try Self.validate(address: address) }
        try LabelPolicy.validate(labels)
        try Self.validate(logins: logins)
        for login in access.keys where !logins.contains(login) {
            throw PolicyError(.invalidLogin, "access is set for the login \"\(login)\", which the host does not have", field: "access")
        }
        for login in rescueKeys.keys where !logins.contains(login) {
            throw PolicyError(.invalidLogin, "rescue keys are set for the login \"\(login)\", which the host does not have", field: "rescue_keys")
        }
        self.id = id
        self.project = project
        self.name = name
        self.labels = labels
        self.logins = logins
        self.cluster = cluster
        self.access = access.filter { $0.value != .inherited }
        self.rescueKeys = rescueKeys.filter { !$0.value.isEmpty }
        self.rescueActive = rescueActive
        self.address = address
    }

    /// Sets or (with nil) clears the address, checking it.
    public mutating func setAddress(_ newAddress: String?) throws(PolicyError) {
        if let newAddress { try Self.validate(address: newAddress) }
        address = newAddress
    }

    /// An address is a DNS name or an IPv4 or IPv6 literal: 1 to 253 of `A-Z a-z 0-9 . - :`, not starting
    /// with `-` (it is shown and copied into ssh command lines, where a leading dash would be an option).
    public static func validate(address: String) throws(PolicyError) {
        let bytes = Array(address.utf8)
        let allowed = bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x2D
                || byte == 0x3A
        }
        guard !bytes.isEmpty, bytes.count <= 253, allowed, bytes.first != 0x2D else {
            throw PolicyError(
                .invalidName, "the address must be a DNS name or an IP address (1 to 253 of A-Z a-z 0-9 . - :, not starting with -)", field: "address"
            )
        }
    }

    /// The access mode of `login`: ``LoginAccess/inherited`` unless set.
    public func access(for login: LoginName) -> LoginAccess {
        access[login] ?? .inherited
    }

    /// Sets the access mode of `login`, which must be one of ``logins``.
    public mutating func setAccess(_ mode: LoginAccess, for login: LoginName) throws(PolicyError) {
        guard logins.contains(login) else {
            throw PolicyError(.invalidLogin, "the host has no login \"\(login)\"", field: "login")
        }
        access[login] = mode == .inherited ? nil : mode
    }

    /// The rescue keys of `login` (none when unset).
    public func rescueKeys(for login: LoginName) -> [KeyID] {
        rescueKeys[login] ?? []
    }

    /// Every key the host names: on its logins' explicit lists and as rescue keys, repeats included.
    public var listedKeys: [KeyID] {
        var keys = rescueKeys.values.flatMap { $0 }
        for login in logins { if case .explicit(let list) = access(for: login) { keys += list } }
        return keys
    }

    /// Sets the rescue keys of `login`, which must be one of ``logins``; an empty list clears them.
    public mutating func setRescueKeys(_ keys: [KeyID], for login: LoginName) throws(PolicyError) {
        guard logins.contains(login) else {
            throw PolicyError(.invalidLogin, "the host has no login \"\(login)\"", field: "login")
        }
        rescueKeys[login] = keys.isEmpty ? nil : keys
    }

    /// Replaces the logins; access modes and rescue keys of logins no longer listed are dropped.
    public mutating func setLogins(_ newLogins: [LoginName]) throws(PolicyError) {
        try Self.validate(logins: newLogins)
        logins = newLogins
        access = access.filter { newLogins.contains($0.key) }
        rescueKeys = rescueKeys.filter { newLogins.contains($0.key) }
    }

    /// Renames the host, checking the new name.
    public mutating func rename(_ newName: String) throws(PolicyError) {
        try NamePolicy.validate(newName)
        name = newName
    }

    /// Replaces the labels, checking them.
    public mutating func setLabels(_ newLabels: [String: String]) throws(PolicyError) {
        try LabelPolicy.validate(newLabels)
        labels = newLabels
    }

    static func validate(logins: [LoginName]) throws(PolicyError) {
        var seen = Set<LoginName>()
        for login in logins {
            guard !reservedLogins.contains(login.rawValue) else {
                throw PolicyError(
                    .reservedLogin, "the login \"\(login)\" is reserved: cloud-init reads it as the image's default user", field: "logins")
            }
            guard seen.insert(login).inserted else {
                throw PolicyError(.invalidLogin, "the login \"\(login)\" is listed twice", field: "logins")
            }
        }
    }
}
