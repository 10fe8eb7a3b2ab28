import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `keyfleet doctor`: checks ~/.ssh as ssh and sshd (StrictModes) would, explains and optionally repairs.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check ~/.ssh: modes and owners as sshd's StrictModes and ssh demand, keys without .pub, bad authorized_keys lines.",
        discussion: "With --fix, modes are repaired and missing .pub files are written. Exit status 1 when problems remain.")

    @Flag(help: "Repair what can be repaired safely.")
    var fix = false

    @Option(help: ArgumentHelp("The home directory to check (default $HOME).", valueName: "dir"))
    var home: String?

    /// One problem, in plain words, and whether --fix repaired it.
    struct Finding {
        var path: String
        var problem: String
        var fixed = false
    }

    func run() throws {
        let given = home ?? FileSystem.homeDirectory()
        // sshd resolves the path first; so do we, so a symlinked home is judged by what it points to.
        guard let homeDirectory = FileSystem.resolved(given) else {
            throw CLIError("\(Terminal.safe(given)): \(FileSystem.errorText(errno))")
        }
        guard let homeStatus = FileSystem.status(homeDirectory), homeStatus.st_mode & S_IFMT == S_IFDIR else {
            throw CLIError("\(Terminal.safe(homeDirectory)): not a directory")
        }
        let owner = home == nil ? getuid() : homeStatus.st_uid
        var findings: [Finding] = []
        let sshDirectory = homeDirectory + "/.ssh"

        // sshd refuses authorized_keys when any directory up the path is writable by others.
        findings += checkPath(upTo: homeDirectory, owner: owner)

        guard let sshStatus = FileSystem.status(sshDirectory) else {
            Terminal.print("\(Terminal.safe(sshDirectory)): does not exist; nothing else to check.")
            try report(findings)
            return
        }
        if sshStatus.st_mode & S_IFMT == S_IFLNK {
            findings.append(Finding(path: sshDirectory, problem: "is a symbolic link; sshd and ssh expect a real directory"))
            try report(findings)
            return
        }
        findings += checkMode(
            sshDirectory, status: sshStatus, wanted: 0o700, forbidden: 0o077, owner: owner,
            why: "must be 0700 and yours, or ssh and sshd may refuse the keys inside")

        for name in listDirectory(sshDirectory).sorted() {
            let path = sshDirectory + "/" + name
            guard let status = FileSystem.status(path) else { continue }
            if name == "config" {
                findings += checkConfig(path, status: status, owner: owner)
                continue
            }
            if status.st_mode & S_IFMT == S_IFLNK {
                if name == "authorized_keys" {
                    findings.append(Finding(path: path, problem: "is a symbolic link; a link can point sshd at a file someone else controls"))
                }
                continue
            }
            guard status.st_mode & S_IFMT == S_IFREG else { continue }
            if name == "authorized_keys" || name == "authorized_keys2" {
                findings += checkMode(
                    path, status: status, wanted: 0o600, forbidden: 0o077, owner: owner,
                    why: "should be 0600 and yours: sshd's StrictModes ignores it when group or others can write it")
                findings += checkAuthorizedKeys(path)
            } else if name.hasSuffix(".pub") {
                findings += checkMode(
                    path, status: status, wanted: 0o644, forbidden: 0o022, owner: owner,
                    why: "should be 0644: others must not be able to change your public key")
            } else if let head = try? FileSystem.read(path, limit: PrivateKeyDocument.maximumLength),
                PrivateKeyDocument.looksLikePrivateKey(String(decoding: head.prefix(128), as: UTF8.self))
            {
                findings += checkMode(
                    path, status: status, wanted: 0o600, forbidden: 0o077, owner: owner,
                    why: "is a private key and must be 0600: ssh refuses private keys others can read")
                if !FileSystem.exists(path + ".pub") {
                    findings.append(writeMissingPublicKey(privatePath: path, bytes: head, owner: status))
                }
            }
        }
        try report(findings)
    }

    private func report(_ findings: [Finding]) throws {
        if findings.isEmpty {
            Terminal.print("No problems found.")
            return
        }
        for finding in findings {
            Terminal.print("\(Terminal.safe(finding.path)): \(finding.problem)\(finding.fixed ? " (fixed)" : "")")
        }
        let remaining = findings.filter { !$0.fixed }.count
        if remaining > 0 {
            if !fix { Terminal.print("Run keyfleet doctor --fix to repair what can be repaired.") }
            throw ExitCode(1)
        }
    }

    /// Each directory from `/` down to `directory` must not be group- or world-writable and must be owned
    /// by root or the user (sshd's `secure_path`); only directories inside the home are fixed.
    private func checkPath(upTo directory: String, owner: uid_t) -> [Finding] {
        var findings: [Finding] = []
        var path = ""
        let components = directory.split(separator: "/")
        for (index, component) in ([""] + components.map(String.init)).enumerated() {
            path = index == 0 ? "/" : (path == "/" ? "/" : path + "/") + component
            guard let status = FileSystem.status(path) else { continue }
            if status.st_uid != 0 && status.st_uid != owner {
                findings.append(
                    Finding(
                        path: path,
                        problem: "is owned by another user (uid \(status.st_uid)); sshd's StrictModes refuses "
                            + "authorized_keys below it"))
            }
            if status.st_mode & 0o022 != 0 && status.st_mode & S_ISVTX == 0 {
                var finding = Finding(path: path, problem: "is writable by group or others; sshd's StrictModes refuses authorized_keys below it")
                if fix, path == directory {
                    finding.fixed = FileSystem.changeMode(path, seen: status, to: status.st_mode & 0o7755)
                }
                findings.append(finding)
            }
        }
        return findings
    }

    private func checkMode(_ path: String, status: stat, wanted: mode_t, forbidden: mode_t, owner: uid_t, why: String) -> [Finding] {
        var findings: [Finding] = []
        if status.st_uid != owner {
            findings.append(Finding(path: path, problem: "is owned by uid \(status.st_uid), not by uid \(owner); \(why)"))
        }
        let mode = status.st_mode & 0o777
        if mode & forbidden != 0 {
            var finding = Finding(path: path, problem: "has mode \(octal(mode)); \(why)")
            if fix { finding.fixed = FileSystem.changeMode(path, seen: status, to: wanted) }
            findings.append(finding)
        }
        return findings
    }

    /// ssh reads `~/.ssh/config` only when it is owned by root or the user and neither group nor others can
    /// write it; otherwise it stops with "Bad owner or permissions" (OpenSSH readconf.c). It opens the file
    /// following a symbolic link, so the file the link points to is judged; a link is reported, never fixed
    /// through.
    private func checkConfig(_ path: String, status: stat, owner: uid_t) -> [Finding] {
        let why = "ssh refuses to run (\"Bad owner or permissions\") when ~/.ssh/config is not owned by you or root, or group or others can write it"
        var target = status
        var viaLink = ""
        if status.st_mode & S_IFMT == S_IFLNK {
            guard stat(path, &target) == 0 else { return [] }  // A dangling link: ssh finds no file and reads none.
            viaLink = " (through the symbolic link)"
        }
        guard target.st_mode & S_IFMT == S_IFREG else { return [] }
        var findings: [Finding] = []
        if target.st_uid != 0 && target.st_uid != owner {
            findings.append(Finding(path: path, problem: "is owned by uid \(target.st_uid)\(viaLink), not by uid \(owner) or root; \(why)"))
        }
        let mode = target.st_mode & 0o777
        if mode & 0o022 != 0 {
            var finding = Finding(path: path, problem: "has mode \(octal(mode))\(viaLink); \(why)")
            if fix, viaLink.isEmpty { finding.fixed = FileSystem.changeMode(path, seen: status, to: mode & ~0o022) }
            findings.append(finding)
        }
        return findings
    }

    private func checkAuthorizedKeys(_ path: String) -> [Finding] {
        guard let text = try? FileSystem.readText(path) else {
            return [Finding(path: path, problem: "cannot be read as text")]
        }
        return AuthorizedKeysFile.parse(text).compactMap { entry in
            // The error is already located ("line 3: ..."): it says the line number once.
            if case .failure(let error) = entry.result {
                return Finding(path: path, problem: "\(error.description); sshd ignores this line")
            }
            return nil
        }
    }

    private func writeMissingPublicKey(privatePath: String, bytes: [UInt8], owner: stat) -> Finding {
        var finding = Finding(path: privatePath, problem: "has no .pub file beside it; tools that look for FILE.pub will not find the public key")
        guard fix else { return finding }
        guard geteuid() == owner.st_uid else {
            // Root never writes into a directory a user owns: the user runs the repair.
            finding.problem += "; run keyfleet doctor --fix as its owner (uid \(owner.st_uid)) to write it"
            return finding
        }
        guard let document = try? PrivateKeyDocument(bytes: bytes) else { return finding }
        var key = document.info.publicKey
        if let decrypted = try? document.decrypt(passphrase: nil) { key = decrypted.publicKey }
        guard let key else {
            finding.problem += "; it is encrypted and holds no clear public key: run keyfleet pubkey FILE > FILE.pub"
            return finding
        }
        do {
            try FileSystem.writeAtomically(
                privatePath + ".pub", Array((key.openSSHLine + "\n").utf8), mode: 0o644, replace: false,
                owner: (owner.st_uid, owner.st_gid))
            finding.fixed = true
        } catch {
            finding.problem += "; writing it failed: \(error.message)"
        }
        return finding
    }

    private func listDirectory(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
