import KeyfleetCLI
import KeyfleetCommandLine
import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--server`, `--token` and `--context`, taken by every client command.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Registry URL (default: KEYFLEET_SERVER, then the context's).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("API token (default: KEYFLEET_TOKEN, then the context's).", valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "Saved context to use (default: KEYFLEET_CONTEXT, then the active one; see keyfleet context).", valueName: "name"))
    var context: String?

    /// The server and token to use. A named context (`--context`, or KEYFLEET_CONTEXT) is used as a whole,
    /// and only `--server`/`--token` override its parts. Otherwise a flag wins over the environment
    /// (KEYFLEET_SERVER, KEYFLEET_TOKEN), which wins over the active context.
    func resolve() throws(CLIError) -> ClientContext {
        let flagServer = server.flatMap { $0.isEmpty ? nil : $0 }
        let flagToken = token.flatMap { $0.isEmpty ? nil : $0 }
        if let named = context ?? ProcessEnvironment["KEYFLEET_CONTEXT"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let saved = try ContextFile.load().named(named)
            let server = flagServer ?? saved.server
            var token = flagToken
            if token == nil { token = try Self.savedToken(saved, for: server) }
            return try ClientContext(server: server, token: token ?? "", name: saved.name)
        }
        var server = flagServer ?? ProcessEnvironment["KEYFLEET_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        var token = flagToken ?? ProcessEnvironment["KEYFLEET_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        var name: String?
        if server == nil || token == nil, let saved = try ContextFile.load().activeContext {
            server = server ?? saved.server
            if token == nil { token = try Self.savedToken(saved, for: server ?? saved.server) }
            name = saved.name
        }
        guard let server else {
            throw CLIError("no server given: use --server URL, KEYFLEET_SERVER, keyfleet login or keyfleet context use", code: "no-server")
        }
        guard let token else {
            throw CLIError("no API token given: use --token TOKEN, KEYFLEET_TOKEN, keyfleet login or keyfleet context use", code: "no-token")
        }
        return try ClientContext(server: server, token: token, name: name)
    }

    /// The token of `saved`, which goes only to the server it was saved with: a token is a secret of one
    /// registry, and another server named by --server or KEYFLEET_SERVER must never receive it.
    static func savedToken(_ saved: ClientContext, for server: String) throws(CLIError) -> String {
        guard ClientContext.sameServer(server, saved.server) else {
            throw CLIError(
                "no API token given for \(Terminal.safe(server)): the context \"\(Terminal.safe(saved.name ?? ContextFile.legacyName))\" "
                    + "holds a token for \(Terminal.safe(saved.server)) only; use --token TOKEN, KEYFLEET_TOKEN or a context of that server",
                code: "no-token")
        }
        return saved.token
    }
}

/// Where the client talks to and with which token: given on the command line, or a saved context.
struct ClientContext {
    var server: String
    var token: String
    /// The saved context it came from, if any.
    var name: String?

    init(server: String, token: String, name: String? = nil) throws(CLIError) {
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
        self.name = name
    }

    /// Whether two server URLs name the same server: equal after trailing slashes, with scheme and host
    /// compared without regard to case.
    static func sameServer(_ lhs: String, _ rhs: String) -> Bool {
        func canonical(_ url: String) -> String {
            var text = url
            while text.hasSuffix("/") { text.removeLast() }
            guard let schemeEnd = text.range(of: "://") else { return text }
            let rest = text[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            return text[..<authorityEnd].lowercased() + rest[authorityEnd...]
        }
        return canonical(lhs) == canonical(rhs)
    }

    /// `$XDG_CONFIG_HOME/keyfleet`, or `~/.config/keyfleet`.
    static var directory: String {
        if let config = ProcessEnvironment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/keyfleet" }
        return FileSystem.homeDirectory() + "/.config/keyfleet"
    }

    static var path: String { directory + "/config" }
}

/// The saved contexts (`keyfleet context`, `keyfleet login`): each a name, a server and a token, and which
/// one is active, in one file of mode 0600 in a 0700 directory, that only its owner may read:
///
///     # keyfleet contexts (keyfleet context list); mode 0600, holds API tokens
///     active=prod
///     [context prod]
///     server=https://keys.example.net:8443
///     token=kft_...
///
/// A file of the single-server format written before contexts (`server=` and `token=` lines alone) reads
/// as one context, `default`, which is active; the next change writes it in this format.
struct ContextFile {
    struct Context {
        var name: String
        var server: String
        var token: String
    }

    /// The name of the active context, if any.
    var active: String?
    /// The contexts, in the order they were made.
    var contexts: [Context] = []

    static let legacyName = "default"

    var activeContext: ClientContext? {
        get throws(CLIError) {
            guard let active, let context = contexts.first(where: { $0.name == active }) else { return nil }
            return try ClientContext(server: context.server, token: context.token, name: context.name)
        }
    }

    /// The context called `name`, or an error naming the closest one.
    func named(_ name: String) throws(CLIError) -> ClientContext {
        guard let context = contexts.first(where: { $0.name == name }) else { throw unknown(name) }
        return try ClientContext(server: context.server, token: context.token, name: context.name)
    }

    func unknown(_ name: String) -> CLIError {
        let names = contexts.map(\.name)
        let known = names.isEmpty ? " (there are none: keyfleet context create NAME --server URL)" : ""
        return CLIError(
            "no context is named \"\(Terminal.safe(name))\"\(Suggestions.phrase(for: name, among: names))\(known) "
                + "in \(Terminal.safe(ClientContext.path))",
            code: "unknown-context")
    }

    /// A context name: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
    static func validate(name: String) throws(CLIError) {
        guard ClientInput.isIdentifier(name) else {
            throw CLIError.usage(
                "context name \"\(Terminal.safe(name))\" is not 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or digit")
        }
    }

    /// The saved contexts; none when there is no file. Refuses a file that others could read or write, or
    /// that the user does not own, as ssh does for its keys.
    static func load() throws(CLIError) -> ContextFile {
        let path = ClientContext.path
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return ContextFile() }
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
                "\(Terminal.safe(path)): readable or writable by others (mode \(String(info.st_mode & 0o777, radix: 8))); "
                    + "run chmod 600 on it or keyfleet login again")
        }
        return try parse(FileSystem.readText(path, limit: 1 << 20), path: path)
    }

    static func parse(_ text: String, path: String) throws(CLIError) -> ContextFile {
        var file = ContextFile()
        var legacy: (server: String?, token: String?) = (nil, nil)
        var current: Int?
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = line.hasSuffix("\r") ? line.dropLast() : line
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                guard line.hasPrefix("[context "), line.hasSuffix("]") else {
                    throw CLIError("\(Terminal.safe(path)): line \(number): expected [context NAME]")
                }
                let name = String(line.dropFirst("[context ".count).dropLast())
                do throws(CLIError) { try validate(name: name) } catch {
                    throw CLIError("\(Terminal.safe(path)): line \(number): \(error.message)")
                }
                guard !file.contexts.contains(where: { $0.name == name }) else {
                    throw CLIError("\(Terminal.safe(path)): line \(number): context \"\(name)\" is defined twice")
                }
                file.contexts.append(Context(name: name, server: "", token: ""))
                current = file.contexts.count - 1
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals]
            let value = String(line[line.index(after: equals)...])
            switch (key, current) {
            case ("active", nil): file.active = value.isEmpty ? nil : value
            case ("server", nil): legacy.server = value
            case ("token", nil): legacy.token = value
            case ("server", let index?): file.contexts[index].server = value
            case ("token", let index?): file.contexts[index].token = value
            default: continue
            }
        }
        if legacy.server != nil || legacy.token != nil {
            guard let server = legacy.server, let token = legacy.token else {
                throw CLIError("\(Terminal.safe(path)): no server or token in it; run keyfleet login again")
            }
            if !file.contexts.contains(where: { $0.name == legacyName }) {
                file.contexts.insert(Context(name: legacyName, server: server, token: token), at: 0)
                if file.active == nil { file.active = legacyName }
            }
        }
        for context in file.contexts where context.server.isEmpty || context.token.isEmpty {
            throw CLIError(
                "\(Terminal.safe(path)): context \"\(context.name)\" has no server or no token; run keyfleet login --context \(context.name) again")
        }
        return file
    }

    var text: String {
        var out = "# keyfleet contexts (keyfleet context list); mode 0600, holds API tokens\n"
        if let active { out += "active=\(active)\n" }
        for context in contexts {
            out += "[context \(context.name)]\nserver=\(context.server)\ntoken=\(context.token)\n"
        }
        return out
    }

    /// Reads the contexts, lets `change` change them and writes them back, under a lock so that two
    /// commands changing contexts at once do not lose one's change. The file is replaced atomically (a new
    /// 0600 file beside it, synced, renamed over it): a crash leaves the old contexts or the new, never a
    /// part. When no context is left, the file is removed.
    @discardableResult
    static func update<T>(_ change: (inout ContextFile) throws(CLIError) -> T) throws(CLIError) -> T {
        let directory = ClientContext.directory
        try makeDirectory(FileSystem.parentDirectory(of: directory), mode: 0o700)
        try makeDirectory(directory, mode: 0o700)
        guard let info = FileSystem.status(directory), info.st_mode & S_IFMT == S_IFDIR, info.st_uid == getuid() else {
            throw CLIError("\(Terminal.safe(directory)): not a directory of yours")
        }
        if info.st_mode & 0o077 != 0 { _ = FileSystem.changeMode(directory, seen: info, to: 0o700) }
        let lock = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard lock >= 0 else { throw CLIError("\(Terminal.safe(directory)): \(FileSystem.errorText(errno))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CLIError("\(Terminal.safe(directory)): cannot lock: \(FileSystem.errorText(errno))") }
        }
        var file = try load()
        let result = try change(&file)
        let path = ClientContext.path
        if file.contexts.isEmpty {
            if unlink(path) != 0, errno != ENOENT { throw CLIError("\(Terminal.safe(path)): \(FileSystem.errorText(errno))") }
        } else {
            try FileSystem.writeAtomically(path, Array(file.text.utf8), mode: 0o600, replace: true)
        }
        return result
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
