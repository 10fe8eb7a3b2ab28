import Foundation
import Testing
import TestSupport

/// The symbols of the executable `name` beside `keyfleet`, as `nm` lists them (defined and undefined).
private func symbols(_ name: String) throws -> [Substring] {
    let result = try ExternalTool.run("nm", ["-P", "--no-sort", KeyfleetBinary.sibling(name)])
    #expect(result.status == 0, "nm \(name): \(result.stderr)")
    return result.text.split(separator: "\n").compactMap { $0.split(separator: " ", maxSplits: 1).first }
}

/// Which of `markers` occur in `symbols`: a C function by its name, also with a prefix (sqlite-nio builds
/// SQLite's as `sqlite_nio_sqlite3_open`), a Swift module by its mangled name (`$s11Hummingbird...`: the
/// length, then the name).
private func found(_ markers: [String], in symbols: [Substring]) -> Set<String> {
    var found: Set<String> = []
    for marker in markers {
        let swift = marker.first?.isUppercase == true
        let needle = swift ? "\(marker.utf8.count)\(marker)" : marker
        if symbols.contains(where: { swift ? $0.hasPrefix("$s") && $0.contains(needle) : $0 == needle || $0.hasSuffix("_" + needle) }) {
            found.insert(marker)
        }
    }
    return found
}

@Suite("One executable per role: what each links, and keyfleet running the others (real binaries)", .serialized)
struct RoleExecutablesE2ETests {
    static let server = [
        "sqlite3_open", "sqlite3_open_v2", "Hummingbird", "HummingbirdCore", "SQLiteNIO", "SQLiteKit", "KeyfleetStore", "KeyfleetServer",
    ]
    static let network = ["NIOCore", "NIOPosix", "NIOSSL", "AsyncHTTPClient", "FoundationNetworking", "KeyfleetClient"]

    @Test("keyfleet-client and keyfleet-agent carry no HTTP server and no SQLite; keyfleet no networking at all")
    func whatEachLinks() throws {
        // The check sees these where they are: in keyfleet-server, which carries the server and its store.
        let server = try symbols("keyfleet-server")
        #expect(found(Self.server, in: server) == Set(Self.server), "the markers are not found where they must be")
        for name in ["keyfleet-client", "keyfleet-agent"] {
            let carried = found(Self.server, in: try symbols(name))
            #expect(carried.isEmpty, "\(name) links \(carried.sorted())")
        }
        // The client describes host-agent for help, but does not carry the agent (nor the agent the client's commands).
        #expect(found(["KeyfleetAgent", "KeyfleetAgentCLI"], in: try symbols("keyfleet-client")).isEmpty)
        #expect(found(["KeyfleetClientCLI", "KeyfleetServerCLI"], in: try symbols("keyfleet-agent")).isEmpty)
        // The toolkit starts without SwiftNIO, AsyncHTTPClient or Foundation's networking (nor the client's code).
        #expect(found(Self.network, in: try symbols("keyfleet-client")).isSuperset(of: ["NIOCore", "AsyncHTTPClient"]))
        let toolkit = found(Self.network + Self.server + ["KeyfleetClientCLI"], in: try symbols("keyfleet"))
        #expect(toolkit.isEmpty, "keyfleet links \(toolkit.sorted())")
    }

    @Test("every executable reports the one version")
    func versions() throws {
        let expected = try KeyfleetBinary.run(["--version"])
        #expect(expected.status == 0 && !expected.text.isEmpty)
        for name in ["keyfleet-client", "keyfleet-server", "keyfleet-agent", "keyfleet-authorized-keys"] {
            let result = try ExternalTool.run(KeyfleetBinary.sibling(name), ["--version"])
            #expect(result.status == 0 && result.text == expected.text, "\(name): \(result.text) \(result.stderr)")
        }
    }

    @Test("keyfleet runs the executable beside it for each command group; the role executables also run by themselves")
    func dispatch() throws {
        for (command, usage) in [
            ("server", "USAGE: keyfleet server"), ("host-agent", "USAGE: keyfleet host-agent"), ("ssh-key", "USAGE: keyfleet ssh-key"),
        ] {
            let result = try KeyfleetBinary.run([command, "--help"])
            #expect(result.status == 0 && result.text.contains(usage), "keyfleet \(command) --help: \(result.stderr)")
        }
        // Run by themselves (as the systemd units do), the same commands, the same help.
        let pairs: [([String], String, [String])] = [
            (["server", "--help"], "keyfleet-server", ["--help"]),
            (["host-agent", "run", "--help"], "keyfleet-agent", ["run", "--help"]),
            (["help", "host-agent", "enroll"], "keyfleet-agent", ["help", "enroll"]),
            (["host", "list", "--help"], "keyfleet-client", ["host", "list", "--help"]),
        ]
        for (through, executable, direct) in pairs {
            let viaKeyfleet = try KeyfleetBinary.run(through)
            let itself = try ExternalTool.run(KeyfleetBinary.sibling(executable), direct)
            #expect(viaKeyfleet.status == 0 && itself.status == 0, "\(executable) \(direct): \(itself.stderr) \(viaKeyfleet.stderr)")
            #expect(viaKeyfleet.text == itself.text, "keyfleet \(through) and \(executable) \(direct) differ")
        }
        let mistyped = try ExternalTool.run(KeyfleetBinary.sibling("keyfleet-agent"), ["enrol"])
        #expect(mistyped.status == 1 && mistyped.stderr.contains("did you mean \"host-agent enroll\"?"), "\(mistyped.stderr)")
        let server = try ExternalTool.run(KeyfleetBinary.sibling("keyfleet-server"), ["--listen", "nowhere"])
        #expect(
            server.status == 1 && server.stderr == "keyfleet: --listen \"nowhere\" is not HOST:PORT with a port from 0 to 65535\n", "\(server.stderr)"
        )
    }

    @Test("keyfleet alone: each missing executable named in one line with its Debian package, exit 1; the toolkit still works")
    func missingExecutables() throws {
        let directory = try TemporaryDirectory()
        let alone = directory.file("keyfleet")
        try FileManager.default.copyItem(atPath: KeyfleetBinary.path, toPath: alone)
        let cases: [([String], String, String)] = [
            (["server", "--data-dir", directory.file("data")], "keyfleet-server", "keyfleet-server"),
            (["host-agent", "--help"], "keyfleet-agent", "keyfleet-agent"),
            (["help", "host-agent", "run"], "keyfleet-agent", "keyfleet-agent"),
            (["ssh-key", "--help"], "keyfleet-client", "keyfleet"),
            (["login", "--server", "http://127.0.0.1:1"], "keyfleet-client", "keyfleet"),
            (["completion", "bash"], "keyfleet-client", "keyfleet"),
            (["--context", "prod", "host", "list"], "keyfleet-client", "keyfleet"),
        ]
        // No PATH at all: nothing else to find it on.
        for (arguments, executable, package) in cases {
            let result = try ExternalTool.run(alone, arguments, environment: ["PATH": ""])
            #expect(result.status == 1 && result.stdout.isEmpty, "\(arguments): \(result.status) \(result.text)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.hasPrefix("keyfleet: \"keyfleet \(arguments[0])"), "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.contains(" runs in \(executable), ") && result.stderr.hasSuffix("install the Debian package \(package)\n"),
                "\(result.stderr)")
        }
        // The toolkit needs none of them; its help lists its own commands and names the others' executables.
        let key = directory.file("id")
        #expect(try ExternalTool.run(alone, ["keygen", "-t", "ed25519", "-N", "", "-q", "-f", key], environment: ["PATH": ""]).status == 0)
        let help = try ExternalTool.run(alone, ["--help"], environment: ["PATH": ""])
        #expect(help.status == 0 && help.text.contains("keygen") && help.text.contains("keyfleet-client"), "\(help.stderr)")
        // On PATH when not beside it.
        let onPath = try ExternalTool.run(alone, ["ssh-key", "--help"], environment: ["PATH": KeyfleetBinary.directory])
        #expect(onPath.status == 0 && onPath.text.contains("USAGE: keyfleet ssh-key"), "\(onPath.stderr)")
        // A relative PATH entry is never searched: it would run what the current directory holds.
        let relative = try ExternalTool.run(
            "/bin/sh", ["-c", "cd \"$1\" && PATH=. \"$2\" server --help", "sh", KeyfleetBinary.directory, alone])
        #expect(relative.status == 1 && relative.stderr.contains("runs in keyfleet-server"), "\(relative.stderr)")
    }
}
