import Foundation
import Testing
import TestSupport

/// The subcommands a help text lists: the lines under every `... SUBCOMMANDS:` heading.
private func subcommands(in help: String) -> [String] {
    var names: [String] = []
    var inside = false
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasSuffix("SUBCOMMANDS:") {
            inside = true
            continue
        }
        if line.isEmpty || !line.hasPrefix(" ") {
            inside = false
            continue
        }
        // A name starts two blanks in; a wrapped abstract is indented further.
        if inside, line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first {
            names.append(String(name))
        }
    }
    return names.filter { $0 != "help" }
}

/// Every command path under the root, toolkit and registry: `[["keygen"], ["ssh-key"], ["ssh-key", "create"], ...]`.
private func commandTree() throws -> [[String]] {
    var paths: [[String]] = []
    var pending: [[String]] = [[]]
    while let path = pending.popLast() {
        let help = try KeyfleetBinary.run(path + ["--help"])
        #expect(help.status == 0, "keyfleet \(path.joined(separator: " ")) --help: \(help.stderr)")
        for name in subcommands(in: help.text) {
            paths.append(path + [name])
            pending.append(path + [name])
        }
    }
    return paths
}

@Suite("The command line: help in both forms, version, completion, suggestions (real binaries)", .serialized)
struct CLIHelpE2ETests {
    static let toolkit = ["keygen", "fingerprint", "pubkey", "passwd", "comment", "convert", "inspect", "doctor"]
    static let registry = [
        "server", "host-agent", "login", "logout", "context", "ssh-key", "project", "host", "cluster", "audit", "user", "token",
    ]

    @Test("keyfleet --help lists every command, toolkit and registry, in groups")
    func topLevelHelp() throws {
        let help = try KeyfleetBinary.run(["--help"])
        #expect(help.status == 0)
        let listed = subcommands(in: help.text)
        #expect(Set(listed) == Set(Self.toolkit + Self.registry + ["completion"]), "\(listed)")
        for group in ["KEY TOOLKIT (LOCAL) SUBCOMMANDS:", "REGISTRY SUBCOMMANDS:", "CONNECTING SUBCOMMANDS:", "SHELL SUBCOMMANDS:"] {
            #expect(help.text.contains(group), "\(help.text)")
        }
        // The same from `help` alone.
        #expect(try KeyfleetBinary.run(["help"]).text == help.text)
    }

    @Test("every command's help works as `keyfleet X --help`, `keyfleet help X` and `keyfleet X help Y`")
    func helpInBothForms() throws {
        let tree = try commandTree()
        #expect(tree.count > 60, "\(tree)")
        for name in Self.toolkit + Self.registry { #expect(tree.contains([name]), "\(name) missing from the tree") }
        #expect(tree.contains(["ssh-key", "create"]) && tree.contains(["context", "use"]) && tree.contains(["host", "set-access"]))
        let top = try KeyfleetBinary.run(["--help"]).text
        for path in tree {
            let flag = try KeyfleetBinary.run(path + ["--help"])
            let word = try KeyfleetBinary.run(["help"] + path)
            let spelled = path.joined(separator: " ")
            #expect(flag.status == 0 && word.status == 0, "\(spelled): \(flag.stderr) \(word.stderr)")
            #expect(flag.text == word.text, "keyfleet help \(spelled) differs from keyfleet \(spelled) --help")
            #expect(flag.text != top, "keyfleet \(spelled) --help prints the top-level help")
            #expect(flag.text.contains("USAGE: keyfleet \(spelled)"), "\(spelled): \(flag.text.prefix(400))")
            if path.count == 2 {
                let inner = try KeyfleetBinary.run([path[0], "help", path[1]])
                #expect(inner.status == 0 && inner.text == flag.text, "keyfleet \(path[0]) help \(path[1]): \(inner.stderr)")
            }
        }
    }

    @Test("--version in both executables, one version, the one the server reports")
    func version() async throws {
        let toolkit = try KeyfleetBinary.run(["--version"])
        #expect(toolkit.status == 0, "\(toolkit.stderr)")
        let registry = try ExternalTool.run(KeyfleetBinary.path + "-client", ["--version"])
        #expect(registry.status == 0, "\(registry.stderr)")
        #expect(toolkit.text == registry.text)
        #expect(toolkit.text.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression) != nil, "\(toolkit.text)")
        // The server keeps its own constant for /health: they must not drift apart.
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        let (status, body) = try await server.api("GET", "/health")
        #expect(status == 200)
        #expect((body as? [String: Any])?["version"] as? String == toolkit.text.trimmingCharacters(in: .newlines), "\(String(describing: body))")
    }

    @Test("completion for bash, zsh and fish covers every command, toolkit and registry")
    func completion() throws {
        let tree = try commandTree()
        for shell in ["bash", "zsh", "fish"] {
            let script = try KeyfleetBinary.run(["completion", shell])
            #expect(script.status == 0, "\(shell): \(script.stderr)")
            #expect(script.text == (try KeyfleetBinary.run(["--generate-completion-script", shell])).text)
            #expect(script.text == (try KeyfleetBinary.run(["--generate-completion-script=\(shell)"])).text)
            for path in tree {
                let parent = path.dropLast().joined(separator: " ")
                let name = path[path.count - 1]
                switch shell {
                case "zsh":
                    let function = (["_keyfleet"] + path).joined(separator: "_")
                    #expect(script.text.contains("\n\(function)() {"), "zsh: no \(function)")
                    #expect(script.text.contains("'\(name):"), "zsh: \(name) not offered")
                case "fish":
                    let offered = "\"\((["keyfleet"] + path.dropLast()).joined(separator: " "))\" -eq 1' -fa '\(name)'"
                    #expect(script.text.contains(offered), "fish: \(name) not offered under keyfleet \(parent)")
                default:
                    #expect(script.text.contains(name), "bash: \(name)")
                }
            }
        }
        let directory = try TemporaryDirectory()
        // zsh and fish read their scripts: a syntax error would break completion for every command.
        for (shell, arguments) in [("zsh", ["-n"]), ("fish", ["--no-execute"])] {
            let file = try directory.write("keyfleet.\(shell)", try KeyfleetBinary.run(["completion", shell]).text)
            let checked = try ExternalTool.run(shell, arguments + [file])
            #expect(checked.status == 0, "\(shell) cannot read its completion script: \(checked.stderr)")
        }
        // bash, run for real: what it offers after a prefix.
        let script = try directory.write("keyfleet.bash", try KeyfleetBinary.run(["completion", "bash"]).text)
        let driver = """
            source "\(script)"
            offer() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
              COMPREPLY=(); _keyfleet keyfleet "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; echo "${COMPREPLY[*]}"; }
            offer keyfleet ho
            offer keyfleet ssh-key cr
            offer keyfleet ke
            offer keyfleet context ''
            offer keyfleet host list -o ''
            """
        let binDirectory = URL(fileURLWithPath: KeyfleetBinary.path).deletingLastPathComponent().path
        let run = try ExternalTool.run(
            "bash", ["--noprofile", "--norc", "-c", driver],
            environment: ["PATH": binDirectory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.text.split(separator: "\n", omittingEmptySubsequences: false).map { Set($0.split(separator: " ").map(String.init)) }
        #expect(lines.count >= 5, "\(run.text)")
        if lines.count >= 5 {
            #expect(lines[0] == ["host", "host-agent"], "\(run.text)")
            #expect(lines[1] == ["create"], "\(run.text)")
            #expect(lines[2] == ["keygen"], "\(run.text)")
            #expect(lines[3].isSuperset(of: ["create", "use", "list", "delete"]), "\(run.text)")
            #expect(lines[4] == ["table", "json", "yaml"], "\(run.text)")
        }
    }

    @Test("a mistyped command names the closest one, exits 1, prints nothing on stdout")
    func mistypedCommands() throws {
        let cases: [([String], String)] = [
            (["hots"], "did you mean \"host\"?"),
            (["kegen"], "did you mean \"keygen\"?"),
            (["host", "lst"], "did you mean \"host list\"?"),
            (["ssh-key", "creat", "--name", "x"], "did you mean \"ssh-key create\"?"),
            (["contxt", "list"], "did you mean \"context\"?"),
            (["context", "uze", "prod"], "did you mean \"context use\"?"),
            (["help", "clustr"], "did you mean \"cluster\"?"),
        ]
        for (arguments, suggestion) in cases {
            let result = try KeyfleetBinary.run(arguments, environment: ["XDG_CONFIG_HOME": NSTemporaryDirectory() + "keyfleet-test-noconfig"])
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(arguments): \(result.text)")
            #expect(result.stderr.hasPrefix("keyfleet: unknown command"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(suggestion), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
        }
        // Nothing close: no suggestion, still one line.
        let far = try KeyfleetBinary.run(["zzzzzz"])
        #expect(
            far.status == 1 && !far.stderr.contains("did you mean") && far.stderr.hasPrefix("keyfleet: unknown command \"zzzzzz\""), "\(far.stderr)")
    }

    @Test("a mistyped name of a host, project, cluster, user or key names the closest one that exists")
    func mistypedNames() async throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        #expect(try server.client(["project", "create", "webshop"]).status == 0)
        #expect(try server.client(["host", "create", "web-1", "--project", "webshop", "--user-data-file", directory.file("ud")]).status == 0)
        #expect(try server.client(["cluster", "create", "pool-a", "--project", "webshop"]).status == 0)
        #expect(try server.client(["user", "create", "alice"]).status == 0)
        let key = try RealKeys.make("ed25519", in: directory, name: "k")
        #expect(try server.client(["ssh-key", "create", "--name", "laptop", "--public-key-from-file", key + ".pub"]).status == 0)
        let cases: [([String], String)] = [
            (["host", "describe", "web-l"], "no host is named \"web-l\"; did you mean \"web-1\"?"),
            (["project", "describe", "webshp"], "no project is named \"webshp\"; did you mean \"webshop\"?"),
            (["cluster", "describe", "pool-b"], "no cluster is named \"pool-b\"; did you mean \"pool-a\"?"),
            (["token", "list", "--user", "alcie"], "no user is named \"alcie\"; did you mean \"alice\"?"),
            (["ssh-key", "describe", "labtop"], "no key is named \"labtop\"; did you mean \"laptop\"?"),
            (["host", "list", "--project", "webshop2"], "did you mean \"webshop\"?"),
        ]
        for (arguments, message) in cases {
            let result = try server.client(arguments)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr == "keyfleet: \(message)\n" || (result.stderr.hasPrefix("keyfleet: ") && result.stderr.contains(message)),
                "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        // Nothing close: the server's answer, as before; an identifier still works.
        let far = try server.client(["host", "describe", "zzzzzzzz"])
        #expect(far.status == 1 && !far.stderr.contains("did you mean") && far.stderr.hasSuffix("(not-found)\n"), "\(far.stderr)")
        let host = try #require(try server.clientJSON(["host", "describe", "web-1", "-o", "json"]) as? [String: Any])
        let id = try #require(host["id"] as? String)
        #expect(try server.client(["host", "describe", id]).status == 0)
    }
}
