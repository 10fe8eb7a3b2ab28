#if canImport(Glibc)
package import Glibc
#elseif canImport(Musl)
package import Musl
#elseif canImport(Darwin)
package import Darwin
#endif

/// The few file operations the toolkit needs, on POSIX calls directly (no Foundation: the binary starts in
/// about a millisecond, as ssh-keygen does).
package enum FileSystem {
    /// Reads a whole file (or standard input for `-`), refusing anything larger than `limit` bytes.
    package static func read(_ path: String, limit: Int = 64 << 20) throws(CLIError) -> [UInt8] {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError("\(Terminal.safe(path)): \(errorText(errno))") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            throw CLIError("\(Terminal.safe(path)): is a directory")
        }
        var bytes: [UInt8] = []
        if info.st_mode & S_IFMT == S_IFREG { bytes.reserveCapacity(min(Int(info.st_size), limit) + 1) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CLIError("\(Terminal.safe(path)): \(errorText(errno))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= limit else { throw CLIError("\(Terminal.safe(path)): file is larger than \(limit) bytes") }
        }
        return bytes
    }

    /// Reads a text file as UTF-8.
    package static func readText(_ path: String, limit: Int = 64 << 20) throws(CLIError) -> String {
        let bytes = try read(path, limit: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CLIError("\(Terminal.safe(path)): not a text file")
        }
        return text
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `lstat`, or nil when the path does not exist.
    package static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// Writes `bytes` to `path` atomically: a new file made with O_EXCL|O_NOFOLLOW beside it, given `mode`,
    /// synced, then renamed over `path`, and the directory synced. A crash leaves the old file or the new
    /// one, never a partial one. Without `replace`, an existing `path` is an error and stays untouched.
    package static func writeAtomically(
        _ path: String, _ bytes: [UInt8], mode: mode_t, replace: Bool, owner: (uid_t, gid_t)? = nil, syncDirectory: Bool = true
    ) throws(CLIError) {
        let directory = parentDirectory(of: path)
        if let existing = status(path) {
            guard replace else { throw CLIError("\(Terminal.safe(path)): already exists (use --force to overwrite)") }
            guard existing.st_mode & S_IFMT == S_IFREG else { throw CLIError("\(Terminal.safe(path)): not a regular file; refusing to replace it") }
        }
        var temporary = ""
        var fd: Int32 = -1
        for attempt in 0..<16 {
            temporary = "\(directory)/.\(baseName(of: path)).keyfleet-\(getpid())-\(attempt)-\(UInt32.random(in: 0 ... .max))"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw CLIError("\(Terminal.safe(path)): cannot create a temporary file beside it: \(errorText(errno))") }
        var failure: Int32 = 0
        var written = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress.map { $0 + written }, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += count
            }
        }
        if failure == 0, let owner, owner.0 != geteuid() || owner.1 != getegid(), fchown(fd, owner.0, owner.1) != 0 { failure = errno }
        if failure == 0, fchmod(fd, mode) != 0 { failure = errno }
        // fdatasync flushes the data and what is needed to read it back (size, blocks): enough that the name
        // never points at an empty file after a crash, without also writing timestamps.
        if failure == 0, fdatasync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == 0 { failure = errno }
        if failure == 0 {
            if replace {
                if rename(temporary, path) != 0 { failure = errno }
            } else {
                // link() fails with EEXIST if `path` appeared meanwhile: never overwrite without --force.
                if link(temporary, path) != 0 { failure = errno }
                unlink(temporary)
            }
        }
        if failure != 0 {
            unlink(temporary)
            throw CLIError("\(Terminal.safe(path)): cannot write: \(errorText(failure))")
        }
        guard syncDirectory else { return }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Replaces an existing regular file atomically, keeping its mode and owner.
    package static func replaceKeepingMode(_ path: String, _ bytes: [UInt8]) throws(CLIError) {
        guard let existing = status(path), existing.st_mode & S_IFMT == S_IFREG else {
            throw CLIError("\(Terminal.safe(path)): not a regular file")
        }
        try writeAtomically(path, bytes, mode: existing.st_mode & 0o7777, replace: true, owner: (existing.st_uid, existing.st_gid))
    }

    /// Changes the mode of the file or directory that `lstat` showed as `seen`, without following a
    /// symbolic link and only if the path still names that same file (device and inode): a link or another
    /// file swapped in after the check is left alone.
    package static func changeMode(_ path: String, seen: stat, to mode: mode_t) -> Bool {
        let directory = seen.st_mode & S_IFMT == S_IFDIR
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (directory ? O_DIRECTORY : 0))
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var now = stat()
        guard fstat(fd, &now) == 0, now.st_dev == seen.st_dev, now.st_ino == seen.st_ino else { return false }
        return fchmod(fd, mode) == 0
    }

    /// The canonical absolute path (symbolic links resolved), as sshd checks it.
    package static func resolved(_ path: String) -> String? {
        guard let result = realpath(path, nil) else { return nil }
        defer { free(result) }
        return String(cString: result)
    }

    package static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = path[..<slash]
        return parent.isEmpty ? "/" : String(parent)
    }

    package static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    package static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        let message = String(cString: text)
        return message.prefix(1).lowercased() + message.dropFirst()
    }

    /// The invoking user's home directory.
    package static func homeDirectory() -> String {
        if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir { return String(cString: directory) }
        return "."
    }

    /// `user@host`, the default key comment as ssh-keygen makes it.
    package static func userAtHost() -> String {
        var user = "unknown"
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { user = String(cString: name) }
        var buffer = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        return "\(user)@\(host)"
    }
}
