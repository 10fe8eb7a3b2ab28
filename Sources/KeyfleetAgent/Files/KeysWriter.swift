internal import AuthorizedKeysCache
internal import KeyfleetCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
/// its file. Only files the agent wrote (a valid login's name, starting with the mode's header) are ever
/// removed, so other files in the directory stay as they are.
///
/// The directory, and any missing directory above it, is made owned by root with mode 0755 (whatever the
/// umask), and an existing one must be owned by root and writable by it alone; files are 0644. In command
/// mode the lookup runs as sshd's unprivileged `AuthorizedKeysCommandUser`, which must be able to read them.
///
/// In legacy mode the keys go into each user's `~/.ssh/authorized_keys` (``LegacyWriter``) and `directory`
/// is the agent's state directory, where the writer records which logins have a block.
struct KeysWriter: Sendable {
    let mode: DeliveryMode
    let directory: String
    /// Legacy mode: finds a login's account.
    var legacyAccounts: @Sendable (String) -> LegacyAccount? = LegacyAccount.system

    static let filesHeader = "# Managed by keyfleet host-agent: changes here are overwritten at the next sync.\n"

    /// What a file the agent wrote in this mode starts with.
    var managedPrefix: [UInt8] {
        switch mode {
        case .files: Array("# Managed by keyfleet host-agent".utf8)
        case .command: Array(CacheFile.headerPrefix.utf8)
        case .legacy: []
        }
    }

    /// Applies `access`; on any error the files already replaced stay replaced (each is complete) and the
    /// caller keeps its last good state, so the next attempt converges. Returns the logins refused (legacy
    /// mode: a symlinked ~/.ssh, no account...), each with its reason, which the others do not wait for.
    @discardableResult
    func apply(_ access: AccessSet) throws(AgentError) -> [String: String] {
        try applyReporting(access).refused
    }

    /// ``apply(_:)``, with what legacy mode found outside its blocks (``LegacyWriter/applyReporting(_:)``);
    /// the other modes own their files whole and find nothing.
    func applyReporting(_ access: AccessSet) throws(AgentError) -> (refused: [String: String], strays: [StrayKey]) {
        if mode == .legacy {
            return try LegacyWriter(recordDirectory: directory.isEmpty ? nil : directory, accounts: legacyAccounts).applyReporting(access)
        }
        return (try applyOwnFiles(access), [])
    }

    private func applyOwnFiles(_ access: AccessSet) throws(AgentError) -> [String: String] {
        do {
            let directory = try SafeDirectory(self.directory, create: true, mode: 0o755)
            for (login, lines) in access.logins.sorted(by: { $0.key < $1.key }) {
                if lines.isEmpty {
                    try removeIfManaged(login, in: directory)
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
            try removeStale(keeping: Set(access.logins.keys), in: directory)
            return [:]
        } catch let error as SafeDirectory.Failure {
            throw AgentError.local(error.description)
        } catch {
            throw AgentError.local("\(error)")
        }
    }

    /// Removes every key the agent manages (the host was deleted from the registry): its files in the
    /// keys directory or the cache, or its block in every user's `~/.ssh/authorized_keys` it recorded.
    /// Files it did not write stay as they are. Returns the logins refused (legacy mode), whose block may
    /// still be there; throws when the directory cannot be read.
    func removeAll() throws(AgentError) -> [String: String] {
        let nothing: AccessSet
        do {
            nothing = try AccessSet(version: 0, logins: [:])
        } catch {
            throw AgentError.local("cannot make an empty set of keys: \(error)")
        }
        if mode == .legacy { return try apply(nothing) }
        do {
            var info = stat()
            if lstat(directory, &info) != 0 && errno == ENOENT { return [:] }  // never written
            try removeStale(keeping: [], in: try SafeDirectory(directory, create: false))
            return [:]
        } catch let error as SafeDirectory.Failure {
            throw AgentError.local(error.description)
        } catch {
            throw AgentError.local("\(error)")
        }
    }

    /// Removes the files of logins not in `logins` that the agent wrote, and temporary files an agent killed
    /// mid-write left behind.
    private func removeStale(keeping logins: Set<String>, in directory: SafeDirectory) throws {
        for name in try directory.regularFiles() {
            if name.hasPrefix(".") && name.hasSuffix(".tmp") {
                try directory.remove(name)
            } else if !logins.contains(name) && CacheFile.isValidLogin(Array(name.utf8)) {
                try removeIfManaged(name, in: directory)
            }
        }
    }

    /// Removes `name` when the agent wrote it, or when it is a symlink: a login's name in the directory is
    /// the agent's, and sshd must not be led through a link to another file.
    private func removeIfManaged(_ name: String, in directory: SafeDirectory) throws {
        if try directory.isSymlink(name) || directory.starts(name, with: managedPrefix) { try directory.remove(name) }
    }
}
