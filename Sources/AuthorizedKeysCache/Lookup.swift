#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What `keyfleet-authorized-keys` does for one call from sshd.
public enum Lookup {
    /// The outcome: the bytes to print and the exit status. sshd ignores what a failing command printed.
    public struct Answer {
        /// What goes to stdout.
        public var output: [UInt8]
        /// 0 when sure, 1 otherwise.
        public var status: Int32
        /// Why the answer is a failure, for stderr (sshd logs it).
        public var reason: String?

        static func failure(_ reason: String) -> Answer { Answer(output: [], status: 1, reason: reason) }
    }

    /// The lines of `login` in the cache directory, only the one whose fingerprint is `fingerprint` when
    /// given (sshd's `%f`).
    ///
    /// Fails (status 1) for an invalid login, a cache directory or file that is a symlink, not owned by
    /// root (or the running user, for tests) or writable by group or others, a file without the cache
    /// header or a final line feed, and any read error. A login without a file has no keys: nothing
    /// printed, status 0.
    public static func answer(directory: String, login: String, fingerprint: String?) -> Answer {
        let name = Array(login.utf8)
        guard CacheFile.isValidLogin(name), login != ".", login != ".." else {
            return .failure("the user name is not one the cache can hold")
        }
        let owner = geteuid()
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0 else { return .failure("cannot open the cache directory \(directory)") }
        defer { close(directoryFD) }
        guard isSafe(directoryFD, owner: owner, directory: true) else {
            return .failure("the cache directory \(directory) is not owned by root or is writable by others")
        }
        let fileFD = openat(directoryFD, login, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fileFD < 0 {
            return errno == ENOENT ? Answer(output: [], status: 0, reason: nil) : .failure("cannot open the cache file of \(login)")
        }
        defer { close(fileFD) }
        var info = stat()
        guard fstat(fileFD, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, isSafe(fileFD, owner: owner, directory: false) else {
            return .failure("the cache file of \(login) is not a regular file owned by root and writable only by it")
        }
        let size = Int(info.st_size)
        guard size > 0 else { return .failure("the cache file of \(login) is empty") }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fileFD, 0), mapping != MAP_FAILED else {
            return .failure("cannot read the cache file of \(login)")
        }
        defer { munmap(mapping, size) }
        let bytes = UnsafeRawBufferPointer(start: mapping, count: size).bindMemory(to: UInt8.self)
        return scan(bytes, fingerprint: fingerprint.map { Array($0.utf8) })
    }

    /// Checks the header and the final line feed, then copies the matching lines without their fingerprints.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, fingerprint: [UInt8]?) -> Answer {
        let header = Array((CacheFile.header + "\n").utf8)
        guard bytes.count >= header.count, bytes.last == 0x0A, zip(header, bytes).allSatisfy({ $0 == $1 }) else {
            return .failure("the cache file is not a complete keyfleet cache")
        }
        var output: [UInt8] = []
        var lineStart = header.count
        while lineStart < bytes.count {
            let lineEnd = nextLineFeed(bytes, from: lineStart)
            guard let space = firstSpace(bytes, from: lineStart, to: lineEnd), space > lineStart, space + 1 < lineEnd else {
                return .failure("the cache file has a malformed line")
            }
            if let fingerprint {
                if space - lineStart == fingerprint.count, equal(bytes, at: lineStart, fingerprint) {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(space + 1)...lineEnd]))
                }
            } else {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(space + 1)...lineEnd]))
            }
            lineStart = lineEnd + 1
        }
        return Answer(output: output, status: 0, reason: nil)
    }

    private static func nextLineFeed(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress, let found = memchr(base + start, 0x0A, bytes.count - start) else { return bytes.count - 1 }
        return UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
    }

    private static func firstSpace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard let base = bytes.baseAddress, let found = memchr(base + start, 0x20, end - start) else { return nil }
        return UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ expected: [UInt8]) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return expected.withUnsafeBytes { buffer in
            guard let other = buffer.baseAddress else { return expected.isEmpty }
            return memcmp(base + start, other, expected.count) == 0
        }
    }

    /// Owned by root (or by the running user, which is root under sshd) and not writable by group or others.
    private static func isSafe(_ descriptor: Int32, owner: uid_t, directory: Bool) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        guard info.st_uid == 0 || info.st_uid == owner else { return false }
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else { return false }
        return directory ? (info.st_mode & S_IFMT) == S_IFDIR : true
    }
}
