internal import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore
internal import OpenAPIRuntime

/// An API object that refers to other objects by identifier and shows their names beside them, for people.
///
/// Names are filled in after the object is built and after its entity tag is taken, so a tag stands for the
/// object's own fields. An identifier whose object no longer exists gets no name.
protocol Named {
    /// The identifiers whose names the object shows.
    var references: NameQuery { get }
    /// Fills in the names `book` has.
    mutating func name(from book: NameBook)
}

extension RegistryAPI {
    /// `items` with the names of what they refer to, looked up in one read.
    func named<T: Named>(_ items: [T]) async throws -> [T] {
        var query = NameQuery()
        for item in items { query.formUnion(item.references) }
        let book = try await store.names(query)
        return items.map { item in
            var named = item
            named.name(from: book)
            return named
        }
    }

    /// `item` with the names of what it refers to.
    func named<T: Named>(_ item: T) async throws -> T {
        try await named([item])[0]
    }

    /// `item` with names from the registry in memory (no store query), for reads served from it.
    func named<T: Named>(_ item: T, from snapshot: RegistrySnapshot) -> T {
        var named = item
        named.name(from: NameBook(item.references, in: snapshot))
        return named
    }
}

extension NameBook {
    /// The names `query` asks for, as `snapshot` has them.
    init(_ query: NameQuery, in snapshot: RegistrySnapshot) {
        self.init()
        for id in query.users { users[id] = snapshot.users[id]?.name }
        for id in query.projects { projects[id] = snapshot.projects[id]?.name }
        for id in query.keys { keys[id] = snapshot.keys[id]?.name }
        for id in query.clusters { clusters[id] = snapshot.clusters[id]?.name }
    }
}

extension NameQuery {
    mutating func add(user text: String?) { if let text, let id = UserID(rawValue: text) { users.insert(id) } }
    mutating func add(project text: String?) { if let text, let id = ProjectID(rawValue: text) { projects.insert(id) } }
    mutating func add(key text: String?) { if let text, let id = KeyID(rawValue: text) { keys.insert(id) } }
    mutating func add(cluster text: String?) { if let text, let id = ClusterID(rawValue: text) { clusters.insert(id) } }

    mutating func add(owner: Components.Schemas.KeyOwner) {
        switch owner.kind {
        case .user: add(user: owner.id)
        case .project: add(project: owner.id)
        }
    }
}

extension NameBook {
    func user(_ text: String?) -> String? { text.flatMap(UserID.init(rawValue:)).flatMap { users[$0] } }
    func project(_ text: String?) -> String? { text.flatMap(ProjectID.init(rawValue:)).flatMap { projects[$0] } }
    func cluster(_ text: String?) -> String? { text.flatMap(ClusterID.init(rawValue:)).flatMap { clusters[$0] } }

    /// `id -> name` for the keys `ids` that exist; nil when none does.
    func keyNames(_ ids: some Sequence<String>) -> Components.Schemas.KeyNames? {
        var names = [String: String]()
        for text in ids {
            if let id = KeyID(rawValue: text), let name = keys[id] { names[text] = name }
        }
        return names.isEmpty ? nil : Components.Schemas.KeyNames(additionalProperties: names)
    }

    func name(_ owner: inout Components.Schemas.KeyOwner) {
        owner.name = owner.kind == .user ? user(owner.id) : project(owner.id)
    }
}

extension Components.Schemas.SSHKey: Named {
    var references: NameQuery {
        var query = NameQuery()
        query.add(owner: owner)
        query.add(user: createdBy)
        return query
    }

    mutating func name(from book: NameBook) {
        book.name(&owner)
        createdByName = book.user(createdBy)
    }
}

extension Components.Schemas.Project: Named {
    var references: NameQuery {
        var query = NameQuery()
        for member in members { query.add(user: member.user) }
        return query
    }

    mutating func name(from book: NameBook) {
        for index in members.indices { members[index].userName = book.user(members[index].user) }
    }
}

extension Components.Schemas.Invitation: Named {
    var references: NameQuery {
        var query = NameQuery()
        query.add(user: user)
        query.add(user: invitedBy)
        return query
    }

    mutating func name(from book: NameBook) {
        userName = book.user(user)
        invitedByName = book.user(invitedBy)
    }
}

extension Components.Schemas.Cluster: Named {
    var references: NameQuery {
        var query = NameQuery()
        query.add(project: project)
        for key in keys { query.add(key: key) }
        return query
    }

    mutating func name(from book: NameBook) {
        projectName = book.project(project)
        keyNames = book.keyNames(keys)
    }
}

extension Components.Schemas.Host: Named {
    /// Every key the host lists: its logins' own lists and their rescue keys.
    var listedKeys: [String] {
        access.additionalProperties.values.flatMap { $0.keys ?? [] } + rescueKeys.additionalProperties.values.flatMap { $0 }
    }

    var references: NameQuery {
        var query = NameQuery()
        query.add(project: project)
        query.add(cluster: cluster)
        for key in listedKeys { query.add(key: key) }
        return query
    }

    mutating func name(from book: NameBook) {
        projectName = book.project(project)
        clusterName = book.cluster(cluster)
        keyNames = book.keyNames(listedKeys)
    }
}

extension Components.Schemas.HostAccess: Named {
    var references: NameQuery {
        var query = NameQuery()
        for entry in (logins + rescue).flatMap(\.keys) { query.add(owner: entry.owner) }
        for login in logins { query.add(cluster: login.source.cluster) }
        return query
    }

    mutating func name(from book: NameBook) {
        for login in logins.indices {
            logins[login].source.clusterName = book.cluster(logins[login].source.cluster)
            for key in logins[login].keys.indices { book.name(&logins[login].keys[key].owner) }
        }
        for login in rescue.indices {
            for key in rescue[login].keys.indices { book.name(&rescue[login].keys[key].owner) }
        }
    }
}

extension Components.Schemas.AuditEntry: Named {
    var references: NameQuery {
        var query = NameQuery()
        query.add(user: actor)
        return query
    }

    mutating func name(from book: NameBook) {
        actorName = book.user(actor)
    }
}
