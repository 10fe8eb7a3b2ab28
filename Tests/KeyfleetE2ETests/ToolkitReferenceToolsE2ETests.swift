import Foundation
import Testing
import TestSupport

/// Where other projects' key vectors found us disagreeing with ssh-keygen, PuTTYgen and OpenSSL, checked
/// against those tools on inputs made at test time.
@Suite("the toolkit reads what ssh-keygen and puttygen read, and refuses the rest by name")
struct ToolkitReferenceToolsE2ETests {
    /// Random comment bytes that are not text (one at least is not UTF-8), without NUL, line breaks, blanks or
    /// `#` (which would end or start a key line's comment).
    static func binaryComment() -> [UInt8] {
        let allowed = (UInt8(1)...UInt8(255)).filter { ![0x0A, 0x0D, 0x20, 0x09, 0x23].contains($0) }
        return (0..<Int.random(in: 1...20)).map { _ in allowed.randomElement() ?? 0x41 } + [0xFF]
    }

    /// `bytes` as a `printf %b` argument, so a shell passes them to a program unchanged.
    static func printfOctal(_ bytes: [UInt8]) -> String {
        bytes.map { "\\0" + String($0, radix: 8) }.joined()
    }

    @Test("a comment that is not UTF-8 is printed as ssh-keygen -l prints it", arguments: 0..<3)
    func binaryComments(round: Int) throws {
        let directory = try TemporaryDirectory()
        let comment = Self.binaryComment()
        let argument = "\"$(printf '%b' '\(Self.printfOctal(comment))')\""
        for (name, type) in [("ed", "ed25519"), ("ec", "ecdsa"), ("rsa", "rsa -b 2048")] {
            try ExternalTool.runChecked("sh", ["-c", "ssh-keygen -q -t \(type) -N '' -C \(argument) -f \(directory.file(name))"])
            try ExternalTool.runChecked("cp", [directory.file(name), directory.file("\(name)-nopub")])
            let line = try Data(contentsOf: URL(fileURLWithPath: directory.file("\(name).pub")))
            try (Data("no-pty ".utf8) + line).write(to: URL(fileURLWithPath: directory.file("\(name)-authorized")))
            for file in ["\(name)", "\(name).pub", "\(name)-nopub", "\(name)-authorized"] {
                let theirs = try ExternalTool.run("ssh-keygen", ["-l", "-f", directory.file(file)])
                let ours = try KeyfleetBinary.run(["fingerprint", directory.file(file)])
                #expect(theirs.status == 0, "\(file)")
                #expect(ours.stdout == theirs.stdout, "\(file): \(ours.text) / \(theirs.text)")
                #expect(ours.status == 0, "\(file): \(ours.stderr)")
            }
        }
        // PuTTY keeps such a comment too: shown as ssh-keygen shows the line puttygen exports.
        try ExternalTool.runChecked("sh", ["-c", "puttygen -q -t ed25519 -C \(argument) -o \(directory.file("p.ppk")) --new-passphrase /dev/null"])
        let exported = try ExternalTool.runChecked("puttygen", ["-L", directory.file("p.ppk")])
        try Data(exported.stdout).write(to: URL(fileURLWithPath: directory.file("p-exported.pub")))
        let theirs = try ExternalTool.runChecked("ssh-keygen", ["-l", "-f", directory.file("p-exported.pub")])
        let ours = try KeyfleetBinary.run(["fingerprint", directory.file("p.ppk")])
        #expect(ours.stdout == theirs.stdout, "\(ours.text) / \(theirs.text)")
        // A new passphrase keeps an OpenSSH key's comment bytes, as ssh-keygen -p does.
        #expect(try KeyfleetBinary.run(["passwd", "-N", "new pass phrase", "-f", directory.file("ed-nopub")]).status == 0)
        let reread = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", "new pass phrase", "-f", directory.file("ed-nopub")])
        #expect(reread.stdout.suffix(comment.count + 1) == ArraySlice(comment + [0x0A]))
    }

    @Test("known_hosts with broken lines: every good line as ssh-keygen -l -f prints it, every broken one named", arguments: 0..<3)
    func brokenKnownHosts(round: Int) throws {
        let directory = try TemporaryDirectory()
        var keys: [String] = []
        for (index, type) in [["-t", "ed25519"], ["-t", "ecdsa"], ["-t", "rsa", "-b", "2048"]].enumerated() {
            keys.append(try makeKey(type, in: directory, name: "k\(index)").split(separator: " ").prefix(2).joined(separator: " "))
        }
        var lines: [[UInt8]] = []
        var broken: [Int] = []
        for number in 1...40 {
            let key = keys.randomElement() ?? keys[0]
            let good: [UInt8]
            switch Int.random(in: 0..<10) {
            case 0: good = Array("host\(number).test,10.0.0.\(number) \(key)".utf8)
            case 1: good = Array("[h\(number)]:2222 \(key) comment \(number)".utf8) + [0] + Array("after NUL".utf8)
            case 2: good = Array("h\(number) \(key) ".utf8) + Array(repeating: UInt8(ascii: "c"), count: Int.random(in: 60_000...90_000))
            case 3: good = Array("@cert-authority *.test \(key)".utf8)
            default:
                let salt = Data(RandomInput.bytes(20)).base64EncodedString(), hash = Data(RandomInput.bytes(20)).base64EncodedString()
                good = Array("|1|\(salt)|\(hash) \(key)".utf8)
            }
            switch Int.random(in: 0..<4) {
            case 0:
                broken.append(number)
                let bad: [[UInt8]] = [
                    Array("h\(number)".utf8) + [0] + Array(" \(key)".utf8),
                    Array("h\(number) ssh-ed25519 AAAA!!!!".utf8),
                    Array("h\(number) \(key.dropLast(8))".utf8),
                    Array("h\(number) ssh-dss \(key.split(separator: " ")[1])".utf8),  // no key here is DSA
                    Array("garbage \(number)".utf8),
                ]
                lines.append(bad.randomElement() ?? bad[0])
            default:
                lines.append(good)
            }
        }
        let path = directory.file("known_hosts")
        try Data(Array(lines.joined(separator: [0x0A])) + [0x0A]).write(to: URL(fileURLWithPath: path))
        let theirs = try ExternalTool.run("ssh-keygen", ["-l", "-f", path])
        let ours = try KeyfleetBinary.run(["fingerprint", "-f", path])
        #expect(ours.stdout == theirs.stdout)
        let named = ours.stderr.split(separator: "\n").compactMap { line -> Int? in
            guard let marker = line.range(of: "known_hosts: line ") else { return nil }
            return Int(line[marker.upperBound...].prefix { $0.isNumber })
        }
        #expect(named == broken, "\(ours.stderr)")
        #expect(ours.status == (broken.isEmpty ? 0 : 1))
    }

    @Test(
        "a PEM key with text before or after its armour (openssl -text) is read as ssh-keygen reads it",
        arguments: [
            ["genrsa", "-traditional"], ["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
        ])
    func pemWithText(generate: [String]) throws {
        let directory = try TemporaryDirectory()
        let plain = directory.file("plain.pem")
        try ExternalTool.runChecked("openssl", generate + ["-out", plain] + (generate[0] == "genrsa" ? ["2048"] : []))
        let tool = generate[0] == "genrsa" ? "rsa" : "ec"
        try ExternalTool.runChecked("openssl", [tool, "-in", plain, "-text", "-out", directory.file("before.pem")])
        try ExternalTool.runChecked("openssl", ["pkey", "-in", plain, "-text", "-out", directory.file("after.pem")])
        for name in ["before.pem", "after.pem"] {
            let path = directory.file(name)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            let theirs = try ExternalTool.run("ssh-keygen", ["-y", "-f", path])
            let ours = try KeyfleetBinary.run(["pubkey", "-f", path])
            #expect(theirs.status == 0, "\(name): \(theirs.stderr)")
            #expect(ours.text == theirs.text, "\(name): \(ours.stderr)")
            let theirsList = try ExternalTool.run("ssh-keygen", ["-l", "-f", path])
            let oursList = try KeyfleetBinary.run(["fingerprint", path])
            #expect(oursList.text == theirsList.text, "\(name)")
            #expect((oursList.status == 0) == (theirsList.status == 0), "\(name)")
            #expect(oursList.stderr.split(separator: "\n").count <= 1, "\(name): \(oursList.stderr)")
            let passphrase = RandomInput.passphrase() + "12345"
            #expect(try KeyfleetBinary.run(["passwd", "-N", passphrase, "-f", path]).status == 0)
            #expect(try ExternalTool.run("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text == theirs.text, "\(name)")
        }
    }

    /// `openssl genpkey` writes PKCS#8 `PRIVATE KEY`; under a traditional label OpenSSL (so ssh-keygen) still
    /// reads it when the label's type is the key's.
    @Test("a PKCS#8 body under an RSA or EC PRIVATE KEY label is read as ssh-keygen reads it")
    func pkcs8UnderTraditionalLabel() throws {
        let directory = try TemporaryDirectory()
        let algorithms = [("RSA", ["-pkeyopt", "rsa_keygen_bits:2048"], "RSA"), ("EC", ["-pkeyopt", "ec_paramgen_curve:P-384"], "EC")]
        for (algorithm, options, label) in algorithms {
            let text = try ExternalTool.runChecked("openssl", ["genpkey", "-algorithm", algorithm] + options).text
            for target in ["RSA", "EC"] {
                let path = try directory.write(
                    "\(algorithm)-as-\(target).pem",
                    text.replacingOccurrences(of: "BEGIN PRIVATE KEY", with: "BEGIN \(target) PRIVATE KEY")
                        .replacingOccurrences(of: "END PRIVATE KEY", with: "END \(target) PRIVATE KEY"))
                let theirs = try ExternalTool.run("ssh-keygen", ["-y", "-f", path])
                let ours = try KeyfleetBinary.run(["pubkey", path])
                #expect((ours.status == 0) == (theirs.status == 0), "\(algorithm) as \(target): \(ours.stderr) / \(theirs.stderr)")
                #expect(ours.text == theirs.text, "\(algorithm) as \(target)")
                #expect(theirs.status == 0 || target != label, "\(algorithm) as \(target)")
                if ours.status != 0 {
                    #expect(ours.stderr.split(separator: "\n").count == 1)
                    #expect(ours.stderr.contains("holds a PKCS#8"), "\(ours.stderr)")
                }
            }
        }
    }

    @Test("a PKCS#1 key of a version that does not exist is refused, and not called multi-prime")
    func wrongPKCS1Version() throws {
        let directory = try TemporaryDirectory()
        let text = try ExternalTool.runChecked("openssl", ["genrsa", "-traditional", "2048"]).text
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var der = try #require(Data(base64Encoded: body))
        #expect(der[4] == 0x02 && der[5] == 0x01 && der[6] == 0x00)
        der[6] = UInt8.random(in: 2...9)
        let path = try directory.write(
            "bad.pem",
            "-----BEGIN RSA PRIVATE KEY-----\n\(der.base64EncodedString(options: .lineLength64Characters))\n-----END RSA PRIVATE KEY-----\n")
        // OpenSSL 3 (so ssh-keygen) reads such a key as if it were version 0; it is malformed, and refused here.
        let ours = try KeyfleetBinary.run(["pubkey", path])
        #expect(ours.status == 1)
        #expect(ours.stderr == "keyfleet: \(path): the PKCS#1 RSA private key has version \(der[6]); only 0 (two primes) and 1 (multi-prime) exist\n")
    }

    @Test("Ed448 .ppk files are refused in one line that names the file and Ed448")
    func ed448() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("e.ppk")
        try ExternalTool.runChecked("puttygen", ["-q", "-t", "ed448", "-o", path, "--new-passphrase", "/dev/null"])
        #expect(try ExternalTool.runChecked("puttygen", ["-l", path]).text.hasPrefix("ssh-ed448 448 "))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let publicOnly = try directory.write("e-public.ppk", lines.prefix { !$0.hasPrefix("Private-Lines") }.joined(separator: "\n") + "\n")
        for file in [path, publicOnly] {
            for command in [["fingerprint"], ["pubkey"], ["inspect"], ["convert", "--to", "openssh"], ["passwd", "-N", "x"]] {
                let result = try KeyfleetBinary.run(command + ["-f", file])
                #expect(result.status == 1, "\(command)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(command): \(result.stderr)")
                #expect(result.stderr.hasPrefix("keyfleet: \(file): "), "\(command): \(result.stderr)")
                #expect(result.stderr.contains("Ed448 keys (ssh-ed448) are not supported"), "\(command): \(result.stderr)")
            }
        }
    }

    @Test(
        "public-only .ppk files are read as puttygen reads them",
        arguments: [["-t", "ed25519"], ["-t", "ecdsa", "-b", "384"], ["-t", "rsa", "-b", "2048"]])
    func publicOnlyPPK(type: [String]) throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("k.ppk")
        let passFile = try directory.write("pass", RandomInput.passphrase() + "\n")
        let comment = RandomInput.comment()
        try ExternalTool.runChecked(
            "puttygen",
            ["-q"] + type + [
                "-C", comment, "-o", path, "--new-passphrase", passFile,
                "--ppk-param", "version=3,memory=64,passes=1",
            ])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let publicOnly = try directory.write("public.ppk", lines.prefix { !$0.hasPrefix("Key-Derivation") }.joined(separator: "\n") + "\n")
        let expectedLine = try ExternalTool.runChecked("puttygen", ["-L", publicOnly]).text
        #expect(expectedLine == (try ExternalTool.runChecked("puttygen", ["-L", path]).text))
        #expect(try KeyfleetBinary.run(["convert", "--to", "openssh", publicOnly]).text == expectedLine)
        let fingerprint = try ExternalTool.runChecked("puttygen", ["-l", publicOnly]).text.split(separator: " ")[2]
        let ours = try KeyfleetBinary.run(["fingerprint", publicOnly])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(ours.text.split(separator: " ")[1] == fingerprint.trimmingCharacters(in: .newlines))
        #expect(ours.text.contains(" \(comment) ("))
        let inspected = try KeyfleetBinary.run(["inspect", "--json", publicOnly])
        #expect(inspected.text.contains("\"public key\""))
        // It holds no private key: the commands that need one say so in one line.
        let pubkey = try KeyfleetBinary.run(["pubkey", publicOnly])
        #expect(pubkey.status == 1)
        #expect(pubkey.stderr.split(separator: "\n").count == 1)
    }

    @Test("error hints name options that exist: convert says --to, keygen --format")
    func hints() throws {
        let directory = try TemporaryDirectory()
        _ = try makeKey(["-t", "ed25519"], in: directory, name: "k")
        let convert = try KeyfleetBinary.run(["convert", "--to", "pem", directory.file("k")])
        #expect(convert.status == 1)
        #expect(convert.stderr.contains("--to pkcs8") && !convert.stderr.contains("--format"), "\(convert.stderr)")
        let ppk = try KeyfleetBinary.run(["convert", "--to", "ppk", "--ppk-param", "version=2", "-N", "x", directory.file("k")])
        #expect(ppk.stderr.contains("--to ppk2") && !ppk.stderr.contains("--format"), "\(ppk.stderr)")
        let keygen = try KeyfleetBinary.run(["keygen", "-t", "ed25519", "--format", "pem", "-N", "", "-f", directory.file("n")])
        #expect(keygen.stderr.contains("--format pkcs8"), "\(keygen.stderr)")
        // Every option a hint names is one the command takes.
        for (command, stderr) in [("convert", convert.stderr), ("convert", ppk.stderr), ("keygen", keygen.stderr)] {
            let help = try KeyfleetBinary.run([command, "--help"]).text
            for option in stderr.split(separator: " ").filter({ $0.hasPrefix("--") }) {
                #expect(help.contains(option.trimmingCharacters(in: .punctuationCharacters.subtracting(["-"]))), "\(command): \(option)")
            }
        }
    }

    @Test("DSA: passwd works on every format that holds DSA keys, and the reference tools open the result")
    func dsaPasswd() throws {
        let directory = try TemporaryDirectory()
        let first = RandomInput.passphrase() + "12345"
        _ = try makeKey(["-t", "dsa"], in: directory, name: "openssh", passphrase: first)
        _ = try makeKey(["-t", "dsa"], in: directory, name: "pem", passphrase: first, extra: ["-m", "PEM"])
        let passFile = try directory.write("first", first + "\n")
        for version in ["2", "3"] {
            try ExternalTool.runChecked(
                "puttygen",
                [
                    "-q", "-t", "dsa", "-o", directory.file("v\(version).ppk"), "--new-passphrase", passFile,
                    "--ppk-param", "version=\(version)" + (version == "3" ? ",memory=64,passes=1" : ""),
                ])
        }
        for name in ["openssh", "pem", "v2.ppk", "v3.ppk"] {
            let path = directory.file(name)
            let second = RandomInput.passphrase() + "67890"
            let changed = try KeyfleetBinary.run(["passwd", "-P", first, "-N", second, "-f", path])
            #expect(changed.status == 0, "\(name): \(changed.stderr)")
            let expected = try KeyfleetBinary.run(["pubkey", "-P", second, path]).text
            #expect(!expected.isEmpty, "\(name)")
            if name.hasSuffix(".ppk") {
                let secondFile = try directory.write("second", second + "\n")
                let empty = try directory.write("empty", "")
                let out = directory.file("exported-\(name)")
                try ExternalTool.runChecked(
                    "puttygen", [path, "-O", "private-openssh", "--old-passphrase", secondFile, "--new-passphrase", empty, "-o", out])
                let exported = try ExternalTool.runChecked("ssh-keygen", ["-y", "-f", out]).text
                let exportedKey = exported.trimmingCharacters(in: .newlines).split(separator: " ").prefix(2)
                #expect(exportedKey == expected.trimmingCharacters(in: .newlines).split(separator: " ").prefix(2), "\(name)")
                let stale = try ExternalTool.run(
                    "puttygen", [path, "-O", "private-openssh", "--old-passphrase", passFile, "--new-passphrase", empty, "-o", out + "-old"])
                #expect(stale.status != 0, "\(name)")
                #expect(try directory.read(name).hasPrefix("PuTTY-User-Key-File-\(name.dropFirst().prefix(1)):"))
            } else {
                let theirs = try ExternalTool.run("ssh-keygen", ["-y", "-P", second, "-f", path])
                #expect(theirs.status == 0, "\(name): \(theirs.stderr)")
                let theirsKey = theirs.text.trimmingCharacters(in: .newlines).split(separator: " ").prefix(2)
                #expect(theirsKey == expected.trimmingCharacters(in: .newlines).split(separator: " ").prefix(2), "\(name)")
                #expect(try directory.read(name).hasPrefix(name == "pem" ? "-----BEGIN DSA PRIVATE KEY-----" : "-----BEGIN OPENSSH"))
            }
            // And off again.
            #expect(try KeyfleetBinary.run(["passwd", "-P", second, "-N", "", "-f", path]).status == 0, "\(name)")
            #expect(try KeyfleetBinary.run(["pubkey", path], environment: ["KEYFLEET_PASSPHRASE": ""]).text == expected, "\(name)")
        }
    }
}
