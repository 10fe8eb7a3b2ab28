// keyfleet-authorized-keys: sshd's AuthorizedKeysCommand for Keyfleet.
//
//   AuthorizedKeysCommand /usr/bin/keyfleet-authorized-keys %u %f
//   AuthorizedKeysCommandUser nobody
//
// Prints the authorized_keys lines of login %u from the host agent's local cache (only the one whose
// fingerprint is %f when given), /var/lib/keyfleet-authorized unless `--cache-dir DIR` comes before the
// arguments. It never touches the network, trusts only a cache owned by root, and exits 1 whenever it is
// unsure (sshd then ignores whatever was printed).
import AuthorizedKeysCache
import KeyfleetVersion

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
// No login is called --version: the name is checked before the cache is read (see Lookup).
if arguments == ["--version"] {
    let text = Array((keyfleetVersion + "\n").utf8)
    _ = text.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    exit(0)
}
var directory = CacheFile.defaultDirectory
if arguments.first == "--cache-dir", arguments.count >= 2 {
    directory = arguments[1]
    arguments.removeFirst(2)
}

func fail(_ message: String) -> Never {
    let text = Array("keyfleet-authorized-keys: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

guard (1...2).contains(arguments.count) else {
    fail("usage: keyfleet-authorized-keys [--cache-dir DIR] USER [FINGERPRINT]")
}
let answer = Lookup.answer(directory: directory, login: arguments[0], fingerprint: arguments.count == 2 ? arguments[1] : nil)
if let reason = answer.reason { fail(reason) }
var written = 0
while written < answer.output.count {
    let count = answer.output.withUnsafeBytes { buffer -> Int in
        guard let base = buffer.baseAddress else { return -1 }
        return write(STDOUT_FILENO, base + written, buffer.count - written)
    }
    if count < 0 {
        if errno == EINTR { continue }
        exit(1)
    }
    written += count
}
exit(answer.status)
