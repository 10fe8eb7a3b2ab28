// libFuzzer entry point for the SSHKeys parsers. Built and run by scripts/fuzz.sh; see Fuzz/Package.swift.
//
// Each input goes to one group of parsers. `FUZZ_TARGET` (public, private, authorized_keys, known_hosts)
// picks the group and the whole input is fed to it; with `FUZZ_TARGET` unset or `all`, the first byte picks
// the group and the rest is the input.
//
// Parsers may throw on anything; they must never trap, hang or read out of bounds. What parsed is rendered
// again and parsed back, and must come back equal: when it does not, `roundTripFailed` traps on purpose,
// which is how a libFuzzer target reports a bug. That is the one deliberate trap in this package.
import Glibc
import SSHKeys

/// The parser groups, in first-byte order for `all`.
enum Target: String, CaseIterable {
    case publicKey = "public"
    case privateKey = "private"
    case authorizedKeys = "authorized_keys"
    case knownHosts = "known_hosts"
}

/// The group chosen by `FUZZ_TARGET`, or nil to choose by the first byte.
let selectedTarget: Target? = {
    guard let raw = getenv("FUZZ_TARGET") else { return nil }
    let name = String(cString: raw)
    if name.isEmpty || name == "all" { return nil }
    guard let target = Target(rawValue: name) else {
        printError("keyfleet-fuzz: unknown FUZZ_TARGET \"\(name)\" (public, private, authorized_keys, known_hosts, all)")
        exit(2)
    }
    return target
}()

/// The passphrase scripts/fuzz.sh encrypts the seed keys with, so that decryption is reached (ssh-keygen
/// wants at least five characters for PEM).
let passphrase = Array("fuzzing".utf8)

/// The program's entry point: hands the command line to libFuzzer's driver with ``fuzz(_:_:)`` as the
/// target. (SwiftPM gives every executable its own `main`, so libFuzzer's `main` is not the one linked.)
@main
enum FuzzMain {
    static func main() {
        _ = selectedTarget  // an unknown FUZZ_TARGET stops here, not inside the first run
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzz))
    }
}

/// libFuzzer's driver (`int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*)(const uint8_t *, size_t))`).
@_extern(c, "LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// One input: libFuzzer calls this many times a second.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    let target: Target
    let input: ArraySlice<UInt8>
    if let selectedTarget {
        target = selectedTarget
        input = bytes[...]
    } else {
        guard let first = bytes.first else { return 0 }
        target = Target.allCases[Int(first) % Target.allCases.count]
        input = bytes.dropFirst()
    }
    switch target {
    case .publicKey: fuzzPublicKey(Array(input))
    case .privateKey: fuzzPrivateKey(Array(input))
    case .authorizedKeys: fuzzAuthorizedKeys(Array(input))
    case .knownHosts: fuzzKnownHosts(Array(input))
    }
    return 0
}

// MARK: - The groups

func fuzzPublicKey(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let key = try? PublicKey(openSSHLine: text) { checkPublicKey(key, from: "openSSHLine") }
    if let key = try? PublicKey(wireBytes: bytes) { checkPublicKey(key, from: "wireBytes") }
    if let key = try? PublicKey(rfc4716: text) {
        checkPublicKey(key, from: "rfc4716")
        let again = reparse("rfc4716Text", of: key) { () throws(KeyError) in try PublicKey(rfc4716: key.rfc4716Text()) }
        // Comments over RFC 4716's 1024 bytes are cut to fit; nothing else may change.
        expect(
            again.isSameKey(as: key) && key.comment.hasPrefix(again.comment),
            "rfc4716Text of a parsed key parses to another key", key.rfc4716Text())
    }
    if let key = try? PublicKey(pem: text) {
        checkPublicKey(key, from: "pem")
        if let pem = try? key.pkcs8PEM() {
            let again = reparse("pkcs8PEM", of: key) { () throws(KeyError) in try PublicKey(pem: pem) }
            expect(again.isSameKey(as: key), "pkcs8PEM of a parsed key parses to another key", pem)
        }
        if let pem = try? key.pkcs1PEM() {
            let again = reparse("pkcs1PEM", of: key) { () throws(KeyError) in try PublicKey(pem: pem) }
            expect(again.isSameKey(as: key), "pkcs1PEM of a parsed key parses to another key", pem)
        }
    }
}

func fuzzPrivateKey(_ bytes: [UInt8]) {
    guard let document = try? PrivateKeyDocument(bytes: bytes) else { return }
    let info = document.info
    if let key = info.publicKey { checkPublicKey(key, from: "PrivateKeyInfo.publicKey") }
    guard isCheapToDecrypt(info), let key = try? document.decrypt(passphrase: passphrase) else { return }
    if let clear = info.publicKey {
        expect(clear.isSameKey(as: key.publicKey), "a decrypted key differs from the public key stored beside it", key.publicKey.openSSHLine)
    }
    checkPublicKey(key.publicKey, from: "PrivateKey.publicKey")
    // Written again unencrypted, it must read back as the same key.
    guard let text = try? key.serialized(as: PrivateKeyEncoding(format: .openSSH)) else { return }
    let again: PrivateKey
    do throws(KeyError) {
        again = try PrivateKeyDocument(text: text).decrypt(passphrase: nil)
    } catch {
        roundTripFailed("serialized(as: .openSSH) of a decrypted key does not parse: \(error)", text)
    }
    expect(
        again.material == key.material && again.comment == key.comment,
        "serialized(as: .openSSH) of a decrypted key parses to another key", text)
}

func fuzzAuthorizedKeys(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let entry = try? AuthorizedKey(line: text) { checkAuthorizedKey(entry) }
    let parsed = AuthorizedKeysFile.parse(text).compactMap { try? $0.result.get() }
    for entry in parsed { checkAuthorizedKey(entry) }
    let rendered = AuthorizedKeysFile.render(parsed)
    let again = AuthorizedKeysFile.parse(rendered)
    expect(
        again.count == parsed.count && zip(again, parsed).allSatisfy { (try? $0.result.get()) == $1 },
        "AuthorizedKeysFile.render of parsed lines parses to other lines", rendered)
    scanKeyList(bytes)
}

func fuzzKnownHosts(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    if let entry = try? KnownHost(line: text) { checkKnownHost(entry) }
    let parsed = KnownHostsFile.parse(text).compactMap { try? $0.result.get() }
    for entry in parsed { checkKnownHost(entry) }
    let rendered = KnownHostsFile.render(parsed)
    let again = KnownHostsFile.parse(rendered)
    expect(
        again.count == parsed.count && zip(again, parsed).allSatisfy { (try? $0.result.get()) == $1 },
        "KnownHostsFile.render of parsed lines parses to other lines", rendered)
    scanKeyList(bytes)
}

// MARK: - Invariants

/// Whether decrypting costs little enough for fuzzing: the library accepts up to 2^20 bcrypt rounds,
/// 10^7 PBKDF2 iterations and 1 GiB of Argon2 memory, each far too slow for many runs a second.
func isCheapToDecrypt(_ info: PrivateKeyInfo) -> Bool {
    guard info.isEncrypted else { return true }
    let rounds = info.kdfRounds ?? 1
    switch info.kdf?.lowercased() ?? "" {
    case "bcrypt": return rounds <= 4
    case let kdf where kdf.hasPrefix("argon2"):
        let memory = info.kdfParameters["memory"].flatMap { Int($0) } ?? Int.max
        return rounds <= 2 && memory <= 1024
    default: return rounds <= 2048  // PBKDF2 iterations (ssh-keygen's PKCS#8 default), MD5 and SHA-1 KDFs
    }
}

/// A parsed public key renders to lines that parse back to the same key.
func checkPublicKey(_ key: PublicKey, from parser: String) {
    let line = key.openSSHLine
    let again = reparse("openSSHLine (key from \(parser))", of: key) { () throws(KeyError) in try PublicKey(openSSHLine: line) }
    // The line format cannot carry blanks around a comment (readers trim them), so compare trimmed comments.
    expect(
        again.isSameKey(as: key) && again.comment == trimmedBlanks(key.comment),
        "openSSHLine of a key from \(parser) parses to another key", line)
    let blob = reparse("wireBytes (key from \(parser))", of: key) { () throws(KeyError) in try PublicKey(wireBytes: key.wireBytes) }
    expect(blob.wireBytes == key.wireBytes, "wireBytes of a key from \(parser) parses to another key", line)
    expect(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "openSSHLine holds a control character", line)
    _ = key.fingerprint()
    _ = key.fingerprint(.md5)
    _ = key.randomart()
}

func trimmedBlanks(_ text: String) -> String {
    var scalars = Substring(text).unicodeScalars
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
}

/// A parsed authorized_keys line renders to a line that parses back to equal options, key and comment.
func checkAuthorizedKey(_ entry: AuthorizedKey) {
    let line = entry.line
    expect(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "AuthorizedKey.line holds a control character", line)
    let again = reparse("AuthorizedKey.line", of: entry.key) { () throws(KeyError) in try AuthorizedKey(line: line) }
    expect(again == entry, "AuthorizedKey.line parses to other options or another key", line)
    checkPublicKey(entry.key, from: "AuthorizedKey")
}

/// A parsed known_hosts line renders to a line that parses back to an equal entry.
func checkKnownHost(_ entry: KnownHost) {
    let line = entry.line
    expect(!line.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "KnownHost.line holds a control character", line)
    let again = reparse("KnownHost.line", of: entry.key) { () throws(KeyError) in try KnownHost(line: line) }
    expect(again == entry, "KnownHost.line parses to another entry", line)
    _ = entry.matches(host: "example.com")
    _ = entry.matches(host: "192.0.2.1", port: 2222)
    checkPublicKey(entry.key, from: "KnownHost")
}

/// The scanner's ranges stay inside the line, and each key it finds renders and parses back.
func scanKeyList(_ bytes: [UInt8]) {
    KeyListScanner().scan(bytes) { line in
        let inside = { (range: Range<Int>?) in range.map { $0.lowerBound >= line.range.lowerBound && $0.upperBound <= line.range.upperBound } ?? true
        }
        expect(
            line.range.upperBound <= bytes.count && inside(line.prefix) && inside(line.comment),
            "KeyListScanner returned a range outside its line \(line.number)", String(decoding: bytes, as: UTF8.self))
        if let key = line.key { checkPublicKey(key, from: "KeyListScanner") }
    }
}

// MARK: - Reporting

/// Parses rendered text back; a failure is a round-trip bug.
func reparse<T>(_ what: String, of key: PublicKey, _ parse: () throws(KeyError) -> T) -> T {
    do throws(KeyError) {
        return try parse()
    } catch {
        roundTripFailed("\(what) of a parsed value does not parse: \(error)", key.openSSHLine)
    }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String, _ rendered: @autoclosure () -> String) {
    if !condition { roundTripFailed(message(), rendered()) }
}

/// Traps on purpose: libFuzzer records the input as a crash.
func roundTripFailed(_ message: String, _ rendered: String) -> Never {
    printError("keyfleet-fuzz: round trip broken: \(message)\nrendered: \(String(reflecting: rendered))")
    preconditionFailure("keyfleet-fuzz: round trip broken: \(message)")
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
}
