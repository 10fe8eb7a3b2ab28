internal import Foundation

/// What the agent keeps in its state directory (default `/var/lib/keyfleet`, mode 0700, files 0600):
/// `server.json` (where the server is, how it is pinned, the host's identifier), `credential` (the host's
/// bearer credential) and `access.json` (the last complete answer, served when the server is down).
public struct AgentState: Sendable {
    /// The default state directory.
    public static let defaultDirectory = "/var/lib/keyfleet"

    /// Where the server is and how it is trusted.
    public struct Server: Codable, Hashable, Sendable {
        /// The server's base URL.
        public var url: String
        /// The host's identifier in the registry.
        public var host: String
        /// `sha256:<hex>` of the pinned certificate, when pinned.
        public var caCertHash: String?
        /// The pinned certificate (PEM), when pinned.
        public var caCertificatePEM: String?
        /// Whether the pinned certificate is the server's own (self-signed) rather than a CA's.
        public var pinnedLeaf: Bool?

        enum CodingKeys: String, CodingKey {
            case url, host
            case caCertHash = "ca_cert_hash"
            case caCertificatePEM = "ca_certificate_pem"
            case pinnedLeaf = "pinned_leaf"
        }
    }

    let directory: String

    /// The state in `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    private func open(create: Bool) throws(AgentError) -> SafeDirectory {
        do {
            let opened = try SafeDirectory(directory, create: create, mode: 0o700)
            if create { try opened.setMode(0o700) }
            return opened
        } catch {
            throw AgentError.local("the state directory: \(error)")
        }
    }

    /// Saves the enrollment: server, then credential.
    func saveEnrollment(server: Server, credential: String) throws(AgentError) {
        let state = try open(create: true)
        do {
            try state.write("server.json", Array(try Self.encoder.encode(server)), mode: 0o600)
            try state.write("credential", Array((credential + "\n").utf8), mode: 0o600)
        } catch {
            throw AgentError.local("cannot save the enrollment in \(directory): \(error)")
        }
    }

    /// The enrollment, or `not-enrolled`.
    func loadEnrollment() throws(AgentError) -> (server: Server, credential: String) {
        let state: SafeDirectory
        do {
            state = try SafeDirectory(directory, create: false)
        } catch {
            throw AgentError(.notEnrolled, "this host is not enrolled (\(directory): \(error)); run keyfleet-agent enroll")
        }
        do {
            guard let serverBytes = try state.read("server.json"), let credentialBytes = try state.read("credential") else {
                throw AgentError(.notEnrolled, "this host is not enrolled; run keyfleet-agent enroll")
            }
            let server = try JSONDecoder().decode(Server.self, from: Data(serverBytes))
            let credential = String(decoding: credentialBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !credential.isEmpty else { throw AgentError(.notEnrolled, "the credential in \(directory) is empty; enroll again") }
            return (server, credential)
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError.local("the enrollment in \(directory) cannot be read: \(error)")
        }
    }

    /// The last complete answer, or nil (none yet, or unreadable: then the agent waits for the server).
    func loadAccess() -> AccessSet? {
        // Decoding checks every line again: the file is the agent's own, but a value is only trusted once parsed.
        guard let state = try? SafeDirectory(directory, create: false), let bytes = try? state.read("access.json") else { return nil }
        return try? JSONDecoder().decode(AccessSet.self, from: Data(bytes))
    }

    /// Keeps `access` as the last complete answer.
    func saveAccess(_ access: AccessSet) throws(AgentError) {
        let state = try open(create: true)
        do {
            // Not synced to disk: the keys sshd reads are (KeysWriter); this copy only lets a restarted agent
            // serve them before the server answers, and a lost one just means waiting for that answer.
            try state.write("access.json", Array(try Self.encoder.encode(access)), mode: 0o600, durable: false)
        } catch {
            throw AgentError.local("cannot save the last answer in \(directory): \(error)")
        }
    }

    /// Removes the last complete answer, so that a restarted agent cannot serve it again (the host was
    /// deleted, or a newer answer could not be kept). Nothing to do when there is none.
    func removeAccess() throws(AgentError) {
        var info = stat()
        if lstat(directory, &info) != 0 && errno == ENOENT { return }
        do {
            try SafeDirectory(directory, create: false).remove("access.json")
        } catch {
            throw AgentError.local("cannot remove the last answer from \(directory): \(error)")
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }
}
