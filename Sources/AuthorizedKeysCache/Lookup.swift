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
    /// root (uid 0) or writable by group or others, a file without the cache header or a final line feed,
    /// and any read error. A login without a file has no keys: nothing printed, status 0.
    ///
    /// Only root is trusted, never the running user: sshd runs the lookup as an unprivileged user (`nobody`),
    /// and anything else running as that user must not be able to plant keys in a cache it owns.
    public static func answer(directory: String, login: String, fingerprint: String?) -> Answer {
        guard CacheFile.isValidLogin(login.utf8) else {
            return .failure("the user name is not one the cache can hold")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0 else { return .failure("cannot open the cache directory \(directory)") }
        defer { close(directoryFD) }
        guard isSafe(directoryFD, directory: true) else {
            return .failure("the cache directory \(directory) is not owned by root or is writable by others")
        }
        let fileFD = openat(directoryFD, login, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fileFD < 0 {
            return errno == ENOENT ? Answer(output: [], status: 0, reason: nil) : .failure("cannot open the cache file of \(login)")
        }
        defer { close(fileFD) }
        var info = stat()
        guard fstat(fileFD, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, isSafe(fileFD, directory: false) else {
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

    /// Checks the header and the final line feed, then copies the matching lines without their fingerprints:
    /// with a fingerprint, found by binary search over the sorted lines; without one, every line.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, fingerprint: [UInt8]?) -> Answer {
        let header = Array((CacheFile.header + "\n").utf8)
        guard bytes.count >= header.count, bytes.last == 0x0A, zip(header, bytes).allSatisfy({ $0 == $1 }) else {
            return .failure("the cache file is not a complete keyfleet cache")
        }
        guard let fingerprint else { return everyLine(bytes, from: header.count) }
        guard !fingerprint.isEmpty, !fingerprint.contains(0x20), !fingerprint.contains(0x0A) else {
            return .failure("the fingerprint is malformed")
        }
        // The first line whose fingerprint is not below the one asked for.
        var low = header.count
        var high = bytes.count
        while low < high {
            // low and high are line starts (or the end), so the line holding the midpoint starts in [low, high).
            let middle = lineStart(bytes, containing: low + (high - low) / 2, notBefore: low)
            let end = nextLineFeed(bytes, from: middle)
            guard let order = compareFingerprint(bytes, line: middle, end: end, fingerprint) else {
                return .failure("the cache file has a malformed line")
            }
            if order < 0 { low = end + 1 } else { high = middle }
        }
        // Every following line of the same fingerprint.
        var output: [UInt8] = []
        var line = low
        while line < bytes.count {
            let end = nextLineFeed(bytes, from: line)
            guard let order = compareFingerprint(bytes, line: line, end: end, fingerprint) else {
                return .failure("the cache file has a malformed line")
            }
            guard order == 0, let space = firstSpace(bytes, from: line, to: end) else { break }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(space + 1)...end]))
            line = end + 1
        }
        return Answer(output: output, status: 0, reason: nil)
    }

    /// Every line without its fingerprint, checking each.
    private static func everyLine(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Answer {
        var output: [UInt8] = []
        var lineStart = start
        while lineStart < bytes.count {
            let lineEnd = nextLineFeed(bytes, from: lineStart)
            guard let space = firstSpace(bytes, from: lineStart, to: lineEnd), space > lineStart, space + 1 < lineEnd else {
                return .failure("the cache file has a malformed line")
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[(space + 1)...lineEnd]))
            lineStart = lineEnd + 1
        }
        return Answer(output: output, status: 0, reason: nil)
    }

    /// The start of the line holding `offset`, but not before `floor` (a line start).
    private static func lineStart(_ bytes: UnsafeBufferPointer<UInt8>, containing offset: Int, notBefore floor: Int) -> Int {
        var index = offset
        while index > floor && bytes[index - 1] != 0x0A { index -= 1 }
        return index
    }

    /// How the line's fingerprint compares with `fingerprint`: negative, zero or positive; nil when the
    /// line has no fingerprint field.
    private static func compareFingerprint(_ bytes: UnsafeBufferPointer<UInt8>, line: Int, end: Int, _ fingerprint: [UInt8]) -> Int? {
        guard let space = firstSpace(bytes, from: line, to: end), space > line, space + 1 < end, let base = bytes.baseAddress else {
            return nil
        }
        let length = space - line
        let common = min(length, fingerprint.count)
        let order = fingerprint.withUnsafeBytes { wanted -> Int32 in
            guard let other = wanted.baseAddress else { return 0 }
            return memcmp(base + line, other, common)
        }
        if order != 0 { return Int(order) }
        return length - fingerprint.count
    }

    private static func nextLineFeed(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress, let found = memchr(base + start, 0x0A, bytes.count - start) else { return bytes.count - 1 }
        return UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
    }

    private static func firstSpace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard let base = bytes.baseAddress, let found = memchr(base + start, 0x20, end - start) else { return nil }
        return UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
    }

    /// Owned by root (uid 0, whoever runs the lookup) and not writable by group or others.
    private static func isSafe(_ descriptor: Int32, directory: Bool) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        guard info.st_uid == 0 else { return false }
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else { return false }
        return directory ? (info.st_mode & S_IFMT) == S_IFDIR : true
    }
}
