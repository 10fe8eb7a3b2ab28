internal import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `keyfleet host-agent install|uninstall`: a drop-in under `sshd_config.d/` that points sshd at the
/// agent's files or lookup command, checked with `sshd -t` before sshd is reloaded, and rolled back when
/// the check fails, so sshd is never left unable to start.
public struct SSHDInstaller: Sendable {
    /// How to make the running sshd read its configuration again.
    public enum Reload: Sendable, Hashable {
        /// SIGHUP to the pid in this file (sshd's `PidFile`).
        case pidFile(String)
        /// `systemctl reload ssh`.
        case systemd
        /// Do not reload.
        case none
    }

    /// The main sshd configuration; the drop-in goes in `sshd_config.d/` beside it.
    public var sshdConfig: String
    /// Files or command.
    public var mode: DeliveryMode
    /// The agent's keys directory (files) or cache directory (command).
    public var keysDirectory: String
    /// The lookup executable for command mode.
    public var lookupCommand: String
    /// The unprivileged user sshd runs the lookup command as.
    public var lookupUser: String
    /// How to reload sshd.
    public var reload: Reload

    /// The drop-in's file name.
    public static let dropInName = "50-keyfleet.conf"

    /// An installer.
    public init(
        sshdConfig: String = "/etc/ssh/sshd_config", mode: DeliveryMode, keysDirectory: String? = nil,
        lookupCommand: String = "/usr/bin/keyfleet-authorized-keys", lookupUser: String = "nobody", reload: Reload
    ) {
        self.sshdConfig = sshdConfig
        self.mode = mode
        self.keysDirectory = keysDirectory ?? HostAgentConfiguration.defaultKeysDirectory(mode)
        self.lookupCommand = lookupCommand
        self.lookupUser = lookupUser
        self.reload = reload
    }

    /// The drop-in's path.
    public var dropInPath: String { dropInDirectory + "/" + Self.dropInName }

    var dropInDirectory: String {
        let parent = (sshdConfig as NSString).deletingLastPathComponent
        return (parent.isEmpty ? "." : parent) + "/sshd_config.d"
    }

    /// Legacy mode exists for images whose sshd_config must not change, so it has no drop-in.
    public static let legacyRefusal = AgentError(
        .usage,
        "legacy mode needs no install: sshd already reads ~/.ssh/authorized_keys, so sshd_config stays unchanged; run host-agent run --mode legacy")

    /// The drop-in's text.
    public func dropIn() throws(AgentError) -> String {
        for (name, value) in [("keys directory", keysDirectory), ("lookup command", lookupCommand)] {
            guard value.hasPrefix("/"), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "\"") })
            else {
                throw AgentError(
                    .usage,
                    "the \(name) \"\(AgentError.printable(value))\" must be an absolute path of printable characters without blanks, % or quotes")
            }
        }
        guard lookupUser.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }),
            !lookupUser.isEmpty
        else {
            throw AgentError(.usage, "the lookup user \"\(AgentError.printable(lookupUser))\" is not a user name")
        }
        var text = "# Written by keyfleet host-agent install; keyfleet host-agent uninstall removes it.\n"
        switch mode {
        case .files:
            text += "AuthorizedKeysFile .ssh/authorized_keys \(keysDirectory)/%u\n"
        case .command:
            let cache = keysDirectory == HostAgentConfiguration.defaultKeysDirectory(.command) ? "" : " --cache-dir \(keysDirectory)"
            text += "AuthorizedKeysCommand \(lookupCommand)\(cache) %u %f\nAuthorizedKeysCommandUser \(lookupUser)\n"
        case .legacy:
            throw Self.legacyRefusal
        }
        return text
    }

    /// Writes the drop-in, checks the whole configuration with `sshd -t`, and reloads sshd; restores the
    /// previous drop-in (or none) when the check fails.
    public func install() throws(AgentError) {
        if mode == .legacy { throw Self.legacyRefusal }
        try requireInclude()
        let text = try dropIn()
        try replaceDropIn(with: Array(text.utf8))
    }

    /// Removes the drop-in, checks with `sshd -t` and reloads; puts it back when the check fails.
    public func uninstall() throws(AgentError) {
        try replaceDropIn(with: nil)
    }

    private func replaceDropIn(with bytes: [UInt8]?) throws(AgentError) {
        let directory: SafeDirectory
        do {
            directory = try SafeDirectory(dropInDirectory, create: true, mode: 0o755)
        } catch {
            throw AgentError.local("\(error)")
        }
        let previous: [UInt8]?
        do {
            previous = try directory.read(Self.dropInName)
            if let bytes { try directory.write(Self.dropInName, bytes, mode: 0o644) } else { try directory.remove(Self.dropInName) }
        } catch {
            throw AgentError.local("cannot change \(dropInDirectory)/\(Self.dropInName): \(error)")
        }
        if let failure = check() {
            do {
                if let previous { try directory.write(Self.dropInName, previous, mode: 0o644) } else { try directory.remove(Self.dropInName) }
            } catch {
                throw AgentError.local("sshd -t refused the change (\(failure)) and the previous drop-in could not be restored: \(error)")
            }
            throw AgentError(.usage, "sshd -t refused the configuration, so nothing was changed: \(failure)")
        }
        try reloadSSHD()
    }

    /// The main file must include `sshd_config.d/*.conf` (Debian's does), or the drop-in would be ignored.
    private func requireInclude() throws(AgentError) {
        guard let text = try? String(contentsOfFile: sshdConfig, encoding: .utf8) else {
            throw AgentError.local("cannot read \(sshdConfig)")
        }
        let includes = text.split(separator: "\n").contains { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return words.first?.lowercased() == "include" && words.dropFirst().contains { $0.contains("sshd_config.d/") }
        }
        guard includes else {
            throw AgentError(.usage, "\(sshdConfig) does not Include \(dropInDirectory)/*.conf; add that line at its top first")
        }
    }

    /// `sshd -t -f CONFIG`: nil when it passes, else its first error line.
    private func check() -> String? {
        let result = Self.runTool(Self.sshdPath(), ["-t", "-f", sshdConfig])
        if result.status == 0 { return nil }
        return result.output.split(separator: "\n").first.map(String.init) ?? "sshd -t failed with status \(result.status)"
    }

    private func reloadSSHD() throws(AgentError) {
        switch reload {
        case .none:
            return
        case .pidFile(let path):
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
            else {
                throw AgentError.local("cannot read sshd's pid from \(path)")
            }
            guard kill(pid, SIGHUP) == 0 else { throw AgentError.local("cannot signal sshd (pid \(pid)) to reload") }
        case .systemd:
            let result = Self.runTool("/usr/bin/systemctl", ["reload", "ssh"])
            guard result.status == 0 else { throw AgentError.local("systemctl reload ssh failed: \(result.output.prefix(200))") }
        }
    }

    static func sshdPath() -> String {
        for candidate in ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/sbin/sshd"
    }

    static func runTool(_ path: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (127, "cannot run \(path): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
