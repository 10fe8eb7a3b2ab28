#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal and its state to put back if a signal arrives while a passphrase is typed without echo.
/// Written only around `readSecret`'s read, on the main thread; read by the signal handler.
nonisolated(unsafe) private var echoRestoreFD: Int32 = -1
nonisolated(unsafe) private var echoRestoreState = termios()

private func restoreEchoAndReraise(_ number: Int32) {
    if echoRestoreFD >= 0 { tcsetattr(echoRestoreFD, TCSAFLUSH, &echoRestoreState) }
    signal(number, SIG_DFL)
    raise(number)
}

/// Output to stdout/stderr and input from the terminal.
package enum Terminal {
    /// Writes bytes to a file descriptor completely.
    package static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += count
            }
        }
    }

    package static func print(_ text: String) { write(Array((text + "\n").utf8), to: STDOUT_FILENO) }
    package static func printError(_ text: String) { write(Array(("keyfleet: " + text + "\n").utf8), to: STDERR_FILENO) }
    /// A line for the person on stderr that is not an error (a warning, a note), so it does not start with
    /// `keyfleet:` as errors do.
    package static func printInfo(_ text: String) { write(Array((text + "\n").utf8), to: STDERR_FILENO) }

    package static var standardInputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Asks on /dev/tty with echo off. Nil when there is no terminal. A signal while asking (Ctrl-C)
    /// puts echo back before the default action, as readpassphrase(3) does.
    package static func readSecret(prompt: String) -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var original = termios()
        guard tcgetattr(fd, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO | ECHONL)
        silent.c_lflag |= tcflag_t(ICANON)
        write(Array(prompt.utf8), to: fd)
        echoRestoreFD = fd
        echoRestoreState = original
        let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP]
        let previous = signals.map { signal($0, restoreEchoAndReraise) }
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &original)
            for (number, handler) in zip(signals, previous) { signal(number, handler) }
            echoRestoreFD = -1
            write([UInt8(ascii: "\n")], to: fd)
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(fd, &byte, 1)
            if count < 0, errno == EINTR { continue }
            guard count == 1, byte != UInt8(ascii: "\n") else { break }
            line.append(byte)
            if line.count > 4096 { break }
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// A file name or other user text made safe for a one-line message: control characters escaped.
    package static func safe(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x20 || value == 0x7F || (0x80..<0xA0).contains(value) || value == 0x2028 || value == 0x2029 {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"  // as KeyError.printable writes it
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Renders untrusted text the way OpenSSH's `mprintf` does (utf8.c): in a UTF-8 locale, printable
/// characters as they are and everything else as `\ooo` octal bytes; in the C locale, every byte
/// outside printable ASCII as `\ooo`. Tab, CR and LF pass through, as in OpenSSH.
package struct OpenSSHTextSanitizer {
    package let utf8Locale: Bool

    /// The character set OpenSSH's `msetlocale` ends up with: the environment's LC_CTYPE through libc (so a
    /// locale that is not installed falls back to C, as for ssh-keygen), but C or C.UTF-8 for Turkish ones.
    package static func fromEnvironment() -> OpenSSHTextSanitizer {
        for name in ["LC_ALL", "LC_CTYPE", "LANG"] {
            guard let value = getenv(name) else { continue }
            if strncasecmp(value, "tr", 2) == 0 {
                let lowered = String(cString: value).lowercased()
                let wantsUTF8 = lowered.contains("utf-8") || lowered.contains("utf8")
                return OpenSSHTextSanitizer(utf8Locale: wantsUTF8 && setlocale(LC_CTYPE, "C.UTF-8") != nil)
            }
            break
        }
        guard setlocale(LC_CTYPE, "") != nil, let codeset = nl_langinfo(nl_item(CODESET)) else {
            return OpenSSHTextSanitizer(utf8Locale: false)
        }
        return OpenSSHTextSanitizer(utf8Locale: strcmp(codeset, "UTF-8") == 0)
    }

    package func append(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        // Fast path: printable ASCII and tabs.
        if bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }) {
            out.append(contentsOf: bytes)
            return
        }
        let input = Array(bytes)
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x09 || byte == 0x0A || byte == 0x0D || (byte >= 0x20 && byte < 0x7F) {
                out.append(byte)
                index += 1
                continue
            }
            if utf8Locale, byte >= 0xC2, let (scalar, length) = Self.decodeScalar(input, at: index), Self.isPrintable(scalar) {
                out.append(contentsOf: input[index..<index + length])
                index += length
                continue
            }
            if utf8Locale, byte >= 0xC2, let (_, length) = Self.decodeScalar(input, at: index) {
                for escaped in input[index..<index + length] { Self.appendOctal(escaped, to: &out) }
                index += length
                continue
            }
            Self.appendOctal(byte, to: &out)
            index += 1
        }
    }

    private static func appendOctal(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "0") + (byte >> 6))
        out.append(UInt8(ascii: "0") + ((byte >> 3) & 7))
        out.append(UInt8(ascii: "0") + (byte & 7))
    }

    /// Whether glibc's `wcwidth` would give a width of zero or more.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .unassigned, .surrogate, .lineSeparator, .paragraphSeparator, .privateUse: false
        default: true
        }
    }

    private static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        guard lead < 0xF5, index + length <= bytes.count else { return nil }
        var decoder = UTF8()
        var iterator = bytes[index..<index + length].makeIterator()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator), scalar.utf8.count == length else { return nil }
        return (scalar, length)
    }
}
