#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache that `keyfleet-authorized-keys` answers sshd from: one file per login in a root-owned
/// directory (by default `/var/lib/keyfleet/authorized`), written atomically by the host agent.
///
/// A file is a header line, then one line per key: its SHA-256 fingerprint as sshd prints it (`%f`), a
/// space, and the authorized_keys line exactly as sshd is to read it:
///
/// ```
/// # keyfleet authorized-keys cache 1
/// SHA256:Ohq4... expiry-time="202701011200Z" ssh-ed25519 AAAA... keyfleet:alice-laptop
/// ```
///
/// The module uses no Foundation so that the lookup command starts in about a millisecond.
public enum CacheFile {
    /// The first line of every cache file.
    public static let header = "# keyfleet authorized-keys cache 1"

    /// The default cache directory.
    public static let defaultDirectory = "/var/lib/keyfleet/authorized"

    /// A cache file's text for `entries` (fingerprint, line) in order.
    public static func render(_ entries: [(fingerprint: String, line: String)]) -> String {
        var text = header + "\n"
        for entry in entries {
            text += entry.fingerprint + " " + entry.line + "\n"
        }
        return text
    }

    /// Whether `name` is a login the cache can hold: `^[a-z_][a-z0-9._-]{0,31}$`, not `.` or `..`.
    public static func isValidLogin(_ name: some Collection<UInt8>) -> Bool {
        guard let first = name.first, name.count <= 32 else { return false }
        guard (first >= 0x61 && first <= 0x7A) || first == 0x5F else { return false }
        for byte in name.dropFirst() {
            let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2E || byte == 0x5F || byte == 0x2D
            if !ok { return false }
        }
        return true
    }
}
