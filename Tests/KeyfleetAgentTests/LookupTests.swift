import AuthorizedKeysCache
import Foundation
import Testing
import TestSupport

/// The lookup trusts only a cache owned by root, never the user running it: these tests run as root, as
/// CI does, and make every cache directory and file root's explicitly (``rootCache(_:)``).
@Suite("keyfleet-authorized-keys: the sorted cache and its binary search")
struct LookupTests {
    /// A cache directory `path` owned by root, mode 0755; fails (rather than skips) when not run as root.
    static func rootCache(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try #require(chown(path, 0, 0) == 0, "the lookup trusts only root's cache: run the tests as root")
    }

    /// Writes a cache file owned by root, mode 0644.
    static func writeRootFile(_ path: String, _ text: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try #require(chmod(path, 0o644) == 0 && chown(path, 0, 0) == 0, "the lookup trusts only root's cache: run the tests as root")
    }

    @Test("random caches: every fingerprint, present or absent, gives exactly the lines a linear filter gives", arguments: 0..<20)
    func randomCaches(_ round: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        func fingerprint() -> String {
            "SHA256:" + String((0..<Int.random(in: 1...43, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
        }
        let pool = (0..<Int.random(in: 0...60, using: &generator)).map { _ in fingerprint() }
        var entries: [(fingerprint: String, line: String)] = []
        for index in 0..<Int.random(in: 0...300, using: &generator) where !pool.isEmpty {
            entries.append((pool.randomElement(using: &generator)!, "ssh-ed25519 AAAA\(index) keyfleet:k\(index)"))
        }
        let work = try TemporaryDirectory()
        try Self.rootCache(work.file("cache"))
        try Self.writeRootFile(work.file("cache/root"), CacheFile.render(entries))
        for wanted in pool + (0..<20).map({ _ in fingerprint() }) + ["SHA256:", "A", "~"] {
            let expected = entries.filter { $0.fingerprint == wanted }.map { $0.line + "\n" }.joined()
            let answer = Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: wanted)
            #expect(answer.status == 0, "\(round): \(answer.reason ?? "")")
            #expect(String(decoding: answer.output, as: UTF8.self) == expected, "\(round): \(wanted)")
        }
        let all = Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: nil)
        #expect(Set(String(decoding: all.output, as: UTF8.self).split(separator: "\n").map(String.init)) == Set(entries.map(\.line)))
    }

    @Test("a cache of the first format, a truncated one, or a line without a fingerprint is refused")
    func refusals() throws {
        let work = try TemporaryDirectory()
        try Self.rootCache(work.file("cache"))
        for text in [
            "# keyfleet authorized-keys cache 1\nSHA256:a ssh-ed25519 AAAA x\n",
            CacheFile.header + "\nSHA256:a ssh-ed25519 AAAA x",
            CacheFile.header + "\nnofingerprint\n",
        ] {
            try Self.writeRootFile(work.file("cache/root"), text)
            #expect(Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: "SHA256:a").status == 1, "\(text)")
        }
    }

    @Test("a cache directory or file owned by anyone but root, or writable by group or others, is refused")
    func ownership() throws {
        let work = try TemporaryDirectory()
        let cache = work.file("cache")
        let file = cache + "/root"
        let text = CacheFile.header + "\nSHA256:a ssh-ed25519 AAAA x\n"
        func status() -> Int32 { Lookup.answer(directory: cache, login: "root", fingerprint: "SHA256:a").status }
        try Self.rootCache(cache)
        try Self.writeRootFile(file, text)
        #expect(status() == 0)

        // Owned by nobody (65534), the user sshd runs the lookup as: anything running as nobody could plant keys.
        #expect(chown(cache, 65534, 65534) == 0)
        #expect(status() == 1, "a directory owned by nobody")
        #expect(chown(cache, 0, 0) == 0)
        #expect(chown(file, 65534, 65534) == 0)
        #expect(status() == 1, "a file owned by nobody")
        #expect(chown(file, 0, 0) == 0)
        #expect(status() == 0)

        for (path, mode) in [(cache, mode_t(0o775)), (cache, 0o757), (file, 0o664), (file, 0o646)] {
            #expect(chmod(path, mode) == 0)
            #expect(status() == 1, "\(path) with mode \(String(mode, radix: 8))")
            #expect(chmod(path, path == cache ? 0o755 : 0o644) == 0)
        }
        #expect(status() == 0)

        // A symlinked cache file is refused, whoever owns its target.
        try FileManager.default.removeItem(atPath: file)
        try Self.writeRootFile(work.file("target"), text)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: work.file("target"))
        #expect(status() == 1)
    }
}
