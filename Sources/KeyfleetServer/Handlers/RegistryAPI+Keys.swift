internal import Foundation
public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore
internal import SSHKeys

extension RegistryAPI {
    public func listSSHKeys(_ input: Operations.ListSSHKeys.Input) async throws -> Operations.ListSSHKeys.Output {
        let (user, _) = try currentUser()
        let query = input.query
        let page = try PageRequest.fromQuery(limit: query.limit, cursor: query.cursor)
        var filter = KeyFilter(label: try LabelSelector.fromQuery(query.label), name: try nameFromQuery(query.name))
        if query.owner != nil, query.project != nil {
            throw APIProblem.badRequest("the query parameters owner and project exclude each other", field: "owner")
        }
        if let owner = query.owner {
            if owner == "me" {
                filter.owner = .user(user.id)
            } else {
                guard let id = UserID(rawValue: owner) else {
                    throw APIProblem.badRequest("the query parameter owner is not a user identifier", field: "owner")
                }
                filter.owner = .user(id)
            }
        }
        if let project = query.project {
            guard let id = ProjectID(rawValue: project) else {
                throw APIProblem.badRequest("the query parameter project is not a project identifier", field: "project")
            }
            filter.owner = .project(id)
        }
        if let fingerprint = query.fingerprint {
            guard Self.isSHA256Fingerprint(fingerprint) else {
                throw APIProblem.badRequest("the query parameter fingerprint is not SHA256: and 43 base64 characters", field: "fingerprint")
            }
            filter.fingerprint = fingerprint
        }
        if let type = query._type {
            guard KeyType.all.contains(where: { $0.name == type }) else {
                throw APIProblem.badRequest("the query parameter type is not an SSH key type (ssh-ed25519, ssh-rsa, ...)", field: "type")
            }
            filter.keyType = type
        }
        if user.role != .admin { filter.readableBy = user.id }
        let keys = try await store.keys(filter, page: page)
        let items = try await named(keys.items.map(Components.Schemas.SSHKey.init))
        return .ok(.init(body: .json(.init(items: items, nextCursor: keys.nextCursor))))
    }

    public func createSSHKey(_ input: Operations.CreateSSHKey.Input) async throws -> Operations.CreateSSHKey.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let owner = try await newKeyOwner(project: body.project)
        let imported = try Self.importKey(body.publicKey)
        let labels = body.labels?.additionalProperties ?? [:]
        try LabelPolicy.validate(labels)
        let expiresAt = try body.expiresAt.map { try Timestamps.expiry($0, field: "expires_at", now: clock()) }
        let record = try await store.createKey(
            NewKey(name: body.name, owner: owner, imported: imported, labels: labels, expiresAt: expiresAt), by: principal)
        logger.info("key imported", metadata: ["key.id": "\(record.id)", "key.fingerprint": "\(record.sha256Fingerprint)"])
        let key = Components.Schemas.SSHKey(record)
        return .created(
            .init(
                headers: .init(location: "/v1/ssh-keys/\(record.id.rawValue)", eTag: EntityTag.of(key)),
                body: .json(
                    .init(
                        key: try await named(key), format: .init(imported.format),
                        warnings: imported.warnings.map(Components.Schemas.ImportWarning.init)))))
    }

    public func generateSSHKey(_ input: Operations.GenerateSSHKey.Input) async throws -> Operations.GenerateSSHKey.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        // Everything that can be refused is checked before the (possibly slow) generation.
        try NamePolicy.validate(body.name)
        let labels = body.labels?.additionalProperties ?? [:]
        try LabelPolicy.validate(labels)
        let expiresAt = try body.expiresAt.map { try Timestamps.expiry($0, field: "expires_at", now: clock()) }
        let comment = body.comment ?? ""
        try SSHKeyRecord.validate(comment: comment)
        if let passphrase = body.passphrase {
            guard !passphrase.isEmpty, CommentPolicy.isAcceptable(passphrase.utf8) else {
                throw PolicyError(.forbiddenCharacter, "the passphrase is empty or holds a control character", field: "passphrase")
            }
        }
        let type = try Self.generatedType(body._type ?? .ed25519, bits: body.bits)
        let owner = try await newKeyOwner(project: body.project)

        // Making an RSA key (up to 4096 bits: about a second) and running bcrypt_pbkdf for the passphrase are
        // CPU work; they run on the generator's own low-priority threads, one per user at a time, so neither
        // the store's threads nor the request handlers wait for them.
        let passphrase = body.passphrase.map { Array($0.utf8) }
        let generated: Result<(PrivateKey, String), KeyError> = try await KeyGenerator.shared.run(for: try currentUser().user.id) {
            do throws(KeyError) {
                let key = try PrivateKey.generate(type.type, bits: type.bits, comment: comment)
                return .success((key, try key.serialized(as: PrivateKeyEncoding(format: .openSSH, passphrase: passphrase))))
            } catch {
                return .failure(error)
            }
        }
        let privateKey: PrivateKey
        let privateText: String
        switch generated {
        case .success(let pair): (privateKey, privateText) = pair
        case .failure(let error):
            throw PolicyError(.invalidKey, "the key could not be generated: \(error.reason)", field: "type", underlying: error)
        }
        let record = try await store.createKey(
            NewKey(name: body.name, owner: owner, publicKey: privateKey.publicKey, comment: comment, labels: labels, expiresAt: expiresAt),
            by: principal)
        logger.info("key generated", metadata: ["key.id": "\(record.id)", "key.fingerprint": "\(record.sha256Fingerprint)"])
        let key = Components.Schemas.SSHKey(record)
        return .created(
            .init(
                headers: .init(location: "/v1/ssh-keys/\(record.id.rawValue)", eTag: EntityTag.of(key), cacheControl: .noStore),
                body: .json(.init(key: try await named(key), privateKey: privateText))))
    }

    public func bulkImportSSHKeys(_ input: Operations.BulkImportSSHKeys.Input) async throws -> Operations.BulkImportSSHKeys.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        guard body.keys.count <= 1000 else {
            throw APIProblem.requestTooLarge("the bulk import has \(body.keys.count) keys; at most 1000 are taken at once")
        }
        guard !body.keys.isEmpty else { throw APIProblem.badRequest("the bulk import has no keys", field: "keys") }
        let owner = try await newKeyOwner(project: body.project)
        let skipExisting = body.onExisting == .skip
        let now = clock()

        var problems = [Components.Schemas.ItemProblem]()
        var results = [BulkItem]()
        var namesSeen = [String: Int]()
        var fingerprintsSeen = [String: Int]()
        for (index, item) in body.keys.enumerated() {
            do {
                let imported = try Self.importKey(item.publicKey)
                try NamePolicy.validate(item.name)
                let labels = item.labels?.additionalProperties ?? [:]
                try LabelPolicy.validate(labels)
                let expiresAt = try item.expiresAt.map { try Timestamps.expiry($0, field: "expires_at", now: now) }
                let fingerprint = imported.publicKey.fingerprint(.sha256)
                if let stored = try await store.keys(KeyFilter(owner: owner, fingerprint: fingerprint), page: .first).items.first {
                    if skipExisting {
                        results.append(.existing(index, stored, imported.warnings))
                        continue
                    }
                    throw StoreError(
                        .conflict, "this key (\(fingerprint)) already exists for this owner: \"\(stored.name)\" (\(stored.id))",
                        existingID: stored.id.rawValue, existingName: stored.name)
                }
                if let stored = try await store.keys(KeyFilter(owner: owner, name: item.name), page: .first).items.first {
                    throw StoreError(
                        .conflict, "a key named \"\(stored.name)\" already exists for this owner (\(stored.id))", existingID: stored.id.rawValue,
                        existingName: stored.name)
                }
                if let earlier = namesSeen[item.name] {
                    throw StoreError(.conflict, "item \(earlier) of this request has the same name", existingName: item.name)
                }
                if let earlier = fingerprintsSeen[fingerprint] {
                    throw StoreError(.conflict, "item \(earlier) of this request has the same key (\(fingerprint))")
                }
                namesSeen[item.name] = index
                fingerprintsSeen[fingerprint] = index
                results.append(
                    .new(index, NewKey(name: item.name, owner: owner, imported: imported, labels: labels, expiresAt: expiresAt), imported.warnings))
            } catch {
                problems.append(Self.itemProblem(index: index, error))
            }
        }
        guard problems.isEmpty else {
            throw BulkImportRefusal(problems: problems, total: body.keys.count)
        }

        let newKeys = results.compactMap { result -> NewKey? in if case .new(_, let key, _) = result { key } else { nil } }
        var created = try await store.createKeys(newKeys, by: principal)[...]
        var items = [Components.Schemas.BulkImportResult]()
        for result in results {
            switch result {
            case .existing(let index, let record, let warnings):
                items.append(
                    .init(index: index, status: .existing, key: .init(record), warnings: warnings.map(Components.Schemas.ImportWarning.init)))
            case .new(let index, _, let warnings):
                guard let record = created.popFirst() else { throw APIProblem.internal }
                items.append(.init(index: index, status: .created, key: .init(record), warnings: warnings.map(Components.Schemas.ImportWarning.init)))
            }
        }
        logger.info("keys imported in bulk", metadata: ["keys.created": "\(newKeys.count)", "keys.existing": "\(results.count - newKeys.count)"])
        return .created(.init(body: .json(.init(items: items))))
    }

    public func getSSHKey(_ input: Operations.GetSSHKey.Input) async throws -> Operations.GetSSHKey.Output {
        // From the registry in memory when it is loaded and current (no store query), else from the store.
        if let registry = try await access.loadedRegistry() {
            let id: KeyID = try identifier(input.path.keyId, "key")
            guard let found = registry.snapshot.keys[id], try await mayRead(found, in: registry.snapshot) else {
                throw APIProblem.notFound("key", id.rawValue)
            }
            let key = Components.Schemas.SSHKey(found)
            let tag = EntityTag.of(key)
            if EntityTag.ifNoneMatch(input.headers.ifNoneMatch, matches: tag) { return .notModified(.init(headers: .init(eTag: tag))) }
            return .ok(.init(headers: .init(eTag: tag), body: .json(named(key, from: registry.snapshot))))
        }
        let key = Components.Schemas.SSHKey(try await readableKey(input.path.keyId))
        let tag = EntityTag.of(key)
        if EntityTag.ifNoneMatch(input.headers.ifNoneMatch, matches: tag) {
            return .notModified(.init(headers: .init(eTag: tag)))
        }
        return .ok(.init(headers: .init(eTag: tag), body: .json(try await named(key))))
    }

    public func updateSSHKey(_ input: Operations.UpdateSSHKey.Input) async throws -> Operations.UpdateSSHKey.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let current = try await changeableKey(input.path.keyId)
        try EntityTag.check(ifMatch: input.headers.ifMatch, current: EntityTag.of(Components.Schemas.SSHKey(current)))
        if body.expiresAt != nil, body.clearExpiry == true {
            throw PolicyError(.invalidExpiry, "expires_at and clear_expiry exclude each other", field: "expires_at")
        }
        let newExpiry = try body.expiresAt.map { try Timestamps.seconds($0, field: "expires_at") }
        let clearExpiry = body.clearExpiry == true
        let ifMatch = input.headers.ifMatch
        let record = try await store.updateKey(current.id, by: principal) { key, now in
            // Checked again inside the transaction, so a change between the read above and this write is caught.
            try EntityTag.check(ifMatch: ifMatch, current: EntityTag.of(Components.Schemas.SSHKey(key)))
            if let name = body.name { try key.rename(name) }
            if let comment = body.comment { try key.setComment(comment) }
            if let labels = body.labels { try key.setLabels(labels.additionalProperties) }
            if let newExpiry { try key.setExpiry(newExpiry, now: now) }
            if clearExpiry { try key.setExpiry(nil, now: now) }
        }
        let key = Components.Schemas.SSHKey(record)
        return .ok(.init(headers: .init(eTag: EntityTag.of(key)), body: .json(try await named(key))))
    }

    public func deleteSSHKey(_ input: Operations.DeleteSSHKey.Input) async throws -> Operations.DeleteSSHKey.Output {
        let current = try await changeableKey(input.path.keyId)
        try EntityTag.check(ifMatch: input.headers.ifMatch, current: EntityTag.of(Components.Schemas.SSHKey(current)))
        try await store.deleteKey(current.id, by: principal)
        logger.info("key deleted", metadata: ["key.id": "\(current.id)"])
        return .noContent(.init())
    }

    // MARK: Helpers

    /// The owner of a new key: the caller, or a project the caller manages. An unknown project, or one the
    /// caller may not see, is 422 `invalid-reference`; a project they only read is 403.
    func newKeyOwner(project: String?) async throws -> KeyOwner {
        let user = try currentUser().user
        guard let project else { return .user(user.id) }
        guard let id = ProjectID(rawValue: project), let found = try await store.project(id), let role = try role(in: found) else {
            throw StoreError(.invalidReference, "project: no project has the identifier \(project.prefix(64))")
        }
        guard role == .owner else { throw APIProblem.forbidden("only the project's owners may add project keys") }
        return .project(id)
    }

    /// The key, if the caller may read it; 404 otherwise.
    func readableKey(_ text: String) async throws -> SSHKeyRecord {
        let id: KeyID = try identifier(text, "key")
        guard let record = try await store.key(id), try await mayRead(record) else { throw APIProblem.notFound("key", id.rawValue) }
        return record
    }

    /// The key, if the caller may change it; 404 when they may not read it, 403 when they may only read it.
    func changeableKey(_ text: String) async throws -> SSHKeyRecord {
        let record = try await readableKey(text)
        guard try await mayChange(record) else { throw APIProblem.forbidden("only the key's owner or the project's owners may change it") }
        return record
    }

    /// One submitted key through the import policy; refusals name the request field `public_key`.
    static func importKey(_ text: String) throws -> ImportedKey {
        do {
            return try KeyImport.parse(text: text)
        } catch {
            var error = error
            if error.field == "key" || error.field == nil { error.field = "public_key" }
            throw error
        }
    }

    /// The largest RSA key the server makes: 8192 bits take tens of seconds of a core.
    static let maximumGeneratedRSABits = 4096

    /// The type and size to generate, checked as the API description says.
    static func generatedType(
        _ type: Components.Schemas.GenerateSSHKeyRequest._TypePayload, bits: Int?
    ) throws -> (type: KeyType, bits: Int?) {
        switch type {
        case .ed25519:
            return (.ed25519, nil)
        case .ecdsa:
            let size = bits ?? 256
            guard let curve = ECDSACurve(bits: size) else {
                throw PolicyError(.invalidKey, "ECDSA keys have 256, 384 or 521 bits, not \(size)", field: "bits")
            }
            return (.ecdsa(curve), nil)
        case .rsa:
            let size = bits ?? 3072
            guard size >= PrivateKey.rsaBitRange.lowerBound else {
                throw PolicyError(.weakRSAKey, "an RSA key of \(size) bits is too weak; at least 2048 are required", field: "bits")
            }
            guard size <= maximumGeneratedRSABits else {
                throw PolicyError(
                    .invalidKey,
                    "the server generates RSA keys of up to \(maximumGeneratedRSABits) bits, not \(size); make larger ones with keyfleet keygen",
                    field: "bits")
            }
            guard PrivateKey.rsaBitRange.contains(size), size % 8 == 0 else {
                throw PolicyError(.invalidKey, "RSA keys have 2048 to \(maximumGeneratedRSABits) bits in multiples of 8, not \(size)", field: "bits")
            }
            return (.rsa, size)
        }
    }

    static func isSHA256Fingerprint(_ text: String) -> Bool {
        guard text.hasPrefix("SHA256:") else { return false }
        let rest = text.utf8.dropFirst(7)
        return rest.count == 43
            && rest.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "/")
            }
    }

    /// The problem of one refused bulk item, with the status and code it would have on its own.
    static func itemProblem(index: Int, _ error: any Error) -> Components.Schemas.ItemProblem {
        let problem = ProblemMapping.problem(for: error)
        return Components.Schemas.ItemProblem(
            index: index, status: problem.status, code: problem.code, detail: problem.detail ?? problem.title, field: problem.field,
            existingId: problem.existingId, existingName: problem.existingName)
    }
}

/// One item of a bulk import that passed every check.
private enum BulkItem {
    case new(Int, NewKey, [ImportWarning])
    case existing(Int, SSHKeyRecord, [ImportWarning])
}

/// A bulk import of which some items were refused: 422 `bulk-import-refused`, listing each refused item.
struct BulkImportRefusal: Error, CustomStringConvertible {
    /// Each refused item, by index.
    var problems: [Components.Schemas.ItemProblem]
    /// How many items the request had.
    var total: Int

    var description: String { "\(problems.count) of \(total) keys were refused; nothing was imported" }
}
