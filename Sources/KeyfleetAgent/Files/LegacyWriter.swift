internal import AuthorizedKeysCache
internal import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A login's Unix account, as the legacy writer needs it.
struct LegacyAccount: Sendable, Hashable {
    var uid: uid_t
    var gid: gid_t
    var home: String

    /// The account from the system's user database (`getpwnam_r`), or nil when there is none.
    static func system(_ login: String) -> LegacyAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let status = getpwnam_r(login, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil, let directory = entry.pw_dir else { return nil }
        return LegacyAccount(uid: entry.pw_uid, gid: entry.pw_gid, home: String(cString: directory))
    }
}

/// Legacy mode, for images whose sshd_config must not change: the keys of each login go into a marked block
/// (``LegacyBlock``) of that user's `~/.ssh/authorized_keys`, which sshd reads by default.
///
/// The rules, from DESIGN.md:
/// - Written as the user, never as root: every file operation for a login runs with the thread's filesystem
///   identity switched to the user's uid and gid (``FilesystemIdentity``), so the kernel checks the user's
///   permissions (a root agent cannot be led to write, or read, where the user could not) and creates
///   `~/.ssh` and the file owned by the user. Root's own `~/.ssh` is root's, so for uid 0 writing as root
///   is writing as the user.
/// - Symlinks refused anywhere on the path: the home is opened component by component from `/` with
///   `O_NOFOLLOW`, then `~/.ssh` and the file through its descriptor, also with `O_NOFOLLOW`. The home and
///   `~/.ssh` must be owned by the user; `authorized_keys` must be a regular file owned by the user with one
///   link. Any fault refuses that login (nothing is written for it) and the others go on.
/// - A symlink swapped in after the checks cannot redirect the write: it goes through the descriptors
///   already held (`openat` of a temporary file with `O_EXCL|O_NOFOLLOW`, `renameat` over the name, which
///   replaces a symlink rather than following it), into a directory the user owns, as the user.
/// - Atomic: temporary file, `fsync`, `renameat`, `fsync` of `~/.ssh`; SIGKILL at any point leaves the old
///   file or the new one (at worst a stray `.authorized_keys.*.tmp`, which sshd never reads).
///
/// A login that leaves the host must lose its block too, but the server's answer no longer names it; so the
/// writer keeps the logins that have a block in `legacy-logins` in the agent's state directory, adding new
/// logins before it writes (a crash cannot forget one) and dropping them once their block is gone.
struct LegacyWriter: Sendable {
    /// Where `legacy-logins` is kept (the agent's state directory); nil to keep no record (tests).
    var recordDirectory: String?
    /// Finds a login's account.
    var accounts: @Sendable (String) -> LegacyAccount? = LegacyAccount.system

    static let recordName = "legacy-logins"
    /// The keys the agent ever put in each login's block (`LOGIN SHA256:...` lines), to recognise a revoked
    /// one that the account's user copied outside the block.
    static let deliveredName = "legacy-delivered"
    /// The keys remembered per login; the oldest are forgotten beyond it.
    static let deliveredLimit = 4096
    static let fileLimit = 16 << 20

    /// Brings every login's block in step with `access`; returns the logins refused, each with the reason in
    /// one sentence (the caller logs them). Throws only when the record of managed logins cannot be kept.
    @discardableResult
    func apply(_ access: AccessSet) throws(AgentError) -> [String: String] {
        try applyReporting(access).refused
    }

    /// ``apply(_:)``, also returning the lines outside the blocks that carry a key the agent once delivered
    /// to that login and the registry no longer grants it: legacy mode cannot stop the account's own user
    /// from copying a managed line out of the block, so the agent reports such lines and leaves them alone.
    func applyReporting(_ access: AccessSet) throws(AgentError) -> (refused: [String: String], strays: [StrayKey]) {
        var record: SafeDirectory?
        var recorded: Set<String> = []
        var onDisk: Set<String> = []
        do {
            if let recordDirectory {
                let directory = try SafeDirectory(recordDirectory, create: true, mode: 0o700)
                record = directory
                if let bytes = try directory.read(Self.recordName, limit: 1 << 20) {
                    recorded = Set(bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }.filter(Self.isValidLogin))
                }
                let known = recorded.union(access.logins.keys.filter(Self.isValidLogin))
                if known != recorded { try directory.write(Self.recordName, Self.recordBytes(known), mode: 0o600) }
                onDisk = known
            }
        } catch {
            throw AgentError.local("cannot keep the record of legacy logins: \(error)")
        }
        let granted = access.logins.mapValues { Set($0.compactMap(Self.fingerprint)) }
        let delivered = try remember(granted, in: record)

        var refused: [String: String] = [:]
        var strays: [StrayKey] = []
        for login in Set(access.logins.keys).union(recorded).sorted() {
            do {
                let revoked = Set(delivered[login] ?? []).subtracting(granted[login] ?? [])
                strays += try update(login, lines: access.logins[login] ?? [], revoked: revoked).strays
            } catch {
                refused[login] = "\(error)"
            }
        }

        if let record {
            // Keep every login the server names, and those refused whose block may still be there.
            let remaining = Set(access.logins.keys.filter(Self.isValidLogin)).union(refused.keys.filter(Self.isValidLogin))
            if remaining != onDisk {
                do {
                    try record.write(Self.recordName, Self.recordBytes(remaining), mode: 0o600)
                } catch {
                    throw AgentError.local("cannot keep the record of legacy logins: \(error)")
                }
            }
        }
        return (refused, strays)
    }

    /// The SHA256 fingerprint of the key on an authorized_keys line, or nil when the line holds none.
    static func fingerprint(_ line: some StringProtocol) -> String? {
        (try? AuthorizedKey(line: String(line)))?.key.fingerprint()
    }

    /// Adds the keys granted now to the record of keys delivered per login and returns the record; without
    /// a record directory (tests), just what is granted now.
    private func remember(_ granted: [String: Set<String>], in record: SafeDirectory?) throws(AgentError) -> [String: [String]] {
        guard let record else { return granted.mapValues { $0.sorted() } }
        do {
            var delivered: [String: [String]] = [:]
            if let bytes = try record.read(Self.deliveredName, limit: 64 << 20) {
                for line in bytes.split(separator: 0x0A) {
                    let fields = line.split(separator: 0x20, maxSplits: 1)
                    guard fields.count == 2 else { continue }
                    let login = String(decoding: fields[0], as: UTF8.self)
                    guard Self.isValidLogin(login) else { continue }
                    delivered[login, default: []].append(String(decoding: fields[1], as: UTF8.self))
                }
            }
            var updated = delivered
            for (login, keys) in granted where Self.isValidLogin(login) {
                let known = Set(updated[login] ?? [])
                updated[login, default: []] += keys.subtracting(known).sorted()
                if let count = updated[login]?.count, count > Self.deliveredLimit {
                    updated[login]?.removeFirst(count - Self.deliveredLimit)
                }
            }
            if updated != delivered {
                let text = updated.keys.sorted().flatMap { login in updated[login, default: []].map { "\(login) \($0)\n" } }.joined()
                try record.write(Self.deliveredName, Array(text.utf8), mode: 0o600)
            }
            return updated
        } catch {
            throw AgentError.local("cannot keep the record of delivered keys: \(error)")
        }
    }

    /// A login's problem, in one sentence naming it.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Writes `login`'s block with `lines` (removes it when empty). Returns whether the file changed, and
    /// the lines outside the block that carry one of the `revoked` keys (SHA256 fingerprints).
    @discardableResult
    func update(_ login: String, lines: [String], revoked: Set<String> = []) throws -> (changed: Bool, strays: [StrayKey]) {
        // AccessSet refuses such names already; an answer decoded from the state file is checked here again.
        guard Self.isValidLogin(login) else {
            throw Refusal(description: "the login \"\(AgentError.printable(login))\" is not a valid user name")
        }
        guard let account = accounts(login) else {
            if lines.isEmpty { return (false, []) }  // no account, so no block to remove and nobody to log in
            throw Refusal(description: "the login \(login) has no account on this host")
        }
        guard account.home.hasPrefix("/") else {
            throw Refusal(description: "the home of \(login) is not an absolute path")
        }
        return try FilesystemIdentity.run(uid: account.uid, gid: account.gid) {
            try Self.updateAsUser(login, account: account, lines: lines, revoked: revoked)
        }
    }

    /// The file work, running with the user's filesystem identity. Synchronous on purpose: no `await` can
    /// move it to another thread while the identity is switched.
    private static func updateAsUser(
        _ login: String, account: LegacyAccount, lines: [String], revoked: Set<String>
    ) throws -> (changed: Bool, strays: [StrayKey]) {
        let home: SafeDirectory
        do {
            home = try SafeDirectory(account.home, create: false, mode: 0o700, owner: account.uid, requirePrivate: false)
        } catch {
            throw Refusal(description: "the home of \(login) is refused: \(error)")
        }
        let ssh: SafeDirectory
        do {
            guard let opened = try home.subdirectory(".ssh", create: !lines.isEmpty, mode: 0o700, owner: account.uid) else {
                return (false, [])  // no ~/.ssh and nothing to write
            }
            ssh = opened
        } catch {
            throw Refusal(description: "the ~/.ssh of \(login) is refused: \(error)")
        }
        let current: (bytes: [UInt8], status: stat)?
        do {
            current = try ssh.readWithStatus("authorized_keys", limit: fileLimit)
        } catch {
            throw Refusal(description: "the authorized_keys of \(login) is refused: \(error)")
        }
        if let current {
            guard current.status.st_uid == account.uid else {
                throw Refusal(description: "\(ssh.path)/authorized_keys is not owned by \(login)")
            }
            guard current.status.st_nlink == 1 else {
                throw Refusal(description: "\(ssh.path)/authorized_keys is a hard link to another file")
            }
        } else if lines.isEmpty {
            return (false, [])
        }
        let old = current?.bytes ?? []
        let new: [UInt8]
        do {
            new = try LegacyBlock.replace(in: old, with: lines)
        } catch {
            throw Refusal(description: "\(ssh.path)/authorized_keys: \(error); fix or remove that line")
        }
        var strays: [StrayKey] = []
        if !revoked.isEmpty {
            for line in LegacyBlock.unmanagedLines(in: new) {
                guard let fingerprint = fingerprint(String(decoding: line.bytes, as: UTF8.self)), revoked.contains(fingerprint) else { continue }
                strays.append(StrayKey(login: login, fingerprint: fingerprint, line: line.number))
            }
        }
        if current != nil && new == old { return (false, strays) }
        // Keep the user's permission bits, never group or other write (sshd's StrictModes would refuse them).
        let mode = current.map { ($0.status.st_mode & 0o644) | 0o600 } ?? 0o600
        do {
            try ssh.write("authorized_keys", new, mode: mode, changeOwner: false)
        } catch {
            throw Refusal(description: "cannot write the authorized_keys of \(login): \(error)")
        }
        return (true, strays)
    }

    static func isValidLogin(_ login: String) -> Bool {
        CacheFile.isValidLogin(Array(login.utf8))
    }

    private static func recordBytes(_ logins: Set<String>) -> [UInt8] {
        Array(logins.sorted().map { $0 + "\n" }.joined().utf8)
    }
}

/// Runs file operations as another user on this thread only: Linux's filesystem uid and gid
/// (`setfsuid`/`setfsgid`), which the kernel uses for every permission check and for the owner of new files.
///
/// Why not a child process that drops privileges: `fork` in a multi-threaded Swift process may only call
/// async-signal-safe functions, and `posix_spawn` cannot change the uid without a helper program. The
/// filesystem identity is per thread (unlike `setuid`, which glibc applies to every thread), and the body
/// is synchronous, so no `await` can move the work to another thread or another task onto this one while it
/// is switched; the previous identity is restored in a `defer`, and both changes are checked by calling each
/// function twice (it returns the previous value, so the second call returns the one now in force).
///
/// When the fsuid changes from 0, the kernel also clears the file capabilities (`CAP_DAC_OVERRIDE`,
/// `CAP_CHOWN`, `CAP_FOWNER`...) from the thread's effective set, so root's overrides are gone too. The
/// supplementary groups cannot be changed for one thread through glibc; root's are dropped for the whole
/// process instead (root needs none), so no group of root's (such as 0) lends the user access.
enum FilesystemIdentity {
    private typealias Setter = @convention(c) (UInt32) -> Int32

    /// `setfsuid` and `setfsgid`, which Swift's Glibc module does not export (they live in `sys/fsuid.h`).
    private static let setters: (uid: Setter, gid: Setter)? = {
        guard let handle = dlopen(nil, RTLD_NOW), let uid = dlsym(handle, "setfsuid"), let gid = dlsym(handle, "setfsgid") else {
            return nil
        }
        return (unsafeBitCast(uid, to: Setter.self), unsafeBitCast(gid, to: Setter.self))
    }()

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `body` with the thread's filesystem identity `uid`:`gid`, switched back afterwards; directly when it
    /// already is the process's effective identity.
    static func run<T>(uid: uid_t, gid: gid_t, _ body: () throws -> T) throws -> T {
        if uid == geteuid() && gid == getegid() { return try body() }
        guard geteuid() == 0 else {
            throw Failure(description: "the agent runs as uid \(geteuid()) and cannot write as uid \(uid); run it as root")
        }
        guard let setters else { throw Failure(description: "setfsuid is not available on this system") }
        if getgroups(0, nil) != 0 {
            guard setgroups(0, nil) == 0 else { throw Failure(description: "cannot drop root's supplementary groups") }
        }
        let previousGID = gid_t(bitPattern: setters.gid(gid))
        guard gid_t(bitPattern: setters.gid(gid)) == gid else {
            _ = setters.gid(previousGID)
            throw Failure(description: "cannot switch the filesystem group to gid \(gid)")
        }
        let previousUID = uid_t(bitPattern: setters.uid(uid))
        guard uid_t(bitPattern: setters.uid(uid)) == uid else {
            _ = setters.uid(previousUID)
            _ = setters.gid(previousGID)
            throw Failure(description: "cannot switch the filesystem user to uid \(uid)")
        }
        var restored = false
        let outcome: Result<T, any Error>
        do {
            defer {
                _ = setters.uid(previousUID)
                _ = setters.gid(previousGID)
                restored = uid_t(bitPattern: setters.uid(previousUID)) == previousUID && gid_t(bitPattern: setters.gid(previousGID)) == previousGID
            }
            outcome = Result { try body() }
        }
        guard restored else { throw Failure(description: "cannot switch the filesystem identity back to uid \(previousUID)") }
        return try outcome.get()
    }

    /// The thread's filesystem uid now (for tests).
    static func currentUID() -> uid_t? {
        guard let setters else { return nil }
        // setfsuid(-1) changes nothing (an invalid id) and returns the current one.
        return uid_t(bitPattern: setters.uid(UInt32.max))
    }
}
