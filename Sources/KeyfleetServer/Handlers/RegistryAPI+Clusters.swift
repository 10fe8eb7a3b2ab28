public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    public func listClusters(_ input: Operations.ListClusters.Input) async throws -> Operations.ListClusters.Output {
        let query = input.query
        let page = try PageRequest.fromQuery(limit: query.limit, cursor: query.cursor)
        var filter = ClusterFilter(name: try nameFromQuery(query.name), projects: try await visibleProjects())
        if let project = query.project {
            guard let id = ProjectID(rawValue: project) else { return .ok(.init(body: .json(.init(items: [])))) }
            filter.project = id
        }
        let clusters = try await store.clusters(filter, page: page)
        return .ok(.init(body: .json(.init(items: try await named(clusters.items.map(\.api)), nextCursor: clusters.nextCursor))))
    }

    public func createCluster(_ input: Operations.CreateCluster.Input) async throws -> Operations.CreateCluster.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        try checkKeyList(body.keys?.count ?? 0, field: "keys")
        let project = try await projectForChange(body.project)
        let keys = try await usableKeys(body.keys ?? [], project: project, field: "keys")
        let name = body.name
        let projectID = project.id
        let cluster = try await store.createCluster(by: principal) { id in try Cluster(id: id, project: projectID, name: name, keys: keys) }
        return .created(
            .init(headers: .init(location: "/v1/clusters/\(cluster.id.rawValue)", eTag: cluster.entityTag), body: .json(try await named(cluster.api)))
        )
    }

    public func getCluster(_ input: Operations.GetCluster.Input) async throws -> Operations.GetCluster.Output {
        let cluster = try await readableCluster(input.path.clusterId)
        let tag = cluster.entityTag
        if EntityTag.ifNoneMatch(input.headers.ifNoneMatch, matches: tag) { return .notModified(.init(headers: .init(eTag: tag))) }
        return .ok(.init(headers: .init(eTag: tag), body: .json(try await named(cluster.api))))
    }

    public func deleteCluster(_ input: Operations.DeleteCluster.Input) async throws -> Operations.DeleteCluster.Output {
        let cluster = try await managedCluster(input.path.clusterId)
        try EntityTag.check(ifMatch: input.headers.ifMatch, current: cluster.entityTag)
        try await store.deleteCluster(cluster.id, by: principal)
        changes.changed()
        return .noContent(.init())
    }

    public func addClusterKey(_ input: Operations.AddClusterKey.Input) async throws -> Operations.AddClusterKey.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let cluster = try await managedCluster(input.path.clusterId)
        guard let project = try await store.project(cluster.project) else { throw APIProblem.notFound("cluster", cluster.id.rawValue) }
        let key = try await usableKeys([body.sshKey], project: project, field: "ssh_key")[0]
        if cluster.keys.contains(key) { return .ok(.init(headers: .init(eTag: cluster.entityTag), body: .json(try await named(cluster.api)))) }
        let updated = try await store.updateCluster(cluster.id, by: principal) { cluster in
            if !cluster.keys.contains(key) { cluster.keys.append(key) }
        }
        changes.changed()
        return .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(try await named(updated.api))))
    }

    public func removeClusterKey(_ input: Operations.RemoveClusterKey.Input) async throws -> Operations.RemoveClusterKey.Output {
        let cluster = try await managedCluster(input.path.clusterId)
        let text = input.path.keyId
        guard let key = KeyID(rawValue: text), cluster.keys.contains(key) else {
            throw APIProblem.notFound("key on the cluster's list", String(text.prefix(64)))
        }
        let updated = try await store.updateCluster(cluster.id, by: principal) { cluster in
            guard cluster.keys.contains(key) else { throw APIProblem.notFound("key on the cluster's list", key.rawValue) }
            cluster.keys.removeAll { $0 == key }
        }
        changes.changed()
        return .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(try await named(updated.api))))
    }

    public func addClusterHost(_ input: Operations.AddClusterHost.Input) async throws -> Operations.AddClusterHost.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let cluster = try await managedCluster(input.path.clusterId)
        guard let hostID = HostID(rawValue: body.host), let host = try await store.host(hostID), host.project == cluster.project else {
            throw APIProblem.invalidReference("host: no host \"\(body.host.prefix(64))\" in the cluster's project", field: "host")
        }
        let clusterID = cluster.id
        let updated: KeyfleetCore.Host
        if host.cluster == clusterID {
            updated = host
        } else {
            updated = try await store.updateHost(host.id, by: principal) { host in
                if let other = host.cluster, other != clusterID {
                    throw StoreError(
                        .conflict, "the host is in another cluster: remove it there first", existingID: other.rawValue, existingName: nil)
                }
                host.cluster = clusterID
            }
        }
        return .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(try await hostBody(updated))))
    }

    public func removeClusterHost(_ input: Operations.RemoveClusterHost.Input) async throws -> Operations.RemoveClusterHost.Output {
        let cluster = try await managedCluster(input.path.clusterId)
        let text = input.path.hostId
        guard let hostID = HostID(rawValue: text), let host = try await store.host(hostID), host.cluster == cluster.id else {
            throw APIProblem.notFound("host in this cluster", String(text.prefix(64)))
        }
        let clusterID = cluster.id
        let updated = try await store.updateHost(host.id, by: principal) { host in
            guard host.cluster == clusterID else { throw APIProblem.notFound("host in this cluster", host.id.rawValue) }
            host.cluster = nil
        }
        return .ok(.init(headers: .init(eTag: updated.entityTag), body: .json(try await hostBody(updated))))
    }

    // MARK: Helpers

    /// The cluster, if the current user may read its project; 404 otherwise.
    func readableCluster(_ text: String) async throws -> Cluster {
        guard let id = ClusterID(rawValue: text), let cluster = try await store.cluster(id) else {
            throw APIProblem.notFound("cluster", String(text.prefix(64)))
        }
        do {
            _ = try await readableProject(cluster.project)
        } catch let problem as APIProblem where problem.status == 404 {
            throw APIProblem.notFound("cluster", id.rawValue)
        }
        return cluster
    }

    /// The cluster, if the current user owns its project; 404 when they may not read it, 403 when only read.
    func managedCluster(_ text: String) async throws -> Cluster {
        let cluster = try await readableCluster(text)
        _ = try await managedProject(cluster.project)
        return cluster
    }
}
