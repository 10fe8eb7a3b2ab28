import Foundation
import Testing
import TestSupport

@testable import KeyfleetAgent

/// A home for a made-up user: as root, a random uid and gid without an account (the writer is handed the
/// account); otherwise the test's own, so the tests also run unprivileged.
final class LegacyHome: @unchecked Sendable {
    let work: TemporaryDirectory
    let uid: uid_t
    let gid: gid_t
    let home: String

    init() throws {
        work = try TemporaryDirectory()
        // The user walks from / to the home with their own permissions.
        chmod(work.path, 0o755)
        let root = getuid() == 0
        uid = root ? uid_t.random(in: 40_000...59_999) : getuid()
        gid = root ? gid_t.random(in: 40_000...59_999) : getgid()
        home = work.file("home")
        try makeDirectory(home)
    }

    var account: LegacyAccount { LegacyAccount(uid: uid, gid: gid, home: home) }

    func makeDirectory(_ path: String, mode: mode_t = 0o755, owned: Bool = true) throws {
        guard mkdir(path, mode) == 0, chmod(path, mode) == 0 else { throw LegacyTestError(description: "mkdir \(path) failed") }
        if owned { chown(path, uid, gid) }
    }

    func writeFile(_ path: String, _ bytes: [UInt8], owned: Bool = true) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        if owned { chown(path, uid, gid) }
    }

    func bytes(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    func writer(_ others: [String: LegacyAccount] = [:], record: String? = nil) -> LegacyWriter {
        let accounts = others.merging(["alice": account]) { first, _ in first }
        return LegacyWriter(recordDirectory: record, accounts: { accounts[$0] })
    }
}

struct LegacyTestError: Error, CustomStringConvertible {
    let description: String
}

@Suite("Legacy mode: a block in ~/.ssh/authorized_keys, written as the user, refusing links", .serialized)
struct LegacyWriterTests {
    static let keyA = LegacyBlockTests.keyA
    static let keyB = LegacyBlockTests.keyB

    @Test("a missing ~/.ssh (0700) and authorized_keys (0600) are made, owned by the user; revoking removes the block only")
    func createAndRevoke() throws {
        let user = try LegacyHome()
        let writer = user.writer()
        #expect(try writer.apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]])).isEmpty)
        let ssh = user.status(user.home + "/.ssh")
        let file = user.status(user.home + "/.ssh/authorized_keys")
        #expect(ssh?.st_uid == user.uid && ssh?.st_gid == user.gid && (ssh?.st_mode ?? 0) & 0o7777 == 0o700)
        #expect(file?.st_uid == user.uid && file?.st_gid == user.gid && (file?.st_mode ?? 0) & 0o7777 == 0o600)
        #expect(user.bytes(user.home + "/.ssh/authorized_keys") == LegacyBlock.render([Self.keyA]))
        if getuid() == 0 { #expect(FilesystemIdentity.currentUID() == 0, "the thread is root again") }

        #expect(try writer.apply(try AccessSet(version: 2, logins: ["alice": []])).isEmpty)
        #expect(user.bytes(user.home + "/.ssh/authorized_keys") == [])
        // Nothing to write and no ~/.ssh: nothing is made.
        let other = try LegacyHome()
        #expect(try other.writer().apply(try AccessSet(version: 1, logins: ["alice": []])).isEmpty)
        #expect(other.status(other.home + "/.ssh") == nil)
    }

    @Test("the user's lines, in any encoding and line ending, stay byte for byte through grant, change and revoke")
    func unmanagedLinesKept() throws {
        let user = try LegacyHome()
        try user.makeDirectory(user.home + "/.ssh", mode: 0o700)
        let path = user.home + "/.ssh/authorized_keys"
        for finalNewline in [true, false] {
            let original = LegacyBlockTests.randomContent(finalNewline: finalNewline)
            try user.writeFile(path, original)
            chmod(path, 0o640)
            let normalized = finalNewline ? original : original + [0x0A]
            try user.writer().apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]]))
            #expect(user.bytes(path) == normalized + LegacyBlock.render([Self.keyA]))
            #expect((user.status(path)?.st_mode ?? 0) & 0o777 == 0o640, "the user's mode is kept")
            try user.writer().apply(try AccessSet(version: 2, logins: ["alice": [Self.keyB]]))
            #expect(user.bytes(path) == normalized + LegacyBlock.render([Self.keyB]))
            try user.writer().apply(try AccessSet(version: 3, logins: ["alice": []]))
            #expect(user.bytes(path) == normalized)
            #expect(user.status(path)?.st_uid == user.uid)
        }
    }

    @Test("~/.ssh as a symlink to another directory is refused; nothing is written there; other logins go on")
    func symlinkedSSHDirectory() throws {
        let user = try LegacyHome()
        let elsewhere = user.work.file("elsewhere")
        try user.makeDirectory(elsewhere, mode: 0o700)
        try FileManager.default.createSymbolicLink(atPath: user.home + "/.ssh", withDestinationPath: elsewhere)
        let bob = try LegacyHome()
        let refused = try user.writer(["bob": bob.account]).apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA], "bob": [Self.keyA]]))
        #expect(refused.keys.sorted() == ["alice"], "\(refused)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        #expect(bob.bytes(bob.home + "/.ssh/authorized_keys") == LegacyBlock.render([Self.keyA]))
    }

    @Test("authorized_keys as a symlink to a passwd-like file, or a hard link to one, is refused and the file untouched")
    func linkedFile() throws {
        for hard in [false, true] {
            let user = try LegacyHome()
            try user.makeDirectory(user.home + "/.ssh", mode: 0o700)
            let target = user.work.file("passwd")
            let contents = Array("root:x:0:0:root:/root:/bin/bash\n".utf8)
            try user.writeFile(target, contents, owned: hard)  // a hard link needs a file the user may link
            let path = user.home + "/.ssh/authorized_keys"
            if hard { link(target, path) } else { symlink(target, path) }
            let refused = try user.writer().apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]]))
            #expect(refused["alice"]?.contains(hard ? "hard link" : "symlink") == true, "\(refused)")
            #expect(user.bytes(target) == contents)
            #expect(user.status(path).map { $0.st_mode & S_IFMT } == (hard ? S_IFREG : S_IFLNK))
        }
    }

    @Test("a home not owned by the user is refused, and nothing is made in it")
    func foreignHome() throws {
        let user = try LegacyHome()
        chown(user.home, 0, 0)
        let stranger = LegacyAccount(uid: user.uid &+ 1, gid: user.gid, home: user.home)
        let writer = LegacyWriter(accounts: { $0 == "alice" ? stranger : nil })
        let refused = try writer.apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]]))
        #expect(refused["alice"] != nil)
        #expect(user.status(user.home + "/.ssh") == nil)
    }

    @Test("as root, the kernel checks the user's permissions: a home behind a directory only root may enter is refused", .enabled(if: getuid() == 0))
    func userPermissions() throws {
        let user = try LegacyHome()
        let locked = user.work.file("locked")
        try user.makeDirectory(locked, mode: 0o700, owned: false)
        try user.makeDirectory(locked + "/home", mode: 0o755)
        let account = LegacyAccount(uid: user.uid, gid: user.gid, home: locked + "/home")
        let refused = try LegacyWriter(accounts: { _ in account }).apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]]))
        #expect(refused["alice"]?.contains("Permission denied") == true, "\(refused)")
        #expect(user.status(locked + "/home/.ssh") == nil)
        #expect(FilesystemIdentity.currentUID() == 0)
    }

    @Test("a login with no account, or not a user name (from a decoded state file), is refused; the rest is written")
    func badLogins() throws {
        #expect(throws: AgentError(.malformedAnswer, "")) { try AccessSet(version: 1, logins: ["../../etc/shadow": [Self.keyA]]) }
        let user = try LegacyHome()
        // Past the answer's checks, as a corrupted state could once bring them: the writer refuses them itself.
        let decoded = AccessSet(
            uncheckedVersion: 1, logins: ["../../etc/shadow": [Self.keyA], "-g": [Self.keyA], "nobody-here": [Self.keyA], "alice": [Self.keyA]])
        let refused = try user.writer().apply(decoded)
        #expect(refused.keys.sorted() == ["-g", "../../etc/shadow", "nobody-here"], "\(refused)")
        #expect(user.bytes(user.home + "/.ssh/authorized_keys") == LegacyBlock.render([Self.keyA]))
    }

    @Test("a login the server no longer names loses its block, through the record in the state directory")
    func droppedLogin() throws {
        let user = try LegacyHome()
        let state = user.work.file("state")
        let writer = user.writer(record: state)
        try writer.apply(try AccessSet(version: 1, logins: ["alice": [Self.keyA]]))
        #expect(user.bytes(user.home + "/.ssh/authorized_keys") == LegacyBlock.render([Self.keyA]))
        #expect(try user.work.read("state/legacy-logins") == "alice\n")
        try writer.apply(try AccessSet(version: 2, logins: [:]))
        #expect(user.bytes(user.home + "/.ssh/authorized_keys") == [])
        #expect(try user.work.read("state/legacy-logins") == "")
    }

    @Test("symlinks swapped in for ~/.ssh and authorized_keys while writing never redirect a write")
    func swappedSymlinks() throws {
        let user = try LegacyHome()
        try user.makeDirectory(user.home + "/.ssh", mode: 0o700)
        let elsewhere = user.work.file("elsewhere")
        try user.makeDirectory(elsewhere, mode: 0o777)
        let target = user.work.file("target")
        let contents = Array("precious\n".utf8)
        try user.writeFile(target, contents)
        chmod(target, 0o666)
        let racer = Racer(home: user.home, elsewhere: elsewhere, target: target)
        let thread = Thread { racer.run() }
        thread.start()
        let writer = user.writer()
        var written = 0
        for round in 0..<400 {
            let refused = try writer.apply(try AccessSet(version: Int64(round), logins: ["alice": [round % 2 == 0 ? Self.keyA : Self.keyB]]))
            if refused.isEmpty { written += 1 }
        }
        racer.stop()
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        #expect(user.bytes(target) == contents)
        #expect(written > 0, "some writes got through between swaps")
    }
}

/// Swaps ~/.ssh for a symlink to another directory, and authorized_keys for a symlink to another file, in a
/// loop on its own thread, until stopped.
final class Racer: @unchecked Sendable {
    let home: String
    let elsewhere: String
    let target: String
    private let lock = NSLock()
    private var stopped = false
    private var finished = false

    init(home: String, elsewhere: String, target: String) {
        self.home = home
        self.elsewhere = elsewhere
        self.target = target
    }

    func run() {
        while !lock.withLock({ stopped }) {
            let ssh = home + "/.ssh"
            symlink(target, ssh + "/link")
            rename(ssh + "/link", ssh + "/authorized_keys")
            if rename(ssh, home + "/.ssh-aside") == 0 {
                symlink(elsewhere, ssh)
                usleep(50)
                unlink(ssh)
                rename(home + "/.ssh-aside", ssh)
            }
            usleep(50)
            unlink(ssh + "/authorized_keys")
        }
        lock.withLock { finished = true }
    }

    func stop() {
        lock.withLock { stopped = true }
        while !lock.withLock({ finished }) { usleep(1000) }
    }
}

@Suite("Legacy mode has no sshd drop-in")
struct LegacyInstallTests {
    @Test("the installer refuses legacy mode before reading or writing anything")
    func installRefused() {
        let installer = SSHDInstaller(sshdConfig: "/nonexistent/sshd_config", mode: .legacy, reload: .none)
        #expect(throws: AgentError(.usage, "")) { try installer.install() }
        #expect(throws: AgentError(.usage, "")) { try installer.dropIn() }
    }
}
