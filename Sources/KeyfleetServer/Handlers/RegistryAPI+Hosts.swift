internal import Foundation
public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    public func listHosts(_ input: Operations.ListHosts.Input) async throws -> Operations.ListHosts.Output {
        let query = input.query
        let page = try PageRequest.fromQuery(limit: query.limit, cursor: query.cursor)
        var filter = HostFilter(
            label: try LabelSelector.fromQuery(query.label), name: try nameFromQuery(query.name), projects: try await visibleProjects())
        if let project = query.project {
            guard let id = ProjectID(rawValue: project) else { return .ok(.init(body: .json(.init(items: [])))) }
            filter.project = id
        }
        if let cluster = query.cluster {
            guard let id = ClusterID(rawValue: cluster) else { return .ok(.init(body: .json(.init(items: [])))) }
            filter.cluster = id
        }
        let hosts = try await store.hosts(filter, page: page)
        let agents = try await store.agentStatus(of: hosts.items.map(\.id))
        let items = try await named(hosts.items.map { $0.api(agent: agents[$0.id]) })
        return .ok(.init(body: .json(.init(items: items, nextCursor: hosts.nextCursor))))
    }

    public func createHost(_ input: Operations.CreateHost.Input) async throws -> Operations.CreateHost.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let project = try await projectForChange(body.project)
        try checkLogins(body.logins?.count ?? 1)
        try checkKeyList(body.sshKeys?.count ?? 0, field: "ssh_keys")
        for list in body.rescueKeys?.additionalProperties.values ?? [:].values { try checkKeyList(list.count, field: "rescue_keys") }
        let logins = try (body.logins ?? ["root"]).map { text throws(PolicyError) in try LoginName(text) }
        var cluster: ClusterID?
        if let text = body.cluster {
            guard let id = ClusterID(rawValue: text), let found = try await store.cluster(id), found.project == project.id else {
                throw APIProblem.invalidReference("cluster: no cluster \"\(text.prefix(64))\" in the host's project", field: "cluster")
            }
            cluster = found.id
        }
        var modes = [LoginName: KeyfleetCore.Host.LoginAccess]()
        if let keys = body.sshKeys {
            let ids = try await usableKeys(keys, project: project, field: "ssh_keys")
            for login in logins { modes[login] = .explicit(ids) }
        }
        for (text, mode) in body.access?.additionalProperties ?? [:] {
            let login = try LoginName(text)
            modes[login] = try await loginAccess(mode, project: project, field: "access")
        }
        let access = modes
        let clusterID = cluster
        var rescueKeys = [LoginName: [KeyID]]()
        for (text, keys) in body.rescueKeys?.additionalProperties ?? [:] {
            rescueKeys[try LoginName(text)] = try await usableKeys(keys, project: project, field: "rescue_keys")
        }
        let rescue = rescueKeys
        let ttl = try enrollmentTTL(body.enrollmentTtlSeconds, field: "enrollment_ttl_seconds")
        let labels = body.labels?.additionalProperties ?? [:]
        let name = body.name
        let address = body.address
        let projectID = project.id
        // The host and its first enrollment token are stored in one transaction: both, or neither.
        let (enrollment, expiresAt, tokenHash) = try newEnrollment(ttl: ttl)
        let host = try await store.createHost(enrollmentTokenHash: tokenHash, expiresAt: expiresAt, by: principal) { id in
            try KeyfleetCore.Host(
                id: id, project: projectID, name: name, labels: labels, logins: logins, cluster: clusterID, access: access, rescueKeys: rescue,
                address: address)
        }
        changes.changed()
        let userData = try await userData(for: host, enrollment: enrollment)
        return .created(
            .init(
                headers: .init(location: "/v1/hosts/\(host.id.rawValue)", eTag: host.entityTag, cacheControl: .noStore),
                body: .json(.init(host: try await named(host.api()), userData: userData, enrollment: enrollment.api(expiresAt: expiresAt)))))
    }

    public func getHost(_ input: Operations.GetHost.Input) async throws -> Operations.GetHost.Output {
        let host = try await readableHost(input.path.hostId)
        let tag = host.entityTag
        if EntityTag.ifNoneMatch(input.headers.ifNoneMatch, matches: tag) { return .notModified(.init(headers: .init(eTag: tag))) }
        let agent = try await store.agentStatus(of: [host.id])[host.id]
        return .ok(.init(headers: .init(eTag: tag), body: .json(try await named(host.api(agent: agent)))))
    }

    public func updateHost(_ input: Operations.UpdateHost.Input) async throws -> Operations.UpdateHost.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        if let logins = body.logins { try checkLogins(logins.count) }
        if body.address != nil && body.clearAddress == true {
            throw APIProblem.badRequest("address and clear_address exclude each other", field: "clear_address")
        }
        let host = try await managedHost(input.path.hostId)
        let logins = try body.logins.map { try $0.map { text throws(PolicyError) in try LoginName(text) } }
        let ifMatch = input.headers.ifMatch
        let updated = try await store.updateHost(host.id, by: principal) { host in
            try EntityTag.check(ifMatch: ifMatch, current: host.entityTag)
            if let name = body.name { try host.rename(name) }
            if let labels = body.labels { try host.setLabels(labels.additionalProperties) }
            if let logins { try host.setLogins(logins) }
            if let address = body.address { try host.setAddress(address) }
            if body.clearAddress == true { try host.setAddress(nil) }
            if let rescueActive = body.rescueActive { host.rescueActive = rescueActive }
        }
        return try await hostAnswer(updated)
    }

    public func deleteHost(_ input: Operations.DeleteHost.Input) async throws -> Operations.DeleteHost.Output {
        let host = try await managedHost(input.path.hostId)
        try EntityTag.check(ifMatch: input.headers.ifMatch, current: host.entityTag)
        try await store.deleteHost(host.id, by: principal)
        changes.changed()
        return .noContent(.init())
    }

    public func addHostKey(_ input: Operations.AddHostKey.Input) async throws -> Operations.AddHostKey.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let rescue = body.rescue ?? false
        let host = try await managedHost(input.path.hostId)
        let project = try await projectOf(host)
        let key = try await usableKeys([body.sshKey], project: project, field: "ssh_key")[0]
        let login = try LoginName(body.login ?? "root")
        if !host.logins.contains(login) {
            throw PolicyError(.invalidLogin, "the host has no login \"\(login)\"", field: "login")
        }
        let updated = try await store.updateHost(host.id, by: principal) { host in
            if rescue {
                let keys = host.rescueKeys(for: login)
                if !keys.contains(key) { try host.setRescueKeys(keys + [key], for: login) }
            } else {
                switch host.access(for: login) {
                case .inherited: try host.setAccess(.explicit([key]), for: login)
                case .explicit(let keys) where !keys.contains(key): try host.setAccess(.explicit(keys + [key]), for: login)
                case .explicit: break
                }
            }
        }
        return try await .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(hostBody(updated))))
    }

    public func removeHostKey(_ input: Operations.RemoveHostKey.Input) async throws -> Operations.RemoveHostKey.Output {
        let rescue = input.query.rescue ?? false
        let host = try await managedHost(input.path.hostId)
        let keyText = input.path.keyId
        let login = try LoginName(input.query.login ?? "root")
        let key = KeyID(rawValue: keyText)
        let guardLockOut = try await lockOutGuard(allowEmpty: input.query.allowEmpty ?? false)
        let updated = try await store.updateHost(host.id, by: principal) { host in
            guard host.logins.contains(login) else { throw PolicyError(.invalidLogin, "the host has no login \"\(login)\"", field: "login") }
            if rescue {
                let keys = host.rescueKeys(for: login)
                guard let key, keys.contains(key) else { throw APIProblem.notFound("rescue key of the login", String(keyText.prefix(64))) }
                let before = host
                try host.setRescueKeys(keys.filter { $0 != key }, for: login)
                try guardLockOut(before, host, login)
                return
            }
            guard case .explicit(let keys) = host.access(for: login) else {
                throw StoreError(
                    .conflict,
                    "the login \"\(login)\" inherits its keys and has no own list: set it explicit, or remove the key from the project or cluster")
            }
            guard let key, keys.contains(key) else { throw APIProblem.notFound("key on the login's list", String(keyText.prefix(64))) }
            let before = host
            try host.setAccess(.explicit(keys.filter { $0 != key }), for: login)
            try guardLockOut(before, host, login)
        }
        return try await .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(hostBody(updated))))
    }

    public func setHostLoginAccess(_ input: Operations.SetHostLoginAccess.Input) async throws -> Operations.SetHostLoginAccess.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let host = try await managedHost(input.path.hostId)
        let login = try LoginName(input.path.login)
        let mode = try await loginAccess(body, project: try await projectOf(host), field: "keys")
        let ifMatch = input.headers.ifMatch
        let guardLockOut = try await lockOutGuard(allowEmpty: input.query.allowEmpty ?? false)
        let updated = try await store.updateHost(host.id, by: principal) { host in
            try EntityTag.check(ifMatch: ifMatch, current: host.entityTag)
            let before = host
            try host.setAccess(mode, for: login)
            try guardLockOut(before, host, login)
        }
        return try await .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(hostBody(updated))))
    }

    /// A check, run inside the host's update, that refuses (409 `would-lock-out`) a change after which
    /// nobody may log in as `login` where somebody could before, unless `allowEmpty`. It reads the registry
    /// as it is now, through the one effective-access rule.
    func lockOutGuard(allowEmpty: Bool) async throws -> @Sendable (KeyfleetCore.Host, KeyfleetCore.Host, LoginName) throws -> Void {
        if allowEmpty { return { _, _, _ in } }
        let registry = try await access.registry().snapshot
        let now = clock()
        return { before, after, login in
            let had = EffectiveAccess.compute(host: before, login: login, registry: registry, now: now)
            guard !had.isEmpty, EffectiveAccess.compute(host: after, login: login, registry: registry, now: now).isEmpty else { return }
            throw APIProblem(
                status: 409, code: "would-lock-out",
                "after this change no key may log in to \(before.name) as \(login) (\(had.count) may now); "
                    + "pass allow_empty=true (--allow-empty) to do it anyway")
        }
    }

    public func getHostAccess(_ input: Operations.GetHostAccess.Input) async throws -> Operations.GetHostAccess.Output {
        let user = try currentUser().user
        let now = clock()
        let id = HostID(rawValue: input.path.hostId)
        var found = id.flatMap(HostAccessAnswers.pinned)
        if found == nil, let id { found = try await access.host(id, now: now) }
        guard let (view, registry) = found, view.mayBeRead(by: user, in: registry) else {
            throw APIProblem.notFound("host", String(input.path.hostId.prefix(64)))
        }
        var only: LoginName?
        if let text = input.query.login {
            let login = try LoginName(text)
            guard view.host.logins.contains(login) else { throw PolicyError(.invalidLogin, "the host has no login \"\(login)\"", field: "login") }
            only = login
        }
        return .ok(.init(body: .json(named(view.api(rescue: view.rescue, only: only), from: registry.snapshot))))
    }

    public func createHostEnrollmentToken(_ input: Operations.CreateHostEnrollmentToken.Input) async throws
        -> Operations.CreateHostEnrollmentToken.Output
    {
        var request = Components.Schemas.CreateEnrollmentTokenRequest()
        if case .json(let body)? = input.body { request = body }
        let host = try await managedHost(input.path.hostId)
        let ttl = try enrollmentTTL(request.ttlSeconds, field: "ttl_seconds")
        let grant = try await enrollment(for: host, ttl: ttl, revokingCredentials: request.revokeCredential ?? false)
        return .created(
            .init(
                headers: .init(cacheControl: .noStore),
                body: .json(.init(enrollment: grant.enrollment.api(expiresAt: grant.expiresAt), userData: grant.userData))))
    }

    // MARK: Helpers

    /// The host, if the current user may read its project; 404 otherwise.
    func readableHost(_ text: String) async throws -> KeyfleetCore.Host {
        guard let id = HostID(rawValue: text), let host = try await store.host(id) else { throw APIProblem.notFound("host", String(text.prefix(64))) }
        do {
            _ = try await readableProject(host.project)
        } catch let problem as APIProblem where problem.status == 404 {
            throw APIProblem.notFound("host", id.rawValue)
        }
        return host
    }

    /// The host, if the current user owns its project; 404 when they may not read it, 403 when only read.
    func managedHost(_ text: String) async throws -> KeyfleetCore.Host {
        let host = try await readableHost(text)
        _ = try await managedProject(host.project)
        return host
    }

    func projectOf(_ host: KeyfleetCore.Host) async throws -> Project {
        guard let project = try await store.project(host.project) else { throw APIProblem.notFound("host", host.id.rawValue) }
        return project
    }

    /// The project a new host or cluster goes into: 422 when unknown or invisible, 403 unless the user owns it.
    func projectForChange(_ text: String) async throws -> Project {
        guard let id = ProjectID(rawValue: text), let project = try await store.project(id), try role(in: project) != nil else {
            throw APIProblem.invalidReference("project: no project \"\(text.prefix(64))\"", field: "project")
        }
        guard try role(in: project) == .owner else { throw APIProblem.forbidden("only the project's owners may change it") }
        return project
    }

    /// The keys, each a key of `project` or a personal key of one of its owners or members; 422 otherwise.
    func usableKeys(_ texts: [String], project: Project, field: String) async throws -> [KeyID] {
        var result = [KeyID]()
        for text in texts {
            guard let id = KeyID(rawValue: text), let key = try await store.key(id), Self.mayReach(key, project: project) else {
                throw APIProblem.invalidReference(
                    "\(field): \"\(text.prefix(64))\" is neither a key of the project nor a personal key of one of its owners or members",
                    field: field)
            }
            if !result.contains(id) { result.append(id) }
        }
        return result
    }

    static func mayReach(_ key: SSHKeyRecord, project: Project) -> Bool {
        switch key.owner {
        case .project(let owner): owner == project.id
        case .user(let user): project.members[user]?.grantsHostAccess ?? false
        }
    }

    /// A login's access mode from the API: `keys` only with `explicit`, where it is required.
    func loginAccess(_ access: Components.Schemas.LoginAccess, project: Project, field: String) async throws -> KeyfleetCore.Host.LoginAccess {
        switch access.mode {
        case .inherited:
            guard access.keys == nil else { throw APIProblem.badRequest("keys are only given with the explicit mode", field: field) }
            return .inherited
        case .explicit:
            guard let keys = access.keys else { throw APIProblem.badRequest("the explicit mode needs keys (possibly none)", field: field) }
            try checkKeyList(keys.count, field: field)
            return .explicit(try await usableKeys(keys, project: project, field: field))
        }
    }

    /// The most keys one list (a login's, the rescue list, a cluster's) takes, as the contract's `maxItems` says;
    /// the generated code does not check it, and every key costs a lookup and a row per login.
    static let maximumKeyList = 10_000
    /// The most logins a host has.
    static let maximumLogins = 64

    /// 400 unless a list of keys from a request has at most ``maximumKeyList`` items.
    func checkKeyList(_ count: Int, field: String) throws {
        guard count <= Self.maximumKeyList else {
            throw APIProblem.badRequest("\(field) lists \(count) keys; at most \(Self.maximumKeyList) are taken", field: field)
        }
    }

    /// 400 unless a host's logins are 1 to ``maximumLogins``.
    func checkLogins(_ count: Int) throws {
        guard (1...Self.maximumLogins).contains(count) else {
            throw APIProblem.badRequest("logins lists \(count) logins; a host has 1 to \(Self.maximumLogins)", field: "logins")
        }
    }

    func enrollmentTTL(_ value: Int32?, field: String) throws -> UInt64 {
        let ttl = value ?? 86_400
        guard (60...2_592_000).contains(ttl) else { throw APIProblem.badRequest("\(field) must be between 60 and 2592000", field: field) }
        return UInt64(ttl)
    }

    /// A fresh one-time enrollment token for `host` (stored hashed) and the user data that uses it.
    func enrollment(for host: KeyfleetCore.Host, ttl: UInt64, revokingCredentials: Bool) async throws
        -> (enrollment: Enrollment, expiresAt: UInt64, userData: String)
    {
        let (enrollment, expiresAt, tokenHash) = try newEnrollment(ttl: ttl)
        try await store.createEnrollmentToken(
            host: host.id, tokenHash: tokenHash, expiresAt: expiresAt, revokingCredentials: revokingCredentials, by: principal)
        changes.changed()
        return (enrollment, expiresAt, try await userData(for: host, enrollment: enrollment))
    }

    /// A fresh one-time enrollment token valid for `ttl` seconds, not yet stored: the enrollment agents use,
    /// when it expires, and the hash the store keeps. Checked before anything is written.
    func newEnrollment(ttl: UInt64) throws -> (enrollment: Enrollment, expiresAt: UInt64, tokenHash: [UInt8]) {
        let token = Secrets.make(.enrollmentToken)
        let endpoint = self.endpoint
        let enrollment = try Enrollment(serverURL: endpoint.url, token: token, caCertHash: endpoint.caCertHash, agentPackage: endpoint.agentPackage)
        return (enrollment, clock() + ttl, Secrets.hash(token))
    }

    /// The cloud-init user data that provisions `host` and enrolls it with `enrollment`.
    func userData(for host: KeyfleetCore.Host, enrollment: Enrollment) async throws -> String {
        let registry = try await access.registry()
        let current = registry.snapshot.hosts[host.id] ?? host
        return CloudInit.userData(host: current, registry: registry.snapshot, now: clock(), enrollment: enrollment)
    }

    /// The host's API body with its agent's status.
    func hostBody(_ host: KeyfleetCore.Host) async throws -> Components.Schemas.Host {
        changes.changed()
        return try await named(host.api(agent: try await store.agentStatus(of: [host.id])[host.id]))
    }

    func hostAnswer(_ host: KeyfleetCore.Host) async throws -> Operations.UpdateHost.Output {
        .ok(.init(headers: .init(eTag: host.entityTag), body: .json(try await hostBody(host))))
    }

    /// The projects the current user may read, nil for an administrator (all).
    func visibleProjects() async throws -> Set<ProjectID>? {
        let user = try currentUser().user
        if user.role == .admin { return nil }
        var result = Set<ProjectID>()
        var page = PageRequest.largest
        while true {
            let found = try await store.projects(member: user.id, page: page)
            result.formUnion(found.items.map(\.id))
            guard let next = found.nextCursor else { return result }
            page = PageRequest(limit: PageRequest.maximumLimit, cursor: next)
        }
    }
}
