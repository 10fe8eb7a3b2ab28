public import KeyfleetAPI
internal import KeyfleetCore
internal import KeyfleetStore

extension RegistryAPI {
    /// Trades a one-time enrollment token for the host's credential; which of unknown, used or expired is not said.
    public func enrollAgent(_ input: Operations.EnrollAgent.Input) async throws -> Operations.EnrollAgent.Output {
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        let token = body.token
        guard SecretText.isWellFormed(token) else {
            throw PolicyError(.invalidEnrollment, "the enrollment token is not 16 to 512 URL-safe characters", field: "token")
        }
        let credential = Secrets.make(.hostCredential)
        guard let host = try await store.enroll(tokenHash: Secrets.hash(token), credentialHash: Secrets.hash(credential)) else {
            throw APIProblem.unauthorized("the enrollment token is not valid")
        }
        logger.info("host enrolled", metadata: ["host.id": "\(host.rawValue)"])
        return .ok(.init(headers: .init(cacheControl: .noStore), body: .json(.init(host: host.rawValue, credential: credential))))
    }

    /// The host's keys per login, at once when the agent's version is not the host's, else after a change or 304.
    public func syncAgent(_ input: Operations.SyncAgent.Input) async throws -> Operations.SyncAgent.Output {
        guard case .host(let host) = Caller.current else { throw APIProblem.unauthorized() }
        guard input.query.version >= 0 else { throw APIProblem.badRequest("version must be 0 or more", field: "version") }
        let wait = input.query.wait ?? 30
        guard (0...60).contains(wait) else { throw APIProblem.badRequest("wait must be between 0 and 60 seconds", field: "wait") }
        switch try await access.sync(host: host, known: UInt64(input.query.version), wait: .seconds(Int64(wait)), clock: clock) {
        case .changed(let view):
            return .ok(.init(headers: .init(cacheControl: .noStore), body: .json(view.syncResponse)))
        case .unchanged:
            return .notModified(.init())
        case .gone:
            // The credential was valid when the request began: the host was deleted while it waited.
            throw APIProblem.hostDeleted
        }
    }

    /// Records the host's SSH host keys (parsed, canonical) and its agent's state.
    public func reportAgent(_ input: Operations.ReportAgent.Input) async throws -> Operations.ReportAgent.Output {
        guard case .host(let host) = Caller.current else { throw APIProblem.unauthorized() }
        guard case .json(let body) = input.body else { throw APIProblem.unsupportedMediaType }
        guard body.agentVersion.utf8.count <= 64, !body.agentVersion.isEmpty,
            body.agentVersion.utf8.allSatisfy({ ($0 != UInt8(ascii: "~") && SecretText.isURLSafe($0)) || $0 == UInt8(ascii: "+") })
        else { throw APIProblem.badRequest("agent_version must be 1 to 64 of 0-9 A-Z a-z . + _ -", field: "agent_version") }
        let submitted = body.hostKeys ?? []
        guard submitted.count <= 16 else { throw APIProblem.requestTooLarge("at most 16 host keys are reported") }
        var keys = [String]()
        for text in submitted {
            let imported = try KeyImport.parse(text: text)
            if case .privateKey = imported.format {
                throw PolicyError(.invalidKey, "a host key must be a public key; a private key was sent", field: "host_keys")
            }
            let line = imported.publicKey.openSSHLine
            if !keys.contains(line) { keys.append(line) }
        }
        if let applied = body.appliedVersion, applied < 0 {
            throw APIProblem.badRequest("applied_version must be 0 or more", field: "applied_version")
        }
        let applied = body.appliedVersion.map { UInt64(clamping: $0) }
        let error = body.error.map { text in
            String(
                String.UnicodeScalarView(
                    text.unicodeScalars.prefix(1024).map {
                        $0.properties.generalCategory == .control || $0.value == 0x2028 || $0.value == 0x2029 ? " " : $0
                    }))
        }
        let strays = body.revokedKeysOutsideBlock ?? []
        guard strays.count <= 256 else { throw APIProblem.requestTooLarge("at most 256 revoked keys outside the block are reported") }
        var found = [RevokedKeyLine]()
        for stray in strays {
            guard LoginName.isValid(stray.login) else {
                throw PolicyError(.invalidLogin, "revoked_keys_outside_block names an invalid login", field: "revoked_keys_outside_block")
            }
            guard stray.line >= 1, Self.isSHA256Fingerprint(stray.fingerprint) else {
                throw APIProblem.badRequest(
                    "revoked_keys_outside_block needs a SHA256 fingerprint and a line of 1 or more", field: "revoked_keys_outside_block")
            }
            let line = RevokedKeyLine(login: stray.login, fingerprint: stray.fingerprint, line: Int(stray.line))
            if !found.contains(line) { found.append(line) }
        }
        try await store.recordAgentReport(
            AgentReport(
                agentVersion: body.agentVersion, appliedVersion: applied, hostKeys: keys, error: error, delivery: body.delivery?.rawValue,
                revokedKeysOutsideBlock: found),
            host: host)
        return .noContent(.init())
    }
}
