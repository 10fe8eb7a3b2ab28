import Foundation
import Testing
import TestSupport

/// The lookup sshd runs accepts exactly the login names the registry accepts (`LoginName`).
@Suite("keyfleet-authorized-keys checks the user name by the registry's rule")
struct LookupLoginNameE2ETests {
    @Test("a name the registry refuses is refused even when the cache holds a file of that name", arguments: ["a..b", "web..1", "a.."])
    func refusesDoubleDot(login: String) throws {
        // A cache the lookup trusts: a root-owned directory writable by root alone, so only root can make it.
        guard getuid() == 0 else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kf-lookup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(at: directory) }
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test"
        let text = "# keyfleet authorized-keys cache 2 sorted\nSHA256:x \(line)\n"
        for name in [login, "ab"] {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.appendingPathComponent(name).path)
        }
        let lookup = KeyfleetBinary.sibling("keyfleet-authorized-keys")
        let valid = try ExternalTool.run(lookup, ["--cache-dir", directory.path, "ab"])
        #expect(valid.status == 0 && valid.text.contains(line), "\(valid.stderr)")
        let refused = try ExternalTool.run(lookup, ["--cache-dir", directory.path, login])
        #expect(refused.status != 0, "\(login): \(refused.text)")
        #expect(!refused.text.contains("ssh-ed25519"), "\(refused.text)")
    }
}
