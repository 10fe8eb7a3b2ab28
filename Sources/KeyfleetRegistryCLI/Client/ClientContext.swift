import KeyfleetCLI
import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--server` and `--token`, taken by every client command.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Registry URL (default: KEYFLEET_SERVER, then the saved login).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("API token (default: KEYFLEET_TOKEN, then the saved login).", valueName: "token"))
    var token: String?

    /// The server and token to use: a flag wins over the environment, which wins over the saved context.
    func resolve() throws(CLIError) -> ClientContext {
        var server = server ?? ProcessEnvironment["KEYFLEET_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        var token = token ?? ProcessEnvironment["KEYFLEET_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if server == nil || token == nil, let saved = try ClientContext.load() {
            server = server ?? saved.server
            token = token ?? saved.token
        }
        guard let server else {
            throw CLIError("no server given: use --server URL, KEYFLEET_SERVER or keyfleet login")
        }
        guard let token else {
            throw CLIError("no API token given: use --token TOKEN, KEYFLEET_TOKEN or keyfleet login")
        }
        return try ClientContext(server: server, token: token)
    }
}

/// Where the client talks to and with which token; saved by `keyfleet login`.
struct ClientContext {
    var server: String
    var token: String

    init(server: String, token: String) throws(CLIError) {
        var trimmed = server
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard trimmed.hasPrefix("http://") || trimmed.hasPrefix("https://"), trimmed.count > 8 else {
            throw CLIError("server \"\(Terminal.safe(server))\" is not an http:// or https:// URL")
        }
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw CLIError("the API token is empty or holds blanks or control characters")
        }
        guard trimmed.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw CLIError("server \"\(Terminal.safe(server))\" holds blanks or control characters")
        }
        self.server = trimmed
        self.token = token
    }

    /// `$XDG_CONFIG_HOME/keyfleet`, or `~/.config/keyfleet`.
    static var directory: String {
        if let config = ProcessEnvironment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/keyfleet" }
        return FileSystem.homeDirectory() + "/.config/keyfleet"
    }

    static var path: String { directory + "/config" }

    /// The saved context, or nil when there is none. Refuses a file that others could read or write, or
    /// that the user does not own, as ssh does for its keys.
    static func load() throws(CLIError) -> ClientContext? {
        let path = path
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw CLIError("\(Terminal.safe(path)): \(FileSystem.errorText(errno))")
        }
        close(fd)
        guard let info = FileSystem.status(path), info.st_mode & S_IFMT == S_IFREG else {
            throw CLIError("\(Terminal.safe(path)): not a regular file")
        }
        guard info.st_uid == getuid() else {
            throw CLIError("\(Terminal.safe(path)): not owned by you; refusing to use it")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw CLIError(
                "\(Terminal.safe(path)): readable or writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 on it or keyfleet login again"
            )
        }
        let text = try FileSystem.readText(path, limit: 64 * 1024)
        var server: String?
        var token: String?
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals]
            let value = String(line[line.index(after: equals)...])
            switch key {
            case "server": server = value
            case "token": token = value
            default: continue
            }
        }
        guard let server, let token else {
            throw CLIError("\(Terminal.safe(path)): no server or token in it; run keyfleet login again")
        }
        return try ClientContext(server: server, token: token)
    }

    /// Saves the context: the directory made 0700, the file written atomically with mode 0600.
    func save() throws(CLIError) {
        let directory = Self.directory
        try Self.makeDirectory(FileSystem.parentDirectory(of: directory), mode: 0o700)
        try Self.makeDirectory(directory, mode: 0o700)
        guard let info = FileSystem.status(directory), info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
            throw CLIError("\(Terminal.safe(directory)): not a directory of yours")
        }
        if info.st_mode & 0o077 != 0 { _ = FileSystem.changeMode(directory, seen: info, to: 0o700) }
        let text = "server=\(server)\ntoken=\(token)\n"
        try FileSystem.writeAtomically(Self.path, Array(text.utf8), mode: 0o600, replace: true)
    }

    /// Removes the saved context; false when there was none.
    static func remove() throws(CLIError) -> Bool {
        let path = path
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw CLIError("\(Terminal.safe(path)): \(FileSystem.errorText(errno))")
    }

    private static func makeDirectory(_ path: String, mode: mode_t) throws(CLIError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        if errno == ENOENT {
            try makeDirectory(FileSystem.parentDirectory(of: path), mode: 0o755)
            if mkdir(path, mode) == 0 || errno == EEXIST { return }
        }
        throw CLIError("\(Terminal.safe(path)): cannot make the directory: \(FileSystem.errorText(errno))")
    }
}
