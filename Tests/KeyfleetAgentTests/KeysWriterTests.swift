import AuthorizedKeysCache
import Foundation
import Testing
import TestSupport

@testable import KeyfleetAgent

@Suite("Writing keys for sshd without following links or leaving partial files")
struct KeysWriterTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm19fmUn4mKUDFmcz6+/yGcwLitUDN5nxdvjjja0lm4"

    @Test("files mode: one file per login with keys, removed when the login has none or is gone; other files stay")
    func filesMode() throws {
        let work = try TemporaryDirectory()
        let directory = work.file("keys")
        let writer = KeysWriter(mode: .files, directory: directory)
        try writer.apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) keyfleet:a"], "deploy": ["\(Self.key) keyfleet:b"]]))
        #expect(try work.read("keys/root") == KeysWriter.filesHeader + "\(Self.key) keyfleet:a\n")
        #expect(FileManager.default.fileExists(atPath: work.file("keys/deploy")))
        try "keep me".write(toFile: work.file("keys/README.txt"), atomically: true, encoding: .utf8)
        try writer.apply(try AccessSet(version: 2, logins: ["root": []]))
        #expect(!FileManager.default.fileExists(atPath: work.file("keys/root")))
        #expect(!FileManager.default.fileExists(atPath: work.file("keys/deploy")))
        #expect(FileManager.default.fileExists(atPath: work.file("keys/README.txt")))
        let mode = try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int
        #expect(mode == 0o755)
    }

    @Test("command mode: the cache the lookup command reads, answering by fingerprint")
    func commandMode() throws {
        let work = try TemporaryDirectory()
        let pair = work.file("id")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "c", "-f", pair])
        let line = try work.read("id.pub").trimmingCharacters(in: .newlines)
        let fingerprint = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", pair + ".pub"]).text.split(separator: " ")[1]
        try KeysWriter(mode: .command, directory: work.file("cache")).apply(try AccessSet(version: 1, logins: ["root": [line, "\(Self.key) other"]]))
        let answer = Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: String(fingerprint))
        #expect(answer.status == 0)
        #expect(String(decoding: answer.output, as: UTF8.self) == line + "\n")
        let all = Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: nil)
        // Sorted by fingerprint, not in the answer's order: sshd's decision does not depend on the order.
        #expect(Set(String(decoding: all.output, as: UTF8.self).split(separator: "\n")) == [Substring(line), "\(Self.key) other"])
        let none = Lookup.answer(directory: work.file("cache"), login: "nobody", fingerprint: nil)
        #expect(none.status == 0 && none.output.isEmpty)
        #expect(Lookup.answer(directory: work.file("cache"), login: "../etc", fingerprint: nil).status == 1)
    }

    @Test("a symlink anywhere on the keys directory's path is refused and nothing is written through it")
    func symlinkedDirectory() throws {
        let work = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: work.file("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work.file("link"), withDestinationPath: work.file("elsewhere"))
        for directory in [work.file("link"), work.file("link/keys")] {
            #expect(throws: AgentError(.local, "")) {
                try KeysWriter(mode: .files, directory: directory).apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) a"]]))
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.file("elsewhere")).isEmpty)
    }

    @Test("a login file that is a symlink is replaced by a regular file; the link's target is untouched")
    func symlinkedFile() throws {
        let work = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: work.file("keys"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try "secret".write(toFile: work.file("target"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: work.file("keys/root"), withDestinationPath: work.file("target"))
        try KeysWriter(mode: .files, directory: work.file("keys")).apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) a"]]))
        #expect(try work.read("target") == "secret")
        let type = try FileManager.default.attributesOfItem(atPath: work.file("keys/root"))[.type] as? FileAttributeType
        #expect(type == .typeRegular)
    }

    @Test("a keys directory writable by others is refused")
    func looseDirectory() throws {
        let work = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: work.file("keys"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        #expect(throws: AgentError(.local, "")) {
            try KeysWriter(mode: .files, directory: work.file("keys")).apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) a"]]))
        }
    }

    @Test("the drop-in is exactly the lines sshd needs, and paths sshd would misread are refused")
    func dropIn() throws {
        let files = SSHDInstaller(mode: .files, keysDirectory: "/etc/ssh/keyfleet", reload: .none)
        #expect(try files.dropIn().hasSuffix("AuthorizedKeysFile .ssh/authorized_keys /etc/ssh/keyfleet/%u\n"))
        let command = SSHDInstaller(mode: .command, reload: .none)
        #expect(try command.dropIn().hasSuffix("AuthorizedKeysCommand /usr/bin/keyfleet-authorized-keys %u %f\nAuthorizedKeysCommandUser nobody\n"))
        for bad in ["relative", "/with space", "/with%u", "/with\"quote"] {
            #expect(throws: AgentError(.usage, "")) { try SSHDInstaller(mode: .files, keysDirectory: bad, reload: .none).dropIn() }
        }
    }

    @Test("the lookup cache has its own directory outside the agent's private state directory, where sshd's lookup user can reach it")
    func defaultCacheDirectory() throws {
        #expect(CacheFile.defaultDirectory == "/var/lib/keyfleet-authorized")
        #expect(HostAgentConfiguration.defaultKeysDirectory(.command) == CacheFile.defaultDirectory)
        #expect(HostAgentConfiguration(mode: .command).keysDirectory == CacheFile.defaultDirectory)
        #expect(!(CacheFile.defaultDirectory + "/").hasPrefix(AgentState.defaultDirectory + "/"))
        // The lookup's own default is the agent's, so the drop-in needs no --cache-dir.
        #expect(try SSHDInstaller(mode: .command, reload: .none).dropIn().contains("keyfleet-authorized-keys %u %f\n"))
    }

    @Test(
        "a file named like a login that the agent did not write stays, in files and command mode; so do other files",
        arguments: [DeliveryMode.files, .command])
    func unmanagedFilesStay(_ mode: DeliveryMode) throws {
        let work = try TemporaryDirectory()
        let directory = work.file("keys")
        let writer = KeysWriter(mode: mode, directory: directory)
        try writer.apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) keyfleet:a"], "deploy": ["\(Self.key) keyfleet:b"]]))
        let unmanaged = ["breakglass": "\(Self.key) admin's own\n", "README.txt": "keep me\n", "ops": ""]
        for (name, text) in unmanaged { _ = try work.write("keys/" + name, text, mode: 0o644) }
        // deploy's file goes (its login left), root's empties; the admin's files stay byte for byte.
        try writer.apply(try AccessSet(version: 2, logins: ["root": []]))
        #expect(!FileManager.default.fileExists(atPath: work.file("keys/root")))
        #expect(!FileManager.default.fileExists(atPath: work.file("keys/deploy")))
        for (name, text) in unmanaged { #expect(try work.read("keys/" + name) == text, "\(name)") }
    }

    @Test(
        "removing everything (the host was deleted) removes the agent's files and leftovers, and nothing else",
        arguments: [DeliveryMode.files, .command])
    func removeAll(_ mode: DeliveryMode) throws {
        let work = try TemporaryDirectory()
        let directory = work.file("keys")
        let writer = KeysWriter(mode: mode, directory: directory)
        #expect(try writer.removeAll().isEmpty, "a keys directory never written is nothing to remove")
        #expect(!FileManager.default.fileExists(atPath: directory))
        try writer.apply(try AccessSet(version: 1, logins: ["root": ["\(Self.key) keyfleet:a"], "deploy": ["\(Self.key) keyfleet:b"]]))
        _ = try work.write("keys/.root.123.tmp", "half a file", mode: 0o600)
        let unmanaged = ["breakglass": "\(Self.key) admin's own\n", "README.txt": "keep me\n"]
        for (name, text) in unmanaged { _ = try work.write("keys/" + name, text, mode: 0o644) }
        #expect(try writer.removeAll().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == unmanaged.keys.sorted())
        for (name, text) in unmanaged { #expect(try work.read("keys/" + name) == text, "\(name)") }
        // Again: nothing left to remove, nothing else touched.
        #expect(try writer.removeAll().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == unmanaged.keys.sorted())
    }

    @Test("removing everything refuses a keys directory that is a symlink or writable by others, and removes nothing")
    func removeAllRefusesUnsafeDirectory() throws {
        let work = try TemporaryDirectory()
        try FileManager.default.createDirectory(
            atPath: work.file("elsewhere"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        _ = try work.write("elsewhere/root", KeysWriter.filesHeader, mode: 0o644)
        try FileManager.default.createSymbolicLink(atPath: work.file("link"), withDestinationPath: work.file("elsewhere"))
        #expect(throws: AgentError(.local, "")) { try KeysWriter(mode: .files, directory: work.file("link")).removeAll() }
        #expect(chmod(work.file("elsewhere"), 0o777) == 0)
        #expect(throws: AgentError(.local, "")) { try KeysWriter(mode: .files, directory: work.file("elsewhere")).removeAll() }
        #expect(FileManager.default.fileExists(atPath: work.file("elsewhere/root")))
    }
}
