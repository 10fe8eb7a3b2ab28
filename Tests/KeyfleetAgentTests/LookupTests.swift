import AuthorizedKeysCache
import Foundation
import Testing
import TestSupport

@Suite("keyfleet-authorized-keys: the sorted cache and its binary search")
struct LookupTests {
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
        try FileManager.default.createDirectory(atPath: work.file("cache"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try CacheFile.render(entries).write(toFile: work.file("cache/root"), atomically: false, encoding: .utf8)
        chmod(work.file("cache/root"), 0o644)
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
        try FileManager.default.createDirectory(atPath: work.file("cache"), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        for text in [
            "# keyfleet authorized-keys cache 1\nSHA256:a ssh-ed25519 AAAA x\n",
            CacheFile.header + "\nSHA256:a ssh-ed25519 AAAA x",
            CacheFile.header + "\nnofingerprint\n",
        ] {
            try text.write(toFile: work.file("cache/root"), atomically: false, encoding: .utf8)
            chmod(work.file("cache/root"), 0o644)
            #expect(Lookup.answer(directory: work.file("cache"), login: "root", fingerprint: "SHA256:a").status == 1, "\(text)")
        }
    }
}
