internal import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A directory opened component by component from `/` with `O_NOFOLLOW`, so no symlink anywhere on the
/// path is followed, and then used only through its descriptor (`openat`, `renameat`, `unlinkat`), so
/// a directory swapped in after the check cannot redirect a write.
///
/// Writes are atomic as DESIGN.md requires: a temporary file made with `O_EXCL|O_NOFOLLOW` in the same
/// directory, `fchown`/`fchmod`, `fsync`, `renameat` over the old name, `fsync` of the directory. A crash
/// at any step leaves the old file or the new one.
final class SafeDirectory: Sendable {
    /// The path it was opened as, for messages.
    let path: String
    private let descriptor: Int32

    /// A directory's problem, in one sentence naming it.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens `path`, making missing components with `mode` when `create` is set. The last directory must
    /// be owned by the running user (root for the agent) and not writable by group or others, so root
    /// never writes into a directory someone else controls.
    convenience init(_ path: String, create: Bool, mode: mode_t = 0o755) throws {
        try self.init(path, create: create, mode: mode, owner: geteuid(), requirePrivate: true)
    }

    /// Opens `path` as above; the last directory must be owned by `owner`, and, with `requirePrivate`, not
    /// writable by group or others. The legacy writer opens a user's home this way, as that user.
    init(_ path: String, create: Bool, mode: mode_t, owner: uid_t, requirePrivate: Bool) throws {
        guard path.hasPrefix("/") else { throw Failure(description: "\(path) is not an absolute path") }
        var current = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw Failure(description: "cannot open /") }
        for component in path.split(separator: "/") where component != "." {
            guard component != ".." else {
                close(current)
                throw Failure(description: "\(path) contains \"..\"")
            }
            var next = openat(current, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            var made = false
            if next < 0 && errno == ENOENT && create {
                if mkdirat(current, String(component), mode) == 0 {
                    made = true
                } else if errno != EEXIST {
                    let reason = String(cString: strerror(errno))
                    close(current)
                    throw Failure(description: "cannot make \(path): \(reason)")
                }
                next = openat(current, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let reason = errno
            // A directory made here gets exactly `mode`, whatever the umask: a lookup cache made 0700 under
            // umask 077 would refuse every login to sshd's unprivileged lookup user.
            if made && next >= 0 && fchmod(next, mode) != 0 {
                close(next)
                close(current)
                throw Failure(description: "cannot set the mode of \(path) at \"\(component)\"")
            }
            close(current)
            guard next >= 0 else {
                throw Failure(
                    description: reason == ELOOP || reason == ENOTDIR
                        ? "\(path) has a symlink or a file where a directory should be (at \"\(component)\")"
                        : "cannot open \(path): \(String(cString: strerror(reason)))")
            }
            current = next
        }
        var info = stat()
        guard fstat(current, &info) == 0, info.st_uid == owner, !requirePrivate || info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            close(current)
            throw Failure(
                description: requirePrivate
                    ? "\(path) must be owned by uid \(owner) and writable by it alone" : "\(path) must be owned by uid \(owner)")
        }
        self.path = path
        self.descriptor = current
    }

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// The directory `name` inside this one, opened with `O_NOFOLLOW` through this descriptor and made with
    /// `mode` when missing and `create` is set; nil when it is missing and not created. It must be a real
    /// directory (not a symlink) owned by `owner`.
    func subdirectory(_ name: String, create: Bool, mode: mode_t, owner: uid_t) throws -> SafeDirectory? {
        try Self.checkName(name)
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var next = openat(descriptor, name, flags)
        if next < 0 && errno == ENOENT {
            guard create else { return nil }
            let made = mkdirat(descriptor, name, mode) == 0
            guard made || errno == EEXIST else {
                throw Failure(description: "cannot make \(path)/\(name): \(String(cString: strerror(errno)))")
            }
            _ = fsync(descriptor)
            next = openat(descriptor, name, flags)
            if made && next >= 0 && fchmod(next, mode) != 0 {
                close(next)
                throw Failure(description: "cannot set the mode of \(path)/\(name)")
            }
        }
        guard next >= 0 else {
            let reason = errno
            throw Failure(
                description: reason == ELOOP || reason == ENOTDIR
                    ? "\(path)/\(name) is a symlink or not a directory"
                    : "cannot open \(path)/\(name): \(String(cString: strerror(reason)))")
        }
        var info = stat()
        guard fstat(next, &info) == 0, info.st_uid == owner else {
            close(next)
            throw Failure(description: "\(path)/\(name) must be owned by uid \(owner)")
        }
        return SafeDirectory(path: path + "/" + name, descriptor: next)
    }

    deinit {
        close(descriptor)
    }

    /// Sets the directory's own mode (e.g. 0700 for the state directory).
    func setMode(_ mode: mode_t) throws {
        guard fchmod(descriptor, mode) == 0 else { throw Failure(description: "cannot set the mode of \(path)") }
    }

    /// Replaces `name` with `bytes` atomically, with `mode`, owned by the running user (`changeOwner`), or,
    /// without `changeOwner`, by whoever the thread's filesystem identity made it (the legacy writer's user).
    ///
    /// `durable: false` leaves out both fsyncs: still atomic (old or new contents), but the new contents
    /// may be lost in a power failure. Only for files the agent can do without (its own cache).
    func write(_ name: String, _ bytes: [UInt8], mode: mode_t, changeOwner: Bool = true, durable: Bool = true) throws {
        try Self.checkName(name)
        let temporary = ".\(name).\(UInt64.random(in: 0...UInt64.max)).tmp"
        let file = openat(descriptor, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw Failure(description: "cannot create a file in \(path): \(String(cString: strerror(errno)))") }
        var done = false
        defer {
            close(file)
            if !done { unlinkat(descriptor, temporary, 0) }
        }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(file, base + written, buffer.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Failure(description: "cannot write \(path)/\(name): \(String(cString: strerror(errno)))") }
            written += count
        }
        guard !changeOwner || fchown(file, geteuid(), getegid()) == 0, fchmod(file, mode) == 0 else {
            throw Failure(description: "cannot set the owner and mode of \(path)/\(name)")
        }
        guard !durable || fsync(file) == 0 else { throw Failure(description: "cannot flush \(path)/\(name) to disk") }
        guard renameat(descriptor, temporary, descriptor, name) == 0 else {
            throw Failure(description: "cannot replace \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        done = true
        if durable { _ = fsync(descriptor) }
    }

    /// The contents of `name`, or nil when it does not exist. Refuses a symlink or a non-regular file.
    func read(_ name: String, limit: Int = 64 << 20) throws -> [UInt8]? {
        try readWithStatus(name, limit: limit)?.bytes
    }

    /// The contents of `name` and the `fstat` of the very descriptor they were read from (owner, links,
    /// mode), or nil when it does not exist. Refuses a symlink or a non-regular file.
    func readWithStatus(_ name: String, limit: Int = 64 << 20) throws -> (bytes: [UInt8], status: stat)? {
        try Self.checkName(name)
        let file = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if file < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw Failure(description: "\(path)/\(name) is a symlink") }
            throw Failure(description: "cannot open \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else {
            throw Failure(description: "\(path)/\(name) is not a regular file of at most \(limit) bytes")
        }
        return (Self.read(file, upTo: Int(info.st_size)), info)
    }

    /// Whether `name` is a regular file whose contents start with `prefix` (false when it does not exist or
    /// is something else: a symlink is never opened).
    func starts(_ name: String, with prefix: [UInt8]) throws -> Bool {
        try Self.checkName(name)
        let file = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if file < 0 {
            if errno == ENOENT || errno == ELOOP { return false }
            throw Failure(description: "cannot open \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        defer { close(file) }
        var info = stat()
        guard fstat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return Self.read(file, upTo: prefix.count) == prefix
    }

    /// Up to `count` bytes from the start of `file`, fewer at its end or on a read error.
    private static func read(_ file: Int32, upTo count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < bytes.count {
            let read = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.read(file, base + total, buffer.count - total)
            }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { break }
            total += read
        }
        return Array(bytes.prefix(total))
    }

    /// Whether `name` is a symlink (not followed).
    func isSymlink(_ name: String) throws -> Bool {
        try Self.checkName(name)
        var info = stat()
        return fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// Removes `name` if it exists.
    func remove(_ name: String) throws {
        try Self.checkName(name)
        guard unlinkat(descriptor, name, 0) == 0 || errno == ENOENT else {
            throw Failure(description: "cannot remove \(path)/\(name): \(String(cString: strerror(errno)))")
        }
        _ = fsync(descriptor)
    }

    /// The names of the regular files in the directory, not following symlinks.
    func regularFiles() throws -> [String] {
        let copy = dup(descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else { throw Failure(description: "cannot list \(path)") }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name != ".", name != ".." else { continue }
            var info = stat()
            guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            names.append(name)
        }
        return names.sorted()
    }

    private static func checkName(_ name: String) throws {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.utf8.contains(0) else {
            throw Failure(description: "\"\(name)\" is not a plain file name")
        }
    }
}
