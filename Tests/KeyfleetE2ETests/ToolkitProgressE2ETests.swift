import Foundation
import Testing
import TestSupport

/// Long work shows a spinner with the elapsed time on a terminal's stderr, and nothing at all when stderr is
/// not a terminal. The real binary runs under a pseudo-terminal made by util-linux's `script`.
@Suite("keyfleet progress on a terminal")
struct ToolkitProgressE2ETests {
    /// `text` quoted for sh.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs `keyfleet arguments` with stdout and stderr on a pseudo-terminal (`redirect` is appended to the
    /// shell command, e.g. `2>FILE`), and returns what the terminal showed.
    static func onTerminal(_ arguments: [String], redirect: String = "") throws -> ToolResult {
        let command = ([KeyfleetBinary.path] + arguments).map(quoted).joined(separator: " ") + " " + redirect
        return try ExternalTool.run(
            "script", ["-qec", command, "/dev/null"],
            environment: ["KEYFLEET_PASSPHRASE": "", "KEYFLEET_NEW_PASSPHRASE": "", "TERM": "xterm"])
    }

    /// The spinner's frames for `label` in `text`: `\r<frame> <label>  <seconds>.<tenth> s`.
    static func frames(of label: String, in text: String) -> [String] {
        text.components(separatedBy: "\r").filter { frame in
            guard let first = frame.first, "|/-\\".contains(first), frame.dropFirst(2).hasPrefix(label + "  ") else { return false }
            return frame.range(of: #"  \d+\.\d s$"#, options: .regularExpression) != nil
        }
    }

    /// Whether the last spinner frame in `text` is followed by a run of spaces as wide as the widest frame,
    /// between carriage returns: the line is cleared.
    static func clearedAfterFrames(_ text: String, label: String) -> Bool {
        let pieces = text.components(separatedBy: "\r")
        guard let last = pieces.lastIndex(where: { $0.contains(label) }), last + 1 < pieces.count else { return false }
        let widest = frames(of: label, in: text).map(\.count).max() ?? 0
        let clearing = pieces[last + 1]
        return clearing.count >= widest && clearing.allSatisfy { $0 == " " }
    }

    @Test("keygen -t rsa -b 4096 on a terminal: a spinner with seconds, cleared before the normal output")
    func rsaSpinner() throws {
        let directory = try TemporaryDirectory()
        let result = try Self.onTerminal(["keygen", "-t", "rsa", "-b", "4096", "-N", "", "-C", "x", "-f", directory.file("k")])
        #expect(result.status == 0, "\(result.text)")
        let label = "Generating a 4096-bit RSA key"
        let frames = Self.frames(of: label, in: result.text)
        #expect(!frames.isEmpty, "no spinner on the terminal: \(result.text.debugDescription)")
        #expect(Self.clearedAfterFrames(result.text, label: label), "\(result.text.debugDescription)")
        // The normal output comes after the cleared line, whole.
        let cleared = try #require(result.text.range(of: String(repeating: " ", count: frames.map(\.count).max() ?? 1) + "\r"))
        #expect(
            result.text[cleared.upperBound...].hasPrefix("Your identification has been saved in \(directory.file("k"))"),
            "\(result.text.debugDescription)")
        try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", directory.file("k")])
    }

    @Test("convert to .ppk with 64 MiB of Argon2, then read it back: spinners while encrypting and decrypting")
    func argon2Spinner() throws {
        let directory = try TemporaryDirectory()
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "x", "-f", directory.file("k")])
        let convert = try Self.onTerminal([
            "convert", "--to", "ppk", "-N", "pw", "--ppk-param", "memory=65536,passes=1",
            "-o", directory.file("k.ppk"), directory.file("k"),
        ])
        #expect(convert.status == 0, "\(convert.text)")
        #expect(!Self.frames(of: "Encrypting the key", in: convert.text).isEmpty, "\(convert.text.debugDescription)")
        #expect(Self.clearedAfterFrames(convert.text, label: "Encrypting the key"))
        let pubkey = try Self.onTerminal(["pubkey", "-P", "pw", directory.file("k.ppk")])
        #expect(pubkey.status == 0, "\(pubkey.text)")
        #expect(!Self.frames(of: "Decrypting the key", in: pubkey.text).isEmpty, "\(pubkey.text.debugDescription)")
        let line = try ExternalTool.runChecked("ssh-keygen", ["-y", "-f", directory.file("k")]).text
        #expect(pubkey.text.contains(line.trimmingCharacters(in: .whitespacesAndNewlines)))
        // puttygen reads what was written under the spinner.
        let passphrase = try directory.write("pass", "pw\n")
        try ExternalTool.runChecked("puttygen", [directory.file("k.ppk"), "--old-passphrase", passphrase, "-L"])
    }

    @Test("stderr redirected to a file: nothing but the normal output, on the terminal or in the file")
    func notATerminal() throws {
        let directory = try TemporaryDirectory()
        let errors = directory.file("stderr")
        let result = try Self.onTerminal(
            ["keygen", "-t", "rsa", "-b", "4096", "-N", "", "-C", "x", "-f", directory.file("k")],
            redirect: "2>" + Self.quoted(errors))
        #expect(result.status == 0, "\(result.text)")
        #expect(try String(contentsOfFile: errors, encoding: .utf8) == "")
        #expect(!result.text.contains("Generating a 4096-bit RSA key"))
        #expect(result.text.hasPrefix("Generating public/private rsa key pair.\r\n"), "\(result.text.debugDescription)")
        #expect(result.text.contains("Your identification has been saved in"))

        // Without any terminal, as scripts run it: stderr stays empty too.
        let plain = try KeyfleetBinary.run([
            "convert", "--to", "ppk", "-N", "pw", "--ppk-param", "memory=65536,passes=1",
            "-o", directory.file("k.ppk"), directory.file("k"),
        ])
        #expect(plain.status == 0)
        #expect(plain.stderr == "")
        #expect(plain.stdout.isEmpty)
    }
}
