internal import AuthorizedKeysCache
internal import KeyfleetCore

/// How the agent hands keys to sshd, chosen at install.
public enum DeliveryMode: String, Sendable, CaseIterable, Codable {
    /// One root-owned file per login, read through `AuthorizedKeysFile ... /etc/ssh/keyfleet/%u`.
    case files
    /// A local cache read by `keyfleet-authorized-keys %u %f` (sshd's `AuthorizedKeysCommand`).
    case command
    /// For images whose sshd_config must not change: a marked block inside each user's
    /// `~/.ssh/authorized_keys`, written as that user, every other line kept byte for byte.
    case legacy
}

/// Writes an ``AccessSet`` into the keys directory (files mode) or the lookup cache (command mode):
/// one file per login with keys, atomically replaced; a login without keys, or no longer the host's, loses
/// its file. Only names that are valid logins are ever touched, so other files in the directory stay.
///
/// In legacy mode the keys go into each user's `~/.ssh/authorized_keys` (``LegacyWriter``) and `directory`
/// is the agent's state directory, where the writer records which logins have a block.
struct KeysWriter: Sendable {
    let mode: DeliveryMode
    let directory: String

    static let filesHeader = "# Managed by keyfleet host-agent: changes here are overwritten at the next sync.\n"

    /// Applies `access`; on any error the files already replaced stay replaced (each is complete) and the
    /// caller keeps its last good state, so the next attempt converges. Returns the logins refused (legacy
    /// mode: a symlinked ~/.ssh, no account...), each with its reason, which the others do not wait for.
    @discardableResult
    func apply(_ access: AccessSet) throws(AgentError) -> [String: String] {
        if mode == .legacy {
            return try LegacyWriter(recordDirectory: directory.isEmpty ? nil : directory).apply(access)
        }
        do {
            let directory = try SafeDirectory(self.directory, create: true, mode: 0o755)
            for (login, lines) in access.logins.sorted(by: { $0.key < $1.key }) {
                if lines.isEmpty {
                    try directory.remove(login)
                    continue
                }
                let text: String
                switch mode {
                case .files: text = Self.filesHeader + lines.map { $0 + "\n" }.joined()
                case .command: text = CacheFile.render(access.fingerprinted(login))
                case .legacy: continue  // handled above
                }
                if let current = try? directory.read(login), current == Array(text.utf8) { continue }
                try directory.write(login, Array(text.utf8), mode: 0o644)
            }
            for name in try directory.regularFiles() {
                // A login no longer the host's, or a temporary file an agent killed mid-write left behind.
                let stale = access.logins[name] == nil && CacheFile.isValidLogin(Array(name.utf8))
                let leftover = name.hasPrefix(".") && name.hasSuffix(".tmp")
                if stale || leftover { try directory.remove(name) }
            }
            return [:]
        } catch let error as SafeDirectory.Failure {
            throw AgentError.local(error.description)
        } catch {
            throw AgentError.local("\(error)")
        }
    }
}
