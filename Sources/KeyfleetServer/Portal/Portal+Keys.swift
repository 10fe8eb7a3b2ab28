internal import Foundation
internal import Hummingbird
internal import KeyfleetAPI
internal import KeyfleetCore
internal import SSHKeys

/// SSH keys: the list with its filters, import, generation, one key, and deletion.
extension Portal {
    func registerKeys(on router: Router<BasicRequestContext>) {
        page("/keys", on: router, operation: "listSSHKeys") { try await keysPage($0) }
        page("/keys/new", on: router, operation: "createSSHKey") { try await newKeyPage($0, importForm: [:], generateForm: [:], status: .ok) }
        page("/keys/import", on: router, operation: "createSSHKey", write: true) { try await importKey($0) }
        page("/keys/generate", on: router, operation: "generateSSHKey", write: true) { try await generateKey($0) }
        page("/keys/:id", on: router, operation: "getSSHKey") { visit, path in
            let id = path["id"]
            return try await keyPage(visit, id: id)
        }
        page("/keys/:id/delete", on: router, operation: "deleteSSHKey", write: true) { visit, path in
            let id = path["id"]
            let key = try await api.getSSHKey(.init(path: .init(keyId: id))).ok.body.json
            _ = try await api.deleteSSHKey(.init(path: .init(keyId: id))).noContent
            sessions.leave("Key \(key.name) was deleted.", for: visit.sessionID)
            return Self.redirect("/keys")
        }
    }

    /// The page size of the key list.
    static let keysPerPage = 50

    private func keysPage(_ visit: Visit) async throws -> Response {
        let search = visit.query("q").trimmingCharacters(in: .whitespaces)
        let owner = visit.query("owner").trimmingCharacters(in: .whitespaces)
        let projectName = visit.query("project_name").trimmingCharacters(in: .whitespaces)
        let type = visit.query("type")
        let cursor = visit.query("cursor")
        let isFingerprint = search.hasPrefix("SHA256:")
        // The owner by name as people type it ("me", or a user's name); the API takes an identifier.
        var ownerID: String?
        var error: String?
        var project = visit.query("project")
        do {
            project = try await chosenProject(id: project, name: projectName) ?? ""
        } catch let refusal as APIProblem {
            error = refusal.reason
        }
        if owner == "me" {
            ownerID = "me"
        } else if !owner.isEmpty {
            ownerID = try await api.listUsers(.init(query: .init(limit: 1, name: owner))).ok.body.json.items.first { $0.name == owner }?.id
            if ownerID == nil { error = "No user is named \(owner)." }
        }
        var items = [Components.Schemas.SSHKey]()
        var nextCursor: String?
        if error == nil {
            let listing = try await api.listSSHKeys(
                .init(
                    query: .init(
                        limit: Int32(Self.keysPerPage), cursor: cursor.isEmpty ? nil : cursor,
                        name: search.isEmpty || isFingerprint ? nil : search, owner: ownerID, project: project.isEmpty ? nil : project,
                        fingerprint: isFingerprint ? search : nil, _type: type.isEmpty ? nil : type))
            ).ok.body.json
            items = listing.items
            nextCursor = listing.nextCursor
        }
        let projects = try await projectChoices()
        let filters = [
            ("q", search), ("owner", owner), ("project", projectName.isEmpty ? project : ""), ("project_name", projectName), ("type", type),
        ]
        let values: [String: Any] = [
            "q": search, "owner": owner,
            "projectsListed": projects != nil, "projectName": projectName,
            "projects": (projects ?? []).map { ["id": $0.id, "name": $0.name, "selected": $0.id == project] },
            "types": Self.keyTypes.map { ["value": $0.value, "label": $0.label, "selected": $0.value == type] },
            "keys": items.map(Self.keyRow),
            "caption": cursor.isEmpty ? "Keys you can see" : "Keys you can see (a later page)",
            "first": cursor.isEmpty ? "" : "/keys" + PortalFormat.query(filters),
            "next": nextCursor.map { "/keys" + PortalFormat.query(filters + [("cursor", $0)]) } ?? "",
        ]
        var page = PortalPage(title: "SSH keys", template: "keys", section: "Keys", values: values)
        page.error = error
        return render(page, status: error == nil ? .ok : .badRequest, visit: visit)
    }

    /// The key types the list filters on: the names keys carry, and how the page says them.
    static let keyTypes: [(value: String, label: String)] = KeyType.all.map { type in
        switch type {
        case .ecdsa(let curve): (type.name, "ECDSA P-\(curve.bits)")
        default: (type.name, type.shortName)
        }
    }

    static func typeLabel(_ key: Components.Schemas.SSHKey) -> String {
        let name = keyTypes.first { $0.value == key._type }?.label ?? key._type
        return key._type == "ssh-rsa" || key._type == "ssh-dss" ? "\(name) \(key.bits)" : name
    }

    static func ownerLabel(_ owner: Components.Schemas.KeyOwner) -> String {
        let name = owner.name ?? owner.id
        return owner.kind == .project ? "project \(name)" : name
    }

    private static func keyRow(_ key: Components.Schemas.SSHKey) -> [String: Any] {
        [
            "id": key.id, "name": key.name, "type": typeLabel(key), "fingerprint": key.fingerprintSha256, "comment": key.comment,
            "owner": ownerLabel(key.owner), "created": PortalFormat.time(key.createdAt), "expires": PortalFormat.time(key.expiresAt),
        ]
    }

    /// A project a page offers in a list.
    struct ProjectChoice {
        let id: String
        let name: String
        /// Whether the user manages it (owner, or administrator).
        let manages: Bool
    }

    /// The most projects a page lists for choosing; beyond, it asks for a project's name.
    static let projectListLimit = 200

    /// The projects the user can read, by name, when there are at most ``projectListLimit``; nil when there
    /// are more (the page then takes a project's name, ``chosenProject(id:name:field:)``).
    func projectChoices() async throws -> [ProjectChoice]? {
        let page = try await api.listProjects(.init(query: .init(limit: Int32(Self.projectListLimit)))).ok.body.json
        guard page.nextCursor == nil else { return nil }
        let registry = try await api.access.registry().snapshot
        return try page.items.map { ProjectChoice(id: $0.id, name: $0.name, manages: try manages($0.id, in: registry)) }
            .sorted { $0.name < $1.name }
    }

    /// Whether the session's user manages project `id` (its members, hosts, clusters and project keys), by the
    /// API's own rule (``RegistryAPI/role(in:)``) over the registry in memory; false for a project it lacks.
    func manages(_ id: String, in registry: RegistrySnapshot) throws -> Bool {
        guard let projectID = ProjectID(rawValue: id), let project = registry.projects[projectID] else { return false }
        return try api.role(in: project) == .owner
    }

    /// The project a form or filter chose: `id` from a list, or the project the user can read named `name`
    /// (typed where the page did not list them); nil when neither is given.
    func chosenProject(id: String, name: String, field: String = "project") async throws -> String? {
        if !id.isEmpty { return id }
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        let refusal = APIProblem.invalidReference("you can see no project named \(name.prefix(64))", field: field)
        guard (try? NamePolicy.validate(name)) != nil else { throw refusal }
        let found = try await api.listProjects(.init(query: .init(limit: 1, name: name))).ok.body.json.items.first { $0.name == name }
        guard let found else { throw refusal }
        return found.id
    }

    // MARK: Adding keys

    private func newKeyPage(
        _ visit: Visit, importForm: [String: Any], generateForm: [String: Any], status: HTTPResponse.Status, error: String? = nil
    ) async throws -> Response {
        let projects = try await projectChoices()?.filter(\.manages)
        let chosen = importForm["project"] as? String ?? ""
        var page = PortalPage(
            title: "Add a key", template: "key-new", section: "Keys",
            values: [
                "import": importForm, "generate": generateForm,
                "projectsListed": projects != nil,
                "projects": (projects ?? []).map { ["id": $0.id, "name": $0.name, "importSelected": $0.id == chosen] },
            ])
        page.error = error
        return render(page, status: status, visit: visit)
    }

    private func importKey(_ visit: Visit) async throws -> Response {
        let form = visit.form
        let uploaded = form["key_file"]
        let text = uploaded.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? form["public_key"] : uploaded
        let name = form["name"].trimmingCharacters(in: .whitespaces)
        // What the form shows again after a refusal; never a private key.
        var again: [String: Any] = ["name": name, "project": form["project"], "projectName": form["project_name"], "expires": form["expires"]]
        if !PrivateKeyDocument.looksLikePrivateKey(text) { again["publicKey"] = text }
        do {
            let expires = try PortalFormat.day(form.optional("expires"), field: "expires_at")
            let project = try await chosenProject(id: form["project"], name: form["project_name"])
            let created = try await api.createSSHKey(
                .init(body: .json(.init(name: name, publicKey: text, project: project, expiresAt: expires)))
            ).created.body.json
            var notice = "Key \(created.key.name) was imported (\(created.key.fingerprintSha256))."
            if form["public_half_only"] == "1" {
                notice += " You chose a private key: this browser sent only its public half, and the private key never left it."
            }
            for warning in created.warnings { notice += " " + warning.message.prefix(1).uppercased() + warning.message.dropFirst() + "." }
            sessions.leave(notice, for: visit.sessionID)
            return Self.redirect("/keys/\(created.key.id)")
        } catch {
            let problem = try Self.formRefusal(error)
            var detail = problem.detail ?? "the key was refused"
            if let name = problem.existingName { detail += " (the existing key is \(name))" }
            switch problem.field {
            case "name": again["nameError"] = detail
            case "project": again["projectError"] = detail
            case "expires_at": again["expiresError"] = detail
            default: again["keyError"] = detail
            }
            return try await newKeyPage(
                visit, importForm: again, generateForm: [:], status: HTTPResponse.Status(code: problem.status),
                error: "The key was not imported: \(detail)")
        }
    }

    private func generateKey(_ visit: Visit) async throws -> Response {
        let form = visit.form
        let name = form["name"].trimmingCharacters(in: .whitespaces)
        let again: [String: Any] = ["name": name, "comment": form["comment"]]
        do {
            let (type, bits) = try Self.generatedType(form["type"])
            let passphrase = form.optional("passphrase")
            let expires = try PortalFormat.day(form.optional("expires"), field: "expires_at")
            let generated = try await api.generateSSHKey(
                .init(
                    body: .json(
                        .init(
                            name: name, _type: type, bits: bits, comment: form.optional("comment"), passphrase: passphrase,
                            project: try await chosenProject(id: form["project"], name: form["project_name"]), expiresAt: expires)))
            ).created.body.json
            let key = generated.key
            var fileText = generated.privateKey
            var fileName = Self.fileName(key.name)
            if form["format"] == "ppk" {
                // Reading back a passphrase-protected key (bcrypt) and protecting the .ppk (Argon2) are slow:
                // on the generation threads, as the generation itself.
                let openSSH = generated.privateKey
                let secret = passphrase.map { Array($0.utf8) }
                let converted: Result<String, KeyError> = try await KeyGenerator.shared.run(for: visit.user.id) {
                    do throws(KeyError) {
                        var generator = SystemRandomNumberGenerator()
                        let privateKey = try PrivateKeyDocument(text: openSSH).decrypt(passphrase: secret)
                        return .success(try privateKey.ppkText(passphrase: secret, using: &generator))
                    } catch {
                        return .failure(error)
                    }
                }
                fileText = try converted.get()
                fileName += ".ppk"
            }
            let values: [String: Any] = [
                "id": key.id, "name": key.name, "type": Self.typeLabel(key), "fingerprint": key.fingerprintSha256,
                "publicKey": key.publicKey, "fileName": fileName, "downloadURL": PortalFormat.dataURL(fileText),
            ]
            return render(
                PortalPage(title: "Key generated", template: "key-generated", section: "Keys", values: values), status: .created, visit: visit)
        } catch {
            let problem = try Self.formRefusal(error)
            var again = again
            let detail = problem.detail ?? "the key was not generated"
            if problem.field == "name" { again["nameError"] = detail } else { again["error"] = detail }
            return try await newKeyPage(
                visit, importForm: [:], generateForm: again, status: HTTPResponse.Status(code: problem.status),
                error: "No key was generated: \(detail)")
        }
    }

    /// The API's type and size for the form's `ed25519`, `ecdsa-384`, `rsa-4096`, ...
    private static func generatedType(_ choice: String) throws -> (Components.Schemas.GenerateSSHKeyRequest._TypePayload, Int?) {
        let parts = choice.split(separator: "-", maxSplits: 1)
        guard let first = parts.first, let type = Components.Schemas.GenerateSSHKeyRequest._TypePayload(rawValue: String(first)) else {
            throw APIProblem.badRequest("the key type \(choice.prefix(32)) is not one the server generates", field: "type")
        }
        return (type, parts.count == 2 ? Int(parts[1]) : nil)
    }

    /// A download name made of the key's name: letters, digits, `.`, `-` and `_` only.
    static func fileName(_ name: String) -> String {
        let safe = String(
            name.unicodeScalars.map { scalar -> Character in
                CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "._-".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
            })
        return safe.isEmpty || safe.hasPrefix(".") ? "key" + safe : safe
    }

    // MARK: One key

    private func keyPage(_ visit: Visit, id: String) async throws -> Response {
        let key = try await api.getSSHKey(.init(path: .init(keyId: id))).ok.body.json
        let reaches = try await hostsReached(byKey: id, visit: visit)
        let record = try await api.readableKey(id)
        let mayDelete = try await api.mayChange(record) && visit.mayWrite
        let values: [String: Any] = [
            "id": key.id, "name": key.name, "type": Self.typeLabel(key), "fingerprint": key.fingerprintSha256, "md5": key.fingerprintMd5,
            "comment": key.comment, "owner": Self.ownerLabel(key.owner), "created": PortalFormat.time(key.createdAt),
            "createdBy": key.createdByName ?? key.createdBy, "expires": PortalFormat.time(key.expiresAt), "publicKey": key.publicKey,
            "reaches": reaches, "reachesAny": !reaches.isEmpty,
            "mayDelete": mayDelete,
        ]
        return render(PortalPage(title: "Key \(key.name)", template: "key", section: "Keys", values: values), visit: visit)
    }

    /// The hosts and logins where key `id` logs in now, as effective access computes it; only hosts of
    /// projects the user can read.
    private func hostsReached(byKey id: String, visit: Visit) async throws -> [[String: String]] {
        guard let keyID = KeyID(rawValue: id) else { return [] }
        let registry = try await api.access.registry().snapshot
        guard let record = registry.keys[keyID] else { return [] }
        var projects = Set<ProjectID>()
        switch record.owner {
        case .project(let project): projects.insert(project)
        case .user(let owner):
            for project in registry.projects.values where project.members[owner] != nil { projects.insert(project.id) }
        }
        let now = api.clock()
        var reached = [[String: String]]()
        for projectID in projects {
            guard let project = registry.projects[projectID], try api.role(in: project) != nil else { continue }
            for hostID in registry.hosts(in: projectID) {
                // The view agents are served, computed once per registry version and kept.
                guard let (view, _) = try await api.access.host(hostID, now: now) else { continue }
                for login in view.logins {
                    guard let entry = login.entries.first(where: { $0.grantedBy.contains(keyID) }) else { continue }
                    // Another record of the same key material keeps the line when this one goes.
                    let keeps = entry.grantedBy.count > 1 ? "true" : ""
                    reached.append(["hostID": view.host.id.rawValue, "host": view.host.name, "login": login.login.rawValue, "keeps": keeps])
                }
            }
        }
        return reached.sorted { ($0["host"] ?? "", $0["login"] ?? "") < ($1["host"] ?? "", $1["login"] ?? "") }
    }
}
