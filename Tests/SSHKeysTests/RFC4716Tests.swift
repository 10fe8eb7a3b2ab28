import Foundation
import Testing
import TestSupport

@testable import SSHKeys

/// Keys and text shared by the RFC 4716, authorized_keys and known_hosts suites.
enum KeyTextFixtures {
    /// An Ed25519 key line made once with `ssh-keygen -q -t ed25519 -N '' -f k` (OpenSSH 9.2p1), comment
    /// set to `fixture`.
    static let ed25519Line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7MhIHYGbBdy6+ujFtvYJfAjvVdywyLvxbgiq7LgR1V fixture"
    /// The same key's blob in base64.
    static let ed25519Base64 = "AAAAC3NzaC1lZDI1NTE5AAAAIB7MhIHYGbBdy6+ujFtvYJfAjvVdywyLvxbgiq7LgR1V"

    static func ed25519() throws -> PublicKey { try PublicKey(openSSHLine: ed25519Line) }

    /// The `ssh-keygen -t` arguments of every key type ssh-keygen makes without hardware.
    static let keygenTypes: [[String]] = [
        ["-t", "ed25519"], ["-t", "ecdsa", "-b", "256"], ["-t", "ecdsa", "-b", "384"], ["-t", "ecdsa", "-b", "521"],
        ["-t", "rsa", "-b", "2048"], ["-t", "rsa", "-b", "3072"], ["-t", "dsa"],
    ]

    /// A fresh key from `ssh-keygen -q -N '' <type> -C comment -f dir/key`; returns the directory, the
    /// public key file's path and its line.
    static func generate(_ type: [String], comment: String, in directory: TemporaryDirectory, name: String = "key") throws
        -> (publicPath: String, privatePath: String, line: String)
    {
        let privatePath = directory.file(name)
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-N", ""] + type + ["-C", comment, "-f", privatePath])
        let line = try directory.read(name + ".pub").trimmingCharacters(in: .newlines)
        return (privatePath + ".pub", privatePath, line)
    }

    /// Comments meant to smuggle a second key or options into a line after a line break or look-alike.
    static let smugglingComments: [String] = [
        "a\nssh-ed25519 \(ed25519Base64) second",
        "a\rssh-ed25519 \(ed25519Base64) second",
        "a\r\nssh-ed25519 \(ed25519Base64) second",
        "a\u{0}ssh-ed25519 \(ed25519Base64) second",
        "a\u{2028}ssh-ed25519 \(ed25519Base64) second",
        "a\u{2029}ssh-ed25519 \(ed25519Base64) second",
        "a\u{85}ssh-ed25519 \(ed25519Base64) second",
        "a\ncommand=\"sh\" ssh-ed25519 \(ed25519Base64)",
        "a\u{2028}command=\"sh\" ssh-ed25519 \(ed25519Base64)",
        "a\u{85}no-pty,command=\"sh\" ssh-ed25519 \(ed25519Base64)",
        "tab\tinside", "escape\u{1B}[31mred", "del\u{7F}", "bidi\u{202E}txt.exe", "bom\u{FEFF}",
    ]

    /// Random comments for the RFC 4716 header: printable ASCII including quotes, backslashes, colons
    /// and dashes, and some non-ASCII letters; up to `maxLength` characters.
    static func headerComment(maxLength: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \"\\:-@._,=/éüж中😀")
        var text = String((0..<Int.random(in: 1...maxLength)).map { _ in alphabet.randomElement() ?? "x" })
        while text.hasPrefix(" ") { text.removeFirst() }
        while text.hasSuffix(" ") { text.removeLast() }
        return text.isEmpty ? "c" : text
    }
}

@Suite("RFC 4716")
struct RFC4716Tests {
    // MARK: Fixed vectors

    /// RFC 4716 section 3.6's shapes (quoted comment, continued comment, x- and Subject headers), with our
    /// fixture key as the body.
    static let readVectors: [(name: String, text: String, comment: String)] = [
        (
            "quoted comment",
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"1024-bit RSA, converted from OpenSSH by me@example.com\"\n"
                + "x-command: /home/me/bin/lock-in-guest.sh\n\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n",
            "1024-bit RSA, converted from OpenSSH by me@example.com"
        ),
        (
            "continued unquoted comment",
            "---- BEGIN SSH2 PUBLIC KEY ----\nSubject: me\nComment: This is my public key for use on \\\nservers which I don't like.\n"
                + "\(KeyTextFixtures.ed25519Base64.prefix(40))\n\(KeyTextFixtures.ed25519Base64.dropFirst(40))\n---- END SSH2 PUBLIC KEY ----\n",
            "This is my public key for use on servers which I don't like."
        ),
        (
            "tags in any case, CRLF, body in one long line, blank lines around",
            "\r\n\r\n---- BEGIN SSH2 PUBLIC KEY ----\r\nCOMMENT: \"x\"\r\nX-Private: \\\r\nmore\r\n\r\n"
                + "\(KeyTextFixtures.ed25519Base64)\r\n---- END SSH2 PUBLIC KEY ----\r\n\r\n",
            "x"
        ),
        (
            "CR line ends, no final line end, no comment",
            "---- BEGIN SSH2 PUBLIC KEY ----\r\(KeyTextFixtures.ed25519Base64)\r---- END SSH2 PUBLIC KEY ----",
            ""
        ),
        (
            "PuTTYgen escapes",
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"a \\\"quoted\\\\ comment\\\" \"\n"
                + "\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n",
            "a \"quoted\\ comment\" "
        ),
        (
            "unquoted backslashes are kept",
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: C:\\keys\\me.pub\n\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n",
            "C:\\keys\\me.pub"
        ),
        (
            "lone quote is not a quoted value",
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"\n\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n",
            "\""
        ),
    ]

    @Test("reads RFC 4716 shapes", arguments: readVectors.indices)
    func readsVectors(_ index: Int) throws {
        let vector = Self.readVectors[index]
        let key = try PublicKey(rfc4716: vector.text)
        #expect(key.isSameKey(as: try KeyTextFixtures.ed25519()), "\(vector.name)")
        #expect(key.comment == vector.comment, "\(vector.name)")
    }

    @Test("writes ssh-keygen's layout for a known key")
    func writesKnownLayout() throws {
        let key = try KeyTextFixtures.ed25519()
        #expect(
            key.rfc4716Text(comment: "256-bit ED25519, converted by root@host from OpenSSH")
                == "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"256-bit ED25519, converted by root@host from OpenSSH\"\n"
                + "\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n")
        #expect(
            key.rfc4716Text()
                == "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"fixture\"\n\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n")
        #expect(key.rfc4716Text(comment: "") == "---- BEGIN SSH2 PUBLIC KEY ----\n\(KeyTextFixtures.ed25519Base64)\n---- END SSH2 PUBLIC KEY ----\n")
    }

    static let badTexts: [(name: String, text: String, code: KeyError.Code)] = {
        let body = KeyTextFixtures.ed25519Base64
        let begin = "---- BEGIN SSH2 PUBLIC KEY ----\n", end = "---- END SSH2 PUBLIC KEY ----\n"
        return [
            ("empty", "", .invalidFormat),
            ("blank lines only", "\n \n\t\n", .invalidFormat),
            ("no begin marker", "Comment: x\n\(body)\n\(end)", .invalidFormat),
            ("private key marker", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n\(body)\n\(end)", .invalidFormat),
            ("no end marker", begin + body + "\n", .truncated),
            ("wrong end marker", begin + body + "\n---- END SSH2 PRIVATE KEY ----\n", .invalidFormat),
            ("no body", begin + "Comment: x\n" + end, .invalidFormat),
            ("text after the end", begin + body + "\n" + end + "ssh-ed25519 \(body)\n", .trailingData),
            ("two keys", begin + body + "\n" + end + begin + body + "\n" + end, .trailingData),
            ("header after body", begin + body + "\nComment: late\n" + end, .invalidFormat),
            ("continuation at the end", begin + "Comment: x \\", .truncated),
            ("continuation into nothing", begin + "Comment: x \\\n", .truncated),
            ("two comments", begin + "Comment: a\ncomment: b\n" + body + "\n" + end, .invalidFormat),
            ("empty tag", begin + ": x\n" + body + "\n" + end, .invalidFormat),
            ("tag with a space", begin + "My Comment: x\n" + body + "\n" + end, .invalidFormat),
            ("tag of 65 bytes", begin + String(repeating: "x", count: 65) + ": v\n" + body + "\n" + end, .invalidFormat),
            ("value over 1024 bytes", begin + "x-a: " + String(repeating: "v", count: 1025) + "\n" + body + "\n" + end, .tooLarge),
            ("missing padding", begin + body.dropLast() + "\n" + end, .invalidBase64),
            ("extra padding", begin + body + "=\n" + end, .invalidBase64),
            ("three padding characters", begin + body.dropLast(4) + "A===\n" + end, .invalidBase64),
            ("not base64", begin + body.replacingOccurrences(of: "A", with: "!") + "\n" + end, .invalidBase64),
            ("space inside the body", begin + body.prefix(8) + " " + body.dropFirst(8) + "\n" + end, .invalidBase64),
            ("trailing bytes in the blob", begin + Base64.encode((Base64.decode(body) ?? []) + [0]) + "\n" + end, .trailingData),
            ("truncated blob", begin + Base64.encode((Base64.decode(body) ?? []).dropLast(3)) + "\n" + end, .truncated),
            ("NUL in the comment", begin + "Comment: \"a\u{0}b\"\n" + body + "\n" + end, .forbiddenCharacter),
            ("U+2028 in the comment", begin + "Comment: \"a\u{2028}ssh-ed25519 \(body)\"\n" + body + "\n" + end, .forbiddenCharacter),
            ("U+0085 in the comment", begin + "Comment: a\u{85}command=\"sh\"\n" + body + "\n" + end, .forbiddenCharacter),
            ("tab in the comment", begin + "Comment: \"a\tb\"\n" + body + "\n" + end, .forbiddenCharacter),
            ("escape in the comment", begin + "Comment: \"\u{1B}[2J\"\n" + body + "\n" + end, .forbiddenCharacter),
            ("huge", begin + String(repeating: "AAAA", count: 40_000) + "\n" + end, .tooLarge),
        ]
    }()

    @Test("refuses malformed text", arguments: badTexts.indices)
    func refusesBadText(_ index: Int) {
        let vector = Self.badTexts[index]
        #expect(throws: KeyError(vector.code, ""), "\(vector.name)") { try PublicKey(rfc4716: vector.text) }
    }

    @Test("a comment can never become a second key or header: control characters are replaced when writing")
    func writerNeverWritesControlCharacters() throws {
        let key = try KeyTextFixtures.ed25519()
        for comment in KeyTextFixtures.smugglingComments {
            let text = key.rfc4716Text(comment: comment)
            #expect(text.split(separator: "\n").allSatisfy { $0.utf8.count <= 72 })
            #expect(text.components(separatedBy: "BEGIN").count == 2)
            #expect(!text.unicodeScalars.contains { !CommentPolicy.isAcceptable(scalar: $0) && $0 != "\n" })
            let back = try PublicKey(rfc4716: text)
            #expect(back.isSameKey(as: key))
            #expect(CommentPolicy.isAcceptable(back.comment.utf8))
        }
    }

    @Test("every truncation fails or gives the whole key; never a crash")
    func truncation() throws {
        let key = try KeyTextFixtures.ed25519()
        let text = Array(key.rfc4716Text(comment: String(repeating: "long comment: ----, \"quoted\" \\ ", count: 4)).utf8)
        for length in 0...text.count {
            // Only the final line feed may go.
            let complete = length >= text.count - 1
            do {
                let parsed = try PublicKey(rfc4716: String(decoding: text[..<length], as: UTF8.self))
                #expect(complete, "a prefix of \(length) bytes parsed")
                #expect(parsed.isSameKey(as: key))
            } catch {
                #expect(!complete, "the text less \(text.count - length) bytes failed: \(error)")
            }
        }
    }

    @Test("every single-bit flip is refused, or read as a key of the same type that only the flipped part differs in")
    func bitFlips() throws {
        let key = try KeyTextFixtures.ed25519()
        let text = Array(key.rfc4716Text().utf8)
        // The byte ranges of each line (without its line feed): begin marker, Comment header, body..., end marker.
        var lines: [Range<Int>] = []
        var start = 0
        for (index, byte) in text.enumerated() where byte == 0x0A {
            lines.append(start..<index)
            start = index + 1
        }
        let markers = [lines[0], lines[lines.count - 1]]
        let header = lines[1]
        let body = lines[2].lowerBound..<lines[lines.count - 2].upperBound
        #expect(String(decoding: text[header], as: UTF8.self).hasPrefix("Comment: "))

        var accepted = 0
        var refused = 0
        for index in text.indices {
            for bit in 0..<8 {
                var flipped = text
                flipped[index] ^= 1 << bit
                let place = "byte \(index) bit \(bit)"
                guard let read = try? PublicKey(rfc4716: String(decoding: flipped, as: UTF8.self)) else {
                    refused += 1
                    continue
                }
                accepted += 1
                // A marker that is not exactly a marker is never taken for one.
                #expect(!markers.contains { $0.contains(index) }, "\(place): a flipped marker was accepted")
                #expect(read.type == key.type, "\(place)")
                // The key comes only from the body, the comment only from the header.
                if !body.contains(index) { #expect(read.isSameKey(as: key), "\(place): the key changed") }
                if !header.contains(index) { #expect(read.comment == key.comment, "\(place): the comment changed") }
                // What was read is a key in its own right: written again, it reads back the same.
                let again = try PublicKey(rfc4716: read.rfc4716Text())
                #expect(again.isSameKey(as: read) && again.comment == read.comment, "\(place)")
            }
        }
        #expect(refused > 0 && accepted > 0, "refused \(refused), accepted \(accepted)")
    }

    // MARK: Wrapping

    @Test("long comments wrap within 72 bytes and read back", arguments: 0..<40)
    func wrapping(_ round: Int) throws {
        let key = try KeyTextFixtures.ed25519()
        let comment =
            round < 4
            ? [
                "a: b: c: d: " + String(repeating: "x: ", count: 40), String(repeating: "-", count: 200),
                String(repeating: "\\\"", count: 100), String(repeating: "中😀", count: 100),
            ][round]
            : KeyTextFixtures.headerComment(maxLength: 300)
        let text = key.rfc4716Text(comment: comment)
        let lines = text.split(separator: "\n").map { Array($0.utf8) }
        for line in lines { #expect(line.count <= 72, "\(String(decoding: line, as: UTF8.self))") }
        // ssh-keygen -i tells headers by ": " and "----": continuation lines must have neither.
        var continued = false
        for line in lines {
            if continued {
                let text = String(decoding: line, as: UTF8.self)
                #expect(!text.contains(": ") && !text.hasPrefix("----"), "\(text)")
            }
            continued = line.last == UInt8(ascii: "\\")
        }
        let back = try PublicKey(rfc4716: text)
        #expect(back.comment == comment)
        #expect(back.isSameKey(as: key))
    }

    // MARK: Real tools

    @Test("byte-identical to ssh-keygen -e; ssh-keygen -i reads ours", arguments: KeyTextFixtures.keygenTypes)
    func sshKeygenExport(_ type: [String]) throws {
        let directory = try TemporaryDirectory()
        let generated = try KeyTextFixtures.generate(type, comment: RandomInput.comment(), in: directory)
        let key = try PublicKey(openSSHLine: generated.line)

        let exported = try ExternalTool.runChecked("ssh-keygen", ["-e", "-f", generated.publicPath]).text
        let commentLine = try #require(exported.split(separator: "\n").first { $0.hasPrefix("Comment: \"") })
        let theirComment = String(commentLine.dropFirst("Comment: \"".count).dropLast())
        #expect(key.rfc4716Text(comment: theirComment) == exported)

        let read = try PublicKey(rfc4716: exported)
        #expect(read.isSameKey(as: key))
        #expect(read.comment == theirComment)

        // ssh-keygen -i on ours, with comments that wrap and try to confuse its header detection.
        let hostile = [
            "x: y ---- END SSH2 PUBLIC KEY ---- " + String(repeating: "-", count: 90), "THE END of it", " END ",
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", String(repeating: ": ", count: 60),
        ]
        for comment in [key.comment, KeyTextFixtures.headerComment(maxLength: 200)] + hostile {
            let path = try directory.write("ours.rfc", key.rfc4716Text(comment: comment))
            let imported = try ExternalTool.run("ssh-keygen", ["-i", "-f", path])
            #expect(imported.status == 0, "comment \(comment.debugDescription): \(imported.stderr)\n\(key.rfc4716Text(comment: comment))")
            #expect(imported.text == "\(key.typeName) \(Base64.encode(key.wireBytes))\n", "comment \(comment.debugDescription)")
        }
    }

    @Test("reads puttygen -O public (quotes and backslashes escaped); puttygen reads ours", arguments: ["ed25519", "rsa", "ecdsa"])
    func puttygen(_ type: String) throws {
        let directory = try TemporaryDirectory()
        // PuTTYgen does not wrap; a long comment with quotes and backslashes tests its escaping.
        let comment = KeyTextFixtures.headerComment(maxLength: 50) + " \"q\" \\ " + RandomInput.comment(maxLength: 60)
        let ppk = directory.file("key.ppk")
        try ExternalTool.runChecked("puttygen", ["-t", type, "-C", comment, "-o", ppk, "--new-passphrase", "/dev/null"])
        let exported = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public"]).text
        let openSSH = try ExternalTool.runChecked("puttygen", [ppk, "-O", "public-openssh"]).text
        let expected = try PublicKey(openSSHLine: openSSH)

        let read = try PublicKey(rfc4716: exported)
        #expect(read.isSameKey(as: expected))
        #expect(read.comment == comment)

        // PuTTYgen does not follow RFC 4716 continuation lines, so only a comment that fits on one line.
        let short = String(KeyTextFixtures.headerComment(maxLength: 40).prefix(40))
        let path = try directory.write("ours.rfc", read.rfc4716Text(comment: short))
        let back = try ExternalTool.runChecked("puttygen", [path, "-O", "public-openssh"]).text
        #expect(try PublicKey(openSSHLine: back).isSameKey(as: expected))
        #expect(back.hasSuffix(" " + short + "\n"))
    }
}
