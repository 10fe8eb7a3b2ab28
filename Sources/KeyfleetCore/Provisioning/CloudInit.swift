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
///   - default
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
///   - ["sh", "-c", "<provisionScript>", "keyfleet-provision", "<package URL or empty>", "<its SHA-256 or empty>", "/etc/keyfleet/enroll.json"]
/// ```
///
/// Decisions, all from cloud-init's own modules (users-groups, ssh, write-files, runcmd):
/// - Each login is a `users` entry whose `ssh_authorized_keys` are exactly the lines
///   ``EffectiveAccess/compute(host:login:registry:now:)`` renders (the key is left out when there are none:
///   the schema wants at least one). The list starts with `default`, so the image's default user is created
///   as the image means it (with the cloud's keys, if any; Keyfleet does not manage it). A host without
///   logins gets a `root` entry without keys.
/// - `root` is a `users` entry too: cloud-init skips creating an existing user but still installs its keys.
///   `disable_root: false` stops the ssh module from prefixing root's keys with a "please log in as"
///   `command=`; `allow_public_ssh_keys: false` stops it from adding the cloud's own metadata keys, which
///   Keyfleet did not decide. `lock_passwd: false` for root leaves its password as the image has it (true, the
///   default, would lock it); new logins get `lock_passwd: true` (no password).
/// - The agent's enrollment (server URL, one-time token, CA certificate hash, host identifier) is written to
///   `/etc/keyfleet/enroll.json`, mode 0600, owner root, and `keyfleet-agent enroll --config` reads it, run
///   from `runcmd` by a fixed script whose values are its arguments (no shell text is built from values).
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
        // A host without logins gets root, without keys, which changes nothing.
        if logins.isEmpty { logins = [(.root, [])] }
        out += "users:\n"
        out += "  - default\n"
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
        let command = provisionCommand(enrollment)
        out += "  - [" + command.map(SafeText.yamlQuoted).joined(separator: ", ") + "]\n"
        return out
    }

    /// The argument list `runcmd` runs: ``provisionScript`` under `sh -c`, with the package URL, its SHA-256
    /// (both empty when images bring the agent) and the enrollment file as its arguments, so no value is
    /// ever part of the script's text. The token stays in the root-only file, out of the process list and
    /// out of cloud-init's logs of the commands it runs.
    public static func provisionCommand(_ enrollment: Enrollment) -> [String] {
        [
            "sh", "-c", provisionScript, "keyfleet-provision", enrollment.agentPackage?.url ?? "", enrollment.agentPackage?.sha256 ?? "",
            enrollmentPath,
        ]
    }

    /// Brings up the agent on a stock image, stopping at the first failure with one `keyfleet:` line in
    /// cloud-init's output log: the agent already in the image, or the package downloaded and checked
    /// against its SHA-256 before `dpkg -i`; then enrollment, the sshd drop-in (checked by `sshd -t` before
    /// sshd reloads), and the systemd unit.
    public static let provisionScript = #"""
        set -u
        url=$1 sum=$2 config=$3
        fail() { echo "keyfleet: $*" >&2; exit 1; }
        if ! command -v keyfleet-agent >/dev/null 2>&1; then
          [ -n "$url" ] || fail "keyfleet-agent is not in this image and the server names no agent package \#
        (keyfleet-server --agent-package-url URL --agent-package-sha256 HEX); this host is not managed"
          deb=$(mktemp) || fail "cannot make a temporary file for the agent package"
          trap 'rm -f "$deb"' EXIT
          if command -v curl >/dev/null 2>&1; then
            curl -fsSL --retry 5 -o "$deb" "$url" || fail "cannot download the agent package from $url"
          elif command -v wget >/dev/null 2>&1; then
            wget -q -O "$deb" "$url" || fail "cannot download the agent package from $url"
          else
            fail "neither curl nor wget is in this image to download the agent package from $url"
          fi
          echo "$sum  $deb" | sha256sum -c --status - || fail "the agent package from $url does not have the SHA-256 \#
        the server expects ($sum); not installed"
          dpkg -i "$deb" >&2 || fail "dpkg could not install the agent package from $url"
        fi
        keyfleet-agent enroll --config "$config" || fail "the agent could not enroll with the server (the line above says why)"
        keyfleet-agent install --mode files || fail "sshd could not be pointed at the agent's keys (the line above says why)"
        systemctl enable --now keyfleet-agent.service || fail "keyfleet-agent.service could not be started"
        echo "keyfleet: the host agent is enrolled and running" >&2
        """#

    /// The enrollment file: `{"server":...,"token":...,"caCertHash":...,"hostID":...}` and a line feed;
    /// `caCertHash` is `null` for a plain-HTTP server.
    public static func enrollmentJSON(host: Host, enrollment: Enrollment) -> String {
        "{\"server\":\(SafeText.jsonQuoted(enrollment.serverURL)),\"token\":\(SafeText.jsonQuoted(enrollment.token)),"
            + "\"caCertHash\":\(enrollment.caCertHash.map(SafeText.jsonQuoted) ?? "null"),\"hostID\":\(SafeText.jsonQuoted(host.id.rawValue))}\n"
    }
}
