import Foundation
import Testing
import TestSupport

/// Makes keys with the real ssh-keygen for test inputs.
func makeKey(
    _ type: [String], in directory: TemporaryDirectory, name: String, comment: String = RandomInput.comment(),
    passphrase: String = "", extra: [String] = []
) throws -> String {
    try ExternalTool.runChecked("ssh-keygen", ["-q"] + type + ["-C", comment, "-N", passphrase, "-f", directory.file(name)] + extra)
    return try directory.read(name + ".pub").trimmingCharacters(in: .newlines)
}

let keyTypes: [[String]] = [
    ["-t", "ed25519"], ["-t", "ecdsa", "-b", "256"], ["-t", "ecdsa", "-b", "384"], ["-t", "ecdsa", "-b", "521"],
    ["-t", "rsa", "-b", "2048"], ["-t", "dsa"],
]

@Suite("keyfleet fingerprint is byte-identical to ssh-keygen -l")
struct FingerprintE2ETests {
    /// A random authorized_keys / known_hosts mixture, with options, host lists, hashed hosts, markers,
    /// comments, blank lines, CRLF endings and garbage.
    func mixedFile(in directory: TemporaryDirectory) throws -> String {
        var keys: [String] = []
        for index in 0..<8 { keys.append(try makeKey(keyTypes[index % keyTypes.count], in: directory, name: "k\(index)")) }
        let certificateSource = try makeKey(["-t", "ed25519"], in: directory, name: "cert")
        _ = certificateSource
        _ = try makeKey(["-t", "ed25519"], in: directory, name: "ca")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", directory.file("ca"), "-I", "id", "-n", "u", directory.file("cert.pub")])
        keys.append(try directory.read("cert-cert.pub").trimmingCharacters(in: .newlines))
        var lines: [String] = []
        for _ in 0..<60 {
            let key = keys.randomElement() ?? keys[0]
            let bare = key.split(separator: " ").prefix(2).joined(separator: " ")
            switch Int.random(in: 0..<12) {
            case 0: lines.append(key)
            case 1: lines.append("\(bare) c\(Int.random(in: 0...999))")
            case 2: lines.append("command=\"echo \\\"hi there\\\"\",no-pty,from=\"10.0.0.0/8\" \(key)")
            case 3: lines.append("host\(Int.random(in: 1...9)).example.com,10.0.0.\(Int.random(in: 1...254)) \(bare)")
            case 4:
                lines.append(
                    "|1|\(Data(RandomInput.bytes(20)).base64EncodedString())|\(Data(RandomInput.bytes(20)).base64EncodedString()) \(bare) trailing  ")
            case 5: lines.append("@cert-authority *.example.com \(bare)")
            case 6: lines.append("# a comment \(key)")
            case 7: lines.append("")
            case 8: lines.append("  \t\(key)\r")
            case 9: lines.append("h\(Int.random(in: 0...9)) \(bare) #not a comment")
            case 10: lines.append("garbage line \(Int.random(in: 0...100))")
            default: lines.append("\(bare)\t\(RandomInput.comment())\u{1}x")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("random mixed files, every flag combination", arguments: [[], ["-v"], ["-E", "md5"], ["-v", "-E", "md5"]])
    func mixed(flags: [String]) throws {
        let directory = try TemporaryDirectory()
        let content = try mixedFile(in: directory)
        let path = try directory.write("mixed", content)
        let expected = try ExternalTool.run("ssh-keygen", ["-l"] + flags + ["-f", path])
        let ours = try KeyfleetBinary.run(["fingerprint"] + flags + [path])
        #expect(ours.text == expected.text)
        #expect(!ours.text.isEmpty)
        // Only the garbage lines are reported, each with its number, and they make the exit status 1.
        // Split on LF bytes: a Swift Character joins "\r\n" into one.
        let garbage = content.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            .filter { $0.element.starts(with: "garbage".utf8) }.map { "keyfleet: \(path): line \($0.offset + 1): " }
        let reported = ours.stderr.split(separator: "\n").map(String.init)
        #expect(reported.count == garbage.count)
        #expect(zip(reported, garbage).allSatisfy { $0.hasPrefix($1) })
        #expect(ours.status == (garbage.isEmpty ? 0 : 1))
    }

    /// OpenSSH 9.2's ssh-keygen keeps the previous line's comment pointer for a line without a comment of
    /// its own (see SSHKeygenLineBuffer); with lines short enough that its getline buffer never grows, what it
    /// prints is deterministic, and ours must match it.
    @Test("lines without a comment of their own show what ssh-keygen shows", arguments: 0..<4)
    func staleComments(round: Int) throws {
        let directory = try TemporaryDirectory()
        var bares: [String] = []
        for index in 0..<3 {
            let key = try makeKey(["-t", "ed25519"], in: directory, name: "k\(index)")
            bares.append(key.split(separator: " ").prefix(2).joined(separator: " "))
        }
        var lines: [String] = []
        for _ in 0..<40 {
            let bare = bares.randomElement() ?? bares[0]
            switch Int.random(in: 0..<8) {
            case 0: lines.append(bare)
            case 1: lines.append("\(bare) #hash")
            case 2: lines.append("\(bare) c\(Int.random(in: 0...99999))")
            case 3: lines.append("no-pty \(bare)")
            case 4: lines.append("h\(Int.random(in: 0...9)),h2 \(bare)")
            case 5: lines.append("junk \(Int.random(in: 0...9))")
            case 6: lines.append("# comment")
            default: lines.append("")
            }
        }
        let path = try directory.write("short", lines.joined(separator: "\n") + "\n")
        let expected = try ExternalTool.run("ssh-keygen", ["-l", "-f", path])
        let ours = try KeyfleetBinary.run(["fingerprint", path])
        #expect(ours.text == expected.text)
    }

    @Test("every key type, private keys with and without .pub, encrypted, PEM", arguments: keyTypes)
    func privateKeys(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let comment = RandomInput.comment()
        _ = try makeKey(type, in: directory, name: "plain", comment: comment)
        _ = try makeKey(type, in: directory, name: "nopub", comment: comment)
        _ = try makeKey(type, in: directory, name: "encrypted", comment: comment, passphrase: "secret words")
        _ = try makeKey(type, in: directory, name: "emptycomment", comment: "")
        try FileManager.default.removeItem(atPath: directory.file("nopub.pub"))
        try FileManager.default.removeItem(atPath: directory.file("encrypted.pub"))
        var names = ["plain", "plain.pub", "nopub", "encrypted", "emptycomment", "emptycomment.pub"]
        if type[1] != "ed25519" {
            _ = try makeKey(type, in: directory, name: "pem", comment: comment, extra: ["-m", "PEM"])
            try FileManager.default.removeItem(atPath: directory.file("pem.pub"))
            names.append("pem")
        }
        for name in names {
            for flags in [[], ["-v", "-E", "md5"]] {
                let expected = try ExternalTool.runChecked("ssh-keygen", ["-l"] + flags + ["-f", directory.file(name)])
                let ours = try KeyfleetBinary.run(["fingerprint"] + flags + [directory.file(name)])
                #expect(ours.status == 0, "\(name): \(ours.stderr)")
                #expect(ours.text == expected.text, "\(name) \(flags)")
            }
        }
    }

    @Test("standard input, and comments in the C and UTF-8 locales")
    func standardInputAndLocales() throws {
        let directory = try TemporaryDirectory()
        let key = try makeKey(["-t", "ed25519"], in: directory, name: "k")
        let bare = key.split(separator: " ").prefix(2).joined(separator: " ")
        let text = "\(bare) é ж\u{85} \u{2028} tab\there \u{7F}\n\(bare) \u{1F600}\n"
        // xx_XX.UTF-8 is installed nowhere: both fall back to the C locale.
        for locale in ["C", "C.UTF-8", "xx_XX.UTF-8", "POSIX"] {
            let environment = ["LC_ALL": locale]
            let expected = try ExternalTool.run("ssh-keygen", ["-l", "-f", "-"], input: Array(text.utf8), environment: environment)
            let ours = try KeyfleetBinary.run(["fingerprint", "-"], input: Array(text.utf8), environment: environment)
            #expect(ours.text == expected.text, "locale \(locale)")
        }
    }

    @Test("a file with no key fails with one clear line; bad lines do not stop the others")
    func errors() throws {
        let directory = try TemporaryDirectory()
        let key = try makeKey(["-t", "ed25519"], in: directory, name: "k", comment: "good")
        let path = try directory.write("file", "garbage\n\(key)\nssh-ed25519 AAAA!!!!\n")
        let result = try KeyfleetBinary.run(["fingerprint", path])
        #expect(result.status == 1)
        #expect(result.text.contains("good (ED25519)"))
        let errorLines = result.stderr.split(separator: "\n")
        #expect(errorLines.count == 2)
        #expect(errorLines.allSatisfy { $0.hasPrefix("keyfleet: \(path): line ") })
        let empty = try directory.write("empty", "# nothing\n")
        let none = try KeyfleetBinary.run(["fingerprint", empty])
        #expect(none.status == 1)
        #expect(none.stderr == "keyfleet: \(empty): no public key found\n")
        let missing = try KeyfleetBinary.run(["fingerprint", directory.file("missing")])
        #expect(missing.status == 1)
        #expect(missing.stderr.split(separator: "\n").count == 1)
    }

    @Test("JSON output lists every key with its line")
    func json() throws {
        let directory = try TemporaryDirectory()
        let key = try makeKey(["-t", "ecdsa"], in: directory, name: "k", comment: "x \"quoted\"")
        let path = try directory.write("keys", "\(key)\n\n\(key)\n")
        let result = try KeyfleetBinary.run(["fingerprint", "--json", path])
        #expect(result.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [[String: Any]]
        #expect(decoded?.count == 2)
        #expect(decoded?.last?["line"] as? Int == 3)
        #expect(decoded?.first?["comment"] as? String == "x \"quoted\"")
        let expected = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", directory.file("k.pub")]).text
        #expect(expected.contains(decoded?.first?["fingerprint"] as? String ?? "missing"))
    }
}
