internal import Foundation
internal import Hummingbird
internal import KeyfleetAPI
internal import KeyfleetCore
internal import SSHKeys

/// Projects, hosts and clusters.
extension Portal {
    // MARK: Projects

    func registerProjects(on router: Router<BasicRequestContext>) {
        page("/projects", on: router, operation: "listProjects") { try await projectsPage($0) }
        page("/projects", on: router, operation: "createProject", write: true) { visit in
            let name = visit.form["name"].trimmingCharacters(in: .whitespaces)
            do {
                let project = try await api.createProject(.init(body: .json(.init(name: name)))).created.body.json
                sessions.leave("Project \(project.name) was created.", for: visit.sessionID)
                return Self.redirect("/projects/\(project.id)")
            } catch {
                let problem = try Self.formRefusal(error)
                return try await projectsPage(
                    visit, newName: name, error: problem.detail ?? "the project was not created",
                    status: HTTPResponse.Status(code: problem.status))
            }
        }
        page("/projects/:id", on: router, operation: "getProject") { visit, path in
            let id = path["id"]
            return try await projectPage(visit, id: id)
        }
        page("/projects/:id/members", on: router, operation: "setProjectMember", write: true) { visit, path in
            let id = path["id"]
            let name = visit.form["user"].trimmingCharacters(in: .whitespaces)
            let users = try await api.listUsers(.init(query: .init(limit: 1, name: name.isEmpty ? nil : name))).ok.body.json.items
            guard !name.isEmpty, let user = users.first, user.name == name else {
                throw APIProblem.invalidReference("no user is named \(name.prefix(64))", field: "user")
            }
            guard let role = Components.Schemas.ProjectRole(rawValue: visit.form["role"]) else {
                throw APIProblem.badRequest("the role must be owner, member or viewer", field: "role")
            }
            let answer = try await api.setProjectMember(.init(path: .init(projectId: id, userId: user.id), body: .json(.init(role: role))))
            let invited = (try? answer.accepted) != nil
            sessions.leave(
                invited ? "\(user.name) was invited as \(role.rawValue)." : "\(user.name) is now \(role.rawValue).", for: visit.sessionID)
            return Self.redirect("/projects/\(id)")
        }
        page("/projects/:id/members/:user/remove", on: router, operation: "removeProjectMember", write: true) { visit, path in
            let id = path["id"]
            let user = path["user"]
            _ = try await api.removeProjectMember(.init(path: .init(projectId: id, userId: user)))
            sessions.leave("The member was removed.", for: visit.sessionID)
            return Self.redirect("/projects/\(id)")
        }
    }

    private func projectsPage(
        _ visit: Visit, newName: String = "", error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let projects = try await api.listProjects(.init(query: .init(limit: 200))).ok.body.json.items
        let rows = projects.map { project -> [String: Any] in
            let role = project.members.first { $0.user == visit.user.id.rawValue }?.role.rawValue
            return [
                "id": project.id, "name": project.name, "members": project.members.count,
                "role": role ?? (visit.isAdmin ? "administrator" : "none"),
            ]
        }
        var page = PortalPage(
            title: "Projects", template: "projects", section: "Projects",
            values: ["projects": rows, "newName": newName, "nameError": error ?? ""])
        page.error = error.map { "The project was not created: \($0)" }
        return render(page, status: status, visit: visit)
    }

    private func projectPage(_ visit: Visit, id: String) async throws -> Response {
        let project = try await api.getProject(.init(path: .init(projectId: id))).ok.body.json
        let registry = try await api.access.registry().snapshot
        let mayManage = try visit.mayWrite && manages(project.id, in: registry)
        let keys = try await api.listSSHKeys(.init(query: .init(limit: 200, project: id))).ok.body.json.items
        let values: [String: Any] = [
            "id": project.id, "name": project.name, "mayManage": mayManage,
            "members": project.members.map { member -> [String: Any] in
                ["user": member.user, "userName": member.userName ?? member.user, "role": member.role.rawValue, "projectID": project.id]
            },
            "keys": keys.map { ["id": $0.id, "name": $0.name, "fingerprint": $0.fingerprintSha256] },
        ]
        return render(PortalPage(title: "Project \(project.name)", template: "project", section: "Projects", values: values), visit: visit)
    }

    // MARK: Hosts

    func registerHosts(on router: Router<BasicRequestContext>) {
        page("/hosts", on: router, operation: "listHosts") { try await hostsPage($0) }
        page("/hosts", on: router, operation: "createHost", write: true) { try await createHost($0) }
        page("/hosts/:id", on: router, operation: "getHost") { visit, path in
            let id = path["id"]
            return try await hostPage(visit, id: id)
        }
        page("/hosts/:id/enroll", on: router, operation: "createHostEnrollmentToken", write: true) { visit, path in
            let id = path["id"]
            let host = try await api.getHost(.init(path: .init(hostId: id))).ok.body.json
            let grant = try await api.createHostEnrollmentToken(.init(path: .init(hostId: id), body: .json(.init()))).created.body.json
            return enrollmentPage(visit, hostID: host.id, name: host.name, enrollment: grant.enrollment, userData: grant.userData)
        }
    }

    private func hostsPage(
        _ visit: Visit, form: [String: String] = [:], error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let project = visit.query("project")
        let cursor = visit.query("cursor")
        let listing = try await api.listHosts(
            .init(query: .init(limit: 50, cursor: cursor.isEmpty ? nil : cursor, project: project.isEmpty ? nil : project))
        ).ok.body.json
        let owned = try await projectChoices()?.filter(\.manages)
        let values: [String: Any] = [
            "caption": project.isEmpty ? "Hosts you can see" : "Hosts of one project",
            "hosts": listing.items.map { host -> [String: Any] in
                [
                    "id": host.id, "name": host.name, "project": host.projectName ?? host.project, "cluster": host.clusterName ?? host.cluster ?? "",
                    "logins": host.logins.joined(separator: " "),
                    "lastSeen": host.agent?.lastReportAt.map(PortalFormat.time) ?? "never",
                ]
            },
            "next": listing.nextCursor.map { "/hosts" + PortalFormat.query([("project", project), ("cursor", $0)]) } ?? "",
            "mayCreate": visit.mayWrite && owned?.isEmpty != true,
            "projectsListed": owned != nil,
            "ownedProjects": (owned ?? []).map { ["id": $0.id, "name": $0.name] },
            "form": form, "formError": error ?? "",
        ]
        var page = PortalPage(title: "Hosts", template: "hosts", section: "Hosts", values: values)
        page.error = error.map { "The host was not created: \($0)" }
        return render(page, status: status, visit: visit)
    }

    private func createHost(_ visit: Visit) async throws -> Response {
        let form = visit.form
        let name = form["name"].trimmingCharacters(in: .whitespaces)
        let logins = form["logins"].split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let address = form.optional("address")
        do {
            let created = try await api.createHost(
                .init(
                    body: .json(
                        .init(
                            name: name, project: try await chosenProject(id: form["project"], name: form["project_name"]) ?? "",
                            logins: logins.isEmpty ? nil : logins, address: address)))
            ).created.body.json
            return enrollmentPage(visit, hostID: created.host.id, name: created.host.name, enrollment: created.enrollment, userData: created.userData)
        } catch {
            let problem = try Self.formRefusal(error)
            return try await hostsPage(
                visit, form: ["name": name, "logins": form["logins"], "address": address ?? "", "projectName": form["project_name"]],
                error: problem.detail ?? "refused",
                status: HTTPResponse.Status(code: problem.status))
        }
    }

    private func enrollmentPage(
        _ visit: Visit, hostID: String, name: String, enrollment: Components.Schemas.Enrollment, userData: String
    ) -> Response {
        let values: [String: Any] = [
            "id": hostID, "name": name, "token": enrollment.token, "expires": PortalFormat.time(enrollment.expiresAt),
            "userData": userData, "userDataURL": PortalFormat.dataURL(userData, type: "text/cloud-config"),
            "fileName": Self.fileName(name) + "-user-data.yaml",
        ]
        return render(PortalPage(title: "Host \(name)", template: "host-created", section: "Hosts", values: values), status: .created, visit: visit)
    }

    private func hostPage(_ visit: Visit, id: String) async throws -> Response {
        let host = try await api.getHost(.init(path: .init(hostId: id))).ok.body.json
        let access = try await api.getHostAccess(.init(path: .init(hostId: id))).ok.body.json
        let agent = host.agent
        let registry = try await api.access.registry().snapshot
        let mayManage = try visit.mayWrite && manages(host.project, in: registry)
        let values: [String: Any] = [
            "id": host.id, "name": host.name, "projectID": host.project, "project": host.projectName ?? host.project,
            "clusterID": host.cluster ?? "", "cluster": host.clusterName ?? host.cluster ?? "", "address": host.address ?? "none",
            "logins": access.logins.map(Self.loginRow),
            "agent": [
                "enrolled": agent?.enrolled == true ? "yes" : "no", "lastSeen": PortalFormat.time(agent?.lastReportAt),
                "version": agent?.agentVersion ?? "unknown",
                "delivery": agent?.delivery.map(Self.deliveryText) ?? "not reported yet",
                "applied": agent?.appliedVersion.map { "access version \($0)" } ?? "nothing applied yet",
                "error": agent?.error ?? "",
            ],
            "hostKeys": (agent?.hostKeys ?? []).compactMap(Self.hostKeyRow),
            "mayManage": mayManage,
        ]
        return render(PortalPage(title: "Host \(host.name)", template: "host", section: "Hosts", values: values), visit: visit)
    }

    /// How an agent's delivery mode reads on the host page.
    static func deliveryText(_ mode: Components.Schemas.DeliveryMode) -> String {
        switch mode {
        case .files: "files (sshd's AuthorizedKeysFile)"
        case .command: "command (sshd's AuthorizedKeysCommand)"
        case .legacy: "legacy (a block in each user's authorized_keys)"
        }
    }

    /// One login's access: the rule in words and the keys it grants.
    static func loginRow(_ login: Components.Schemas.LoginAccessResult) -> [String: Any] {
        let rule: String
        switch login.source.kind {
        case .host: rule = "This host's own key list applies."
        case .cluster: rule = "The key list of cluster \(login.source.clusterName ?? login.source.cluster ?? "") applies."
        case .project: rule = "The project's keys apply: its project keys and its owners' and members' personal keys."
        case .rescue: rule = "The rescue keys apply."
        }
        let keys = login.keys.enumerated().map { index, entry -> [String: Any] in
            [
                "id": entry.keyId, "name": entry.name, "owner": ownerLabel(entry.owner), "fingerprint": entry.fingerprint,
                "expires": entry.expiresAt.map(PortalFormat.time) ?? "", "last": index == login.keys.count - 1,
            ]
        }
        return ["login": login.login, "rule": rule, "keys": keys]
    }

    /// A reported host key as its type and SHA256 fingerprint; nil for a line that is not a key.
    private static func hostKeyRow(_ line: String) -> [String: String]? {
        guard let key = try? AuthorizedKey(line: line) else { return nil }
        return ["type": key.key.type.shortName, "fingerprint": key.key.fingerprint()]
    }

    // MARK: Clusters

    func registerClusters(on router: Router<BasicRequestContext>) {
        page("/clusters", on: router, operation: "listClusters") { visit in
            let cursor = visit.query("cursor")
            let listing = try await api.listClusters(.init(query: .init(limit: 50, cursor: cursor.isEmpty ? nil : cursor))).ok.body.json
            let values: [String: Any] = [
                "clusters": listing.items.map { cluster -> [String: Any] in
                    [
                        "id": cluster.id, "name": cluster.name, "project": cluster.projectName ?? cluster.project,
                        "keys": cluster.keys.map { cluster.keyNames?.additionalProperties[$0] ?? $0 }.joined(separator: ", "),
                    ]
                },
                "next": listing.nextCursor.map { "/clusters" + PortalFormat.query([("cursor", $0)]) } ?? "",
            ]
            return render(PortalPage(title: "Clusters", template: "clusters", section: "Clusters", values: values), visit: visit)
        }
        page("/clusters/:id", on: router, operation: "getCluster") { visit, path in
            let id = path["id"]
            let cluster = try await api.getCluster(.init(path: .init(clusterId: id))).ok.body.json
            let hosts = try await api.listHosts(.init(query: .init(limit: 200, cluster: id))).ok.body.json.items
            var rows = [[String: Any]]()
            for host in hosts {
                let access = try await api.getHostAccess(.init(path: .init(hostId: host.id))).ok.body.json
                rows.append(["id": host.id, "name": host.name, "logins": access.logins.map(Self.loginRow)])
            }
            let values: [String: Any] = [
                "name": cluster.name, "projectID": cluster.project, "project": cluster.projectName ?? cluster.project,
                "keys": cluster.keys.map { ["id": $0, "name": cluster.keyNames?.additionalProperties[$0] ?? $0] },
                "hosts": rows,
            ]
            return render(PortalPage(title: "Cluster \(cluster.name)", template: "cluster", section: "Clusters", values: values), visit: visit)
        }
    }
}
