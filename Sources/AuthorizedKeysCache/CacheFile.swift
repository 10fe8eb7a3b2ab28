#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache that `keyfleet-authorized-keys` answers sshd from: one file per login (mode 0644) in a
/// directory owned by root and writable by root alone (by default `/var/lib/keyfleet-authorized`, 0755),
/// written atomically by the host agent.
///
/// sshd runs the lookup as an unprivileged `AuthorizedKeysCommandUser` (`nobody` by default), which must be
/// able to walk to the cache and read it; so the cache has its own directory, outside the agent's state
/// directory (`/var/lib/keyfleet`, 0700, which holds the host's credential).
///
/// A file is a header line, then one line per key: its SHA-256 fingerprint as sshd prints it (`%f`), a
/// space, and the authorized_keys line exactly as sshd is to read it, sorted by fingerprint (bytewise) so
/// the lookup finds `%f` by binary search, touching a few pages whatever the number of keys:
///
/// ```
/// # keyfleet authorized-keys cache 2 sorted
/// SHA256:Ohq4... expiry-time="202701011200Z" ssh-ed25519 AAAA... keyfleet:alice-laptop
/// ```
///
/// Which keys sshd accepts does not depend on the order of authorized_keys lines, so sorting changes nothing
/// it decides.
/// The module uses no Foundation so that the lookup command starts in about a millisecond.
public enum CacheFile {
    /// The first line of every cache file.
    public static let header = "# keyfleet authorized-keys cache 2 sorted"

    /// The default cache directory: its own, beside (not inside) the agent's private state directory, so
    /// the unprivileged lookup user can reach it.
    public static let defaultDirectory = "/var/lib/keyfleet-authorized"

    /// What every cache file the agent writes starts with, whatever its format version: the agent removes
    /// only files that start so, and leaves any other file in the directory alone.
    public static let headerPrefix = "# keyfleet authorized-keys cache "

    /// A cache file's text for `entries` (fingerprint, line), sorted by fingerprint; lines of one
    /// fingerprint keep their order.
    public static func render(_ entries: [(fingerprint: String, line: String)]) -> String {
        let sorted = entries.enumerated().sorted { left, right in
            let order = compare(Array(left.element.fingerprint.utf8), Array(right.element.fingerprint.utf8))
            return order == 0 ? left.offset < right.offset : order < 0
        }
        var text = header + "\n"
        for (_, entry) in sorted {
            text += entry.fingerprint + " " + entry.line + "\n"
        }
        return text
    }

    /// Bytewise comparison, as memcmp orders: negative, zero or positive.
    static func compare(_ left: [UInt8], _ right: [UInt8]) -> Int {
        for (a, b) in zip(left, right) where a != b { return a < b ? -1 : 1 }
        return left.count - right.count
    }

    /// Whether `name` is a login the cache can hold: `^[a-z_][a-z0-9._-]{0,31}$` with no `..` (so never `.` or
    /// `..`, a `/` or a leading `-`). The same rule as KeyfleetCore's `LoginName.isValid`, which names every login
    /// the registry stores; this module imports nothing, so the lookup keeps its own copy of the bytes.
    public static func isValidLogin(_ name: some Collection<UInt8>) -> Bool {
        guard let first = name.first, name.count <= 32 else { return false }
        guard (first >= 0x61 && first <= 0x7A) || first == 0x5F else { return false }
        var previous = first
        for byte in name.dropFirst() {
            let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x5F || byte == 0x2D
            if !ok || (byte == 0x2E && previous == 0x2E) { return false }
            previous = byte
        }
        return true
    }
}
