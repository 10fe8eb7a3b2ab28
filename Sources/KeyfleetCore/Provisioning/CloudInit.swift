/// The cloud-init user-data (`#cloud-config`) that provisions a new host: its logins with their effective
/// keys, and the enrollment of its host agent.
///
/// The document, for a host with logins `root` and `deploy`:
///
/// ```yaml
/// #cloud-config
/// disable_root: false
/// allow_public_ssh_keys: false
/// users:
///   - name: "root"
///     lock_passwd: false
///     ssh_authorized_keys:
///       - "ssh-ed25519 AAAA... keyfleet:alice-laptop"
///   - name: "deploy"
///     lock_passwd: true
///     ssh_authorized_keys:
///       - "expiry-time=\"202701011200Z\" ssh-ed25519 AAAA... keyfleet:ci"
/// write_files:
///   - path: "/etc/keyfleet/enroll.json"
///     owner: "root:root"
///     permissions: "0600"
///     content: "{\"server\":...}\n"
/// runcmd:
///   - ["keyfleet", "host-agent", "enroll", "--server", "https://...", "--token", "...", "--ca-cert-hash", "sha256:..."]
/// ```
///
/// Decisions, all from cloud-init's own modules (users-groups, ssh, write-files, runcmd):
/// - Each login is a `users` entry whose `ssh_authorized_keys` are exactly the lines
///   ``EffectiveAccess/compute(host:login:registry:now:)`` renders (the key is left out when there are none:
///   the schema wants at least one). Listing `users` without `default` means the image's default user is
///   not created: only the host's logins exist. A host without logins gets a `root` entry without keys
///   (the schema refuses an empty list, and no list at all would create the default user).
/// - `root` is a `users` entry too: cloud-init skips creating an existing user but still installs its keys.
///   `disable_root: false` stops the ssh module from prefixing root's keys with a "please log in as"
///   `command=`; `allow_public_ssh_keys: false` stops it from adding the cloud's own metadata keys, which
///   Keyfleet did not decide. `lock_passwd: false` for root leaves its password as the image has it (true, the
///   default, would lock it); new logins get `lock_passwd: true` (no password).
/// - The agent's enrollment (server URL, one-time token, CA certificate hash, host identifier) is written to
///   `/etc/keyfleet/enroll.json`, mode 0600, owner root, and `keyfleet host-agent enroll --config` reads it,
///   run from `runcmd` as an argument list (cloud-init quotes each argument; no shell string is built here).
/// - Every value is a double-quoted YAML scalar in printable ASCII with escapes, and the file's JSON is
///   ASCII with escapes too, so no text a user controls can end a scalar, add a key or a line. Host names,
///   labels and key comments never appear in the document at all.
/// - Rescue keys are in it only while the host is flagged for rescue, as ``EffectiveAccess`` adds them.
public enum CloudInit {
    /// Where the enrollment file is written on the host.
    public static let enrollmentPath = "/etc/keyfleet/enroll.json"

    /// The `#cloud-config` document for `host` at `now`.
    public static func userData(host: Host, registry: RegistrySnapshot, now: UInt64, enrollment: Enrollment) -> String {
        var out = "#cloud-config\n"
        out += "# Written by Keyfleet: the host's logins and their keys, and the host agent's enrollment.\n"
        out += "disable_root: false\n"
        out += "allow_public_ssh_keys: false\n"
        var logins = EffectiveAccess.computeAll(host: host, registry: registry, now: now)
        // Without a users list cloud-init would create the image's default user, and the schema refuses an
        // empty list: a host without logins gets root, without keys, which changes nothing.
        if logins.isEmpty { logins = [(.root, [])] }
        out += "users:\n"
        for (login, entries) in logins {
            out += "  - name: \(SafeText.yamlQuoted(login.rawValue))\n"
            out += "    lock_passwd: \(login == .root ? "false" : "true")\n"
            if !entries.isEmpty {
                out += "    ssh_authorized_keys:\n"
                for entry in entries { out += "      - \(SafeText.yamlQuoted(entry.line))\n" }
            }
        }
        out += "write_files:\n"
        out += "  - path: \(SafeText.yamlQuoted(enrollmentPath))\n"
        out += "    owner: \"root:root\"\n"
        out += "    permissions: \"0600\"\n"
        out += "    content: \(SafeText.yamlQuoted(enrollmentJSON(host: host, enrollment: enrollment)))\n"
        out += "runcmd:\n"
        let command = enrollCommand(enrollment)
        out += "  - [" + command.map(SafeText.yamlQuoted).joined(separator: ", ") + "]\n"
        return out
    }

    /// The argument list `runcmd` runs: `keyfleet host-agent enroll --config /etc/keyfleet/enroll.json`.
    /// The token stays in the root-only file, out of the process list and out of cloud-init's logs of
    /// the commands it runs.
    public static func enrollCommand(_ enrollment: Enrollment) -> [String] {
        ["keyfleet", "host-agent", "enroll", "--config", enrollmentPath]
    }

    /// The enrollment file: `{"server":...,"token":...,"caCertHash":...,"hostID":...}` and a line feed;
    /// `caCertHash` is `null` for a plain-HTTP server.
    public static func enrollmentJSON(host: Host, enrollment: Enrollment) -> String {
        "{\"server\":\(SafeText.jsonQuoted(enrollment.serverURL)),\"token\":\(SafeText.jsonQuoted(enrollment.token)),"
            + "\"caCertHash\":\(enrollment.caCertHash.map(SafeText.jsonQuoted) ?? "null"),\"hostID\":\(SafeText.jsonQuoted(host.id.rawValue))}\n"
    }
}
