import ArgumentParser
import SSHKeys

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `-E sha256|md5`.
enum HashName: String, ExpressibleByArgument, CaseIterable {
    case sha256, md5

    var hash: FingerprintHash { self == .sha256 ? .sha256 : .md5 }
}

/// `keyfleet fingerprint`: the lines `ssh-keygen -l [-v] [-E md5] -f FILE` prints, byte for byte.
struct FingerprintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Show the fingerprint of every key in files, as ssh-keygen -l does.",
        discussion: """
            FILE is a public key in any format, a private key (FILE.pub is used when present, as ssh-keygen \
            does), an authorized_keys or known_hosts file, or - for standard input. A line that holds no key \
            is reported on stderr with its number and does not stop the others.
            """)

    @Option(name: .customShort("E"), help: "Fingerprint hash: sha256 or md5.")
    var hashName: HashName = .sha256

    private var hash: FingerprintHash { hashName.hash }

    @Flag(name: .short, help: "Also draw each key's randomart.")
    var verbose = false

    @Flag(help: "Print a JSON array instead of ssh-keygen's lines.")
    var json = false

    @Option(name: .customShort("f"), help: ArgumentHelp("Key file, or - for standard input, as ssh-keygen -l -f takes it.", valueName: "file"))
    var fileOptions: [String] = []

    @Argument(help: ArgumentHelp("Key files, or - for standard input.", valueName: "file"))
    var fileArguments: [String] = []

    /// The files named with -f, then the arguments.
    var files: [String] { fileOptions + fileArguments }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file (as -f FILE or as arguments)") }
    }

    /// One key found, with where and how to show it.
    struct Entry {
        var path: String
        var line: Int?
        var key: PublicKey
        /// Raw bytes as ssh-keygen would print them (before sanitising); nil means "no comment".
        var comment: [UInt8]?
        /// The line's own comment (or host/options field), for --json.
        var ownComment: [UInt8]? = nil
    }

    func run() throws {
        let sanitizer = OpenSSHTextSanitizer.fromEnvironment()
        var output: [UInt8] = []
        var jsonEntries: [JSON] = []
        var failed = false
        for path in files {
            var found = false
            var reportedLines = false
            let emit = { (entry: Entry) in
                found = true
                if json {
                    jsonEntries.append(jsonEntry(entry))
                } else {
                    appendLine(entry, sanitizer: sanitizer, to: &output)
                }
            }
            do {
                try fingerprintFile(path, emit: emit) { line, error in
                    failed = true
                    reportedLines = true
                    Terminal.write(output, to: STDOUT_FILENO)
                    output.removeAll(keepingCapacity: true)
                    Terminal.printError("\(Terminal.safe(path)): line \(line): \(error)")
                }
                if !found, !reportedLines {
                    failed = true
                    Terminal.write(output, to: STDOUT_FILENO)
                    output.removeAll(keepingCapacity: true)
                    Terminal.printError("\(Terminal.safe(path)): no public key found")
                }
            } catch {
                failed = true
                Terminal.write(output, to: STDOUT_FILENO)
                output.removeAll(keepingCapacity: true)
                Terminal.printError(error.message)
            }
            if output.count > 1 << 20 {
                Terminal.write(output, to: STDOUT_FILENO)
                output.removeAll(keepingCapacity: true)
            }
        }
        if json { output += Array((JSON.array(jsonEntries).text + "\n").utf8) }
        Terminal.write(output, to: STDOUT_FILENO)
        if failed { throw ExitCode(1) }
    }

    private func fingerprintFile(_ path: String, emit: (Entry) -> Void, badLine: (Int, KeyError) -> Void) throws(CLIError) {
        let bytes = try FileSystem.read(path)
        let firstLine = bytes.prefix(while: { $0 != 0x0A })
        let head = String(decoding: firstLine.prefix(200), as: UTF8.self)
        if path != "-", PublicKey.isPPKPublicOnly(bytes) {
            let key = try KeyError.located(in: path) { () throws(KeyError) in try PublicKey(ppkPublicOnly: bytes) }
            emit(Entry(path: path, key: key, comment: Self.ppkComment(bytes)))
            return
        }
        if path != "-", head.contains("PRIVATE KEY") || head.hasPrefix("PuTTY-User-Key-File-") {
            emit(try fingerprintPrivate(path, bytes: bytes))
            return
        }
        let trimmedHead = head.drop { $0 == " " || $0 == "\t" }
        if KeyInput.isArmoredPublicKey(trimmedHead) {
            let input = try KeyError.located(in: path) { () throws(KeyError) in try KeyInput.parse(bytes) }
            if case .publicKey(let key) = input {
                emit(Entry(path: path, key: key, comment: key.comment.isEmpty ? nil : Array(key.comment.utf8)))
            }
            return
        }
        // A PEM private key after other text (openssl rsa -text): ssh-keygen -l finds no key in it, as it reads
        // a private key only from a file whose first line names one. One line says so, not one per line of text.
        if let text = String(validating: bytes, as: UTF8.self), PrivateKeyDocument.hasPEMPrivateKeyAfterText(text) {
            var hasKey = false
            KeyListScanner().scan(bytes) { line in hasKey = hasKey || line.key != nil }
            guard hasKey else {
                throw CLIError(
                    "\(Terminal.safe(path)): the private key starts after other text; as ssh-keygen -l, fingerprint reads "
                        + "no key from such a file (keyfleet pubkey reads it)")
            }
        }
        var buffer = SSHKeygenLineBuffer()
        KeyListScanner(readingAsSSHKeygen: true).scan(bytes) { line in
            let comment = buffer.comment(for: line, in: bytes)
            if let key = line.key {
                let own = (line.comment ?? line.prefix).map { Array(bytes[$0]) }
                emit(Entry(path: path, line: line.number, key: key, comment: comment, ownComment: own))
            } else if let error = line.error {
                badLine(line.number, error)
            }
        }
    }

    /// ssh-keygen's `fingerprint_private`: the key and comment of FILE.pub when it loads, else the key's
    /// clear public part with the comment of the unencrypted key (or none).
    private func fingerprintPrivate(_ path: String, bytes: [UInt8]) throws(CLIError) -> Entry {
        let publicPath = path + ".pub"
        if let publicBytes = try? FileSystem.read(publicPath, limit: 1 << 20), let loaded = Self.firstBareKey(publicBytes) {
            let comment = loaded.comment.isEmpty ? Array(publicPath.utf8) : loaded.comment
            return Entry(path: path, key: loaded.key, comment: comment)
        }
        let document = try KeyError.located(in: path) { () throws(KeyError) in try PrivateKeyDocument(bytes: bytes) }
        var comment: [UInt8]? = document.info.commentBytes
        var key = document.info.publicKey
        if !document.info.isEncrypted, let decrypted = try? document.decrypt(passphrase: nil) {
            if document.info.format == .openSSH { comment = decrypted.commentBytes }
            if key == nil { key = decrypted.publicKey }
        }
        guard let key else {
            throw CLIError(
                "\(Terminal.safe(path)): the key is encrypted and its public key is not stored beside it (\(Terminal.safe(publicPath)) is missing)")
        }
        return Entry(path: path, key: key, comment: comment)
    }

    /// The `Comment` header's bytes of a .ppk file, as puttygen shows them (nil for none).
    static func ppkComment(_ bytes: [UInt8]) -> [UInt8]? {
        let prefix = Array("Comment: ".utf8)  // the first one: the two header lines before it cannot hold it
        guard let start = bytes.firstRange(of: prefix)?.upperBound else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != 0x0A, bytes[end] != 0x0D { end += 1 }
        var value = Array(bytes[start..<end])
        while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
        return value.isEmpty ? nil : value
    }

    /// The first line of a .pub file that is a bare key, and the rest of that line (as `sshkey_try_load_public`).
    static func firstBareKey(_ bytes: [UInt8]) -> (key: PublicKey, comment: [UInt8])? {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            let first = bytes[start..<end].first
            if start == end || first == UInt8(ascii: "#") || first == 0 { continue }
            if bytes[start..<end].starts(with: Array("-----BEGIN".utf8)) { return nil }
            if let (key, keyEnd) = try? PublicKey.readKeyText(bytes, from: start, end: end) {
                var commentEnd = keyEnd
                while commentEnd < end, bytes[commentEnd] != 0x0D { commentEnd += 1 }
                return (key, Array(bytes[keyEnd..<commentEnd]))
            }
        }
        return nil
    }

    private func appendLine(_ entry: Entry, sanitizer: OpenSSHTextSanitizer, to output: inout [UInt8]) {
        output += Array("\(entry.key.bits) \(entry.key.fingerprint(hash)) ".utf8)
        sanitizer.append(entry.comment ?? Array("no comment".utf8), to: &output)
        output += Array(" (\(entry.key.displayTypeName))\n".utf8)
        if verbose {
            output += Array(entry.key.randomart(hash).utf8)
            output.append(0x0A)
        }
    }

    private func jsonEntry(_ entry: Entry) -> JSON {
        var members: [(String, JSON)] = [("file", .string(entry.path))]
        if let line = entry.line { members.append(("line", .int(line))) }
        members += [
            ("bits", .int(entry.key.bits)),
            ("fingerprint", .string(entry.key.fingerprint(hash))),
            ("type", .string(entry.key.typeName)),
            // Bytes that are not UTF-8 are shown escaped, as on the line, rather than replaced.
            (
                "comment",
                (entry.line == nil ? entry.comment : entry.ownComment).map { bytes in
                    .string(String(validating: bytes, as: UTF8.self) ?? CommentPolicy.displayText(bytes))
                } ?? .null
            ),
        ]
        if verbose { members.append(("randomart", .string(entry.key.randomart(hash)))) }
        return .object(members)
    }
}

/// The comment `ssh-keygen -l` prints for a line of a key list, including what its `do_fingerprint` shows
/// for a line without a comment of its own: OpenSSH 9.2 does not reset its comment pointer between lines,
/// so such a line shows the bytes now at the previous comment's offset in the reused `getline` buffer, up to
/// the first NUL. This models that buffer (glibc's `getdelim`: 120 bytes at first, reallocated to at least
/// twice its size when a line does not fit) so the output stays byte-identical. When the buffer has grown
/// since the comment was set, ssh-keygen reads freed memory and prints garbage; we print "no comment".
/// `--json` always gives the line's own comment.
struct SSHKeygenLineBuffer {
    private var storage = [UInt8](repeating: 0, count: 120)
    private var commentOffset: Int?

    /// Puts the line in the buffer as getline and ssh-keygen leave it, and returns the comment to show:
    /// nil for "no comment".
    mutating func comment(for line: KeyListScanner.Line, in bytes: [UInt8]) -> [UInt8]? {
        let length = line.range.count
        let hasNewline = line.range.upperBound < bytes.count
        let used = length + (hasNewline ? 1 : 0)
        if used + 1 > storage.count {
            storage = [UInt8](repeating: 0, count: max(storage.count * 2, used + 1))
            commentOffset = nil  // the old pointer now dangles
        }
        storage.replaceSubrange(0..<length, with: bytes[line.range])
        storage[length] = 0  // the newline replaced by NUL, or getline's terminator
        if hasNewline { storage[length + 1] = 0 }
        let base = line.range.lowerBound
        if let prefix = line.prefix {
            commentOffset = prefix.lowerBound - base
            storage[prefix.upperBound - base] = 0
        }
        guard line.key != nil else { return nil }
        if let comment = line.comment { commentOffset = comment.lowerBound - base }
        guard let offset = commentOffset, offset < storage.count else { return nil }
        return Array(storage[offset...].prefix { $0 != 0 })
    }
}
