import SSHKeys

/// The one function that decides which keys may log in where: the API's `host keys`, the cloud-init
/// renderer and the host agent's sync all call it, so they cannot disagree.
///
/// For a host `H` in project `P` and one of its logins `L`:
///
/// 1. `L` not among `H`'s logins, or `P` missing from the snapshot: no keys.
/// 2. Which list applies (the first that matches, the others ignored; the lists are never merged):
///    - `H`'s explicit list for `L` (``Host/LoginAccess/explicit(_:)``);
///    - else, when `H` is in a cluster: the cluster's keys. A cluster that is missing from the snapshot or
///      belongs to another project gives no keys; it does not fall back to the project's set (least access);
///    - else: `P`'s project keys and the personal keys of `P`'s owners and members (not viewers: a viewer
///      reads, never logs in).
/// 3. Every key of that list must still be *eligible* for `P`: a project key of `P`, or a personal key of a
///    user who exists and is an owner or member of `P` now. So removing a member (or demoting them to viewer,
///    or deleting the user) removes their personal keys from every host of `P`, even from explicit and
///    cluster lists; a key of another project never reaches `P`'s hosts. Keys missing from the snapshot
///    (deleted) are skipped.
/// 4. Keys whose expiry is at or before `now` are left out. An expiring key's line carries
///    `expiry-time="YYYYMMDDHHMMSSZ"` (UTC, to the second) so sshd enforces it even if the agent
///    stops.
/// 5. Records holding the same key material give one entry. It is rendered from the record that expires
///    last (no expiry counts as last; among equals the smallest identifier): sshd would accept the key
///    through whichever line is still valid, so this grants no more than the registry does, and it keeps
///    the key working exactly as long as some record grants it.
/// 6. Entries are sorted by key identifier. The line's options are only those above (never `restrict`,
///    never anything from a user); its comment is `keyfleet:<name>` with every character other than ASCII
///    letters, digits and `._-@+=:/` replaced by `_`, so no name can add a line or an option.
///
/// 7. While the host is flagged for rescue (``Host/rescueActive``), the login's rescue keys are added under
///    the same rules 3 to 5, with the source ``AccessSource/rescue``; a rescue key whose key material the
///    login already has adds nothing. Unflagged, they reach nothing; ``rescue(host:login:registry:now:)``
///    shows what they would deliver.
public enum EffectiveAccess {
    /// The keys that may log in to `host` as `login` at `now` (seconds since 1970 UTC), sorted by key
    /// identifier, one entry per distinct key.
    public static func compute(host: Host, login: LoginName, registry: RegistrySnapshot, now: UInt64) -> [AccessEntry] {
        guard host.logins.contains(login), let project = registry.projects[host.project] else { return [] }
        let (source, candidates) = list(host: host, login: login, project: project, registry: registry)
        let granted = entries(candidates, source: source, project: project, registry: registry, now: now)
        guard host.rescueActive, !host.rescueKeys(for: login).isEmpty else { return granted }
        let present = Set(granted.map(\.publicKey.wireBytes))
        let rescue = entries(host.rescueKeys(for: login), source: .rescue, project: project, registry: registry, now: now)
        return (granted + rescue.filter { !present.contains($0.publicKey.wireBytes) }).sorted { $0.keyID < $1.keyID }
    }

    /// The rescue keys of `login` on `host` at `now` under the same eligibility, expiry and rendering rules,
    /// whether or not the host is flagged for rescue (what the flag would add, with what is already granted).
    public static func rescue(host: Host, login: LoginName, registry: RegistrySnapshot, now: UInt64) -> [AccessEntry] {
        guard host.logins.contains(login), let project = registry.projects[host.project] else { return [] }
        return entries(host.rescueKeys(for: login), source: .rescue, project: project, registry: registry, now: now)
    }

    /// The effective access of every login of `host`, in the host's login order.
    public static func computeAll(host: Host, registry: RegistrySnapshot, now: UInt64) -> [(login: LoginName, entries: [AccessEntry])] {
        host.logins.map { ($0, compute(host: host, login: $0, registry: registry, now: now)) }
    }

    /// The rule that applies to `login` on `host` (see step 2 above); nil when the login has no access at all.
    public static func source(host: Host, login: LoginName, registry: RegistrySnapshot) -> AccessSource? {
        guard host.logins.contains(login), let project = registry.projects[host.project] else { return nil }
        return list(host: host, login: login, project: project, registry: registry).source
    }

    /// The authorized_keys file for `entries`: each line followed by a line feed.
    public static func authorizedKeysFile(_ entries: [AccessEntry]) -> String {
        var text = ""
        for entry in entries {
            text += entry.line
            text += "\n"
        }
        return text
    }

    /// The comment rendered for a key named `name`: `keyfleet:` and the name, each character other than
    /// ASCII letters, digits and `._-@+=:/` replaced by `_`, at most 64 characters of it.
    public static func comment(forKeyNamed name: String) -> String {
        var out = "keyfleet:"
        for scalar in name.unicodeScalars.prefix(NamePolicy.maximumLength) {
            let value = scalar.value
            let safe =
                (value >= 0x30 && value <= 0x39) || (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
                || "._-@+=:/".unicodeScalars.contains(scalar)
            out.unicodeScalars.append(safe ? scalar : "_")
        }
        return out
    }

    /// Step 2: the list that applies, and the rule it comes from.
    static func list(host: Host, login: LoginName, project: Project, registry: RegistrySnapshot) -> (source: AccessSource, keys: [KeyID]) {
        if case .explicit(let keys) = host.access(for: login) {
            return (.host, keys)
        }
        if let clusterID = host.cluster {
            guard let cluster = registry.clusters[clusterID], cluster.project == project.id else { return (.cluster(clusterID), []) }
            return (.cluster(clusterID), cluster.keys)
        }
        var keys = registry.keys(ownedBy: .project(project.id)).map(\.id)
        for user in project.usersWithHostAccess where registry.users[user] != nil {
            keys += registry.keys(ownedBy: .user(user)).map(\.id)
        }
        return (.project, keys)
    }

    /// Step 3: whether `record` may reach the hosts of `project` at all.
    static func isEligible(_ record: SSHKeyRecord, for project: Project, registry: RegistrySnapshot) -> Bool {
        switch record.owner {
        case .project(let owner):
            return owner == project.id
        case .user(let user):
            guard registry.users[user] != nil, let role = project.members[user] else { return false }
            return role.grantsHostAccess
        }
    }

    /// Steps 3 to 6 for the keys `candidates`.
    static func entries(_ candidates: [KeyID], source: AccessSource, project: Project, registry: RegistrySnapshot, now: UInt64) -> [AccessEntry] {
        var groups = [[UInt8]: [SSHKeyRecord]]()
        for id in Set(candidates) {
            guard let record = registry.keys[id], isEligible(record, for: project, registry: registry), record.isValid(at: now) else { continue }
            groups[record.publicKey.wireBytes, default: []].append(record)
        }
        var result = [AccessEntry]()
        result.reserveCapacity(groups.count)
        for records in groups.values {
            guard let chosen = records.min(by: expiresLater) else { continue }
            var options = [AuthorizedKeyOption]()
            if let expiresAt = chosen.expiresAt { options.append(.expiryTime(ExpiryTime.authorizedKeysText(expiresAt))) }
            // Records are checked on creation (plain key, valid expiry, safe comment), so rendering cannot
            // fail; a record that somehow could not be rendered grants nothing.
            guard let line = try? AuthorizedKey(options: options, key: chosen.publicKey, comment: comment(forKeyNamed: chosen.name)) else {
                continue
            }
            result.append(
                AccessEntry(
                    keyID: chosen.id, grantedBy: records.map(\.id).sorted(), name: chosen.name, owner: chosen.owner,
                    publicKey: chosen.publicKey, fingerprint: chosen.sha256Fingerprint, expiresAt: chosen.expiresAt, source: source,
                    authorizedKey: line))
        }
        result.sort { $0.keyID < $1.keyID }
        return result
    }

    /// Orders records so that the one to render comes first: no expiry, then the latest expiry, then the
    /// smallest identifier.
    static func expiresLater(_ lhs: SSHKeyRecord, _ rhs: SSHKeyRecord) -> Bool {
        switch (lhs.expiresAt, rhs.expiresAt) {
        case (nil, nil): return lhs.id < rhs.id
        case (nil, _): return true
        case (_, nil): return false
        case (let left?, let right?): return left != right ? left > right : lhs.id < rhs.id
        }
    }
}
