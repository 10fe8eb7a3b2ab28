import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, two directories above this file's.
private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// What each package installs, and the directories its maintainer scripts own.
private let packageFiles: [(name: String, files: [String])] = [
    ("keyfleet", ["/usr/bin/keyfleet", "/usr/bin/keyfleet-client"]),
    ("keyfleet-server", ["/usr/bin/keyfleet-server", "/lib/systemd/system/keyfleet-server.service"]),
    (
        "keyfleet-agent",
        ["/usr/bin/keyfleet-agent", "/usr/bin/keyfleet-authorized-keys", "/lib/systemd/system/keyfleet-agent.service"]
    ),
]
private let stateDirectories = ["/var/lib/keyfleet-server", "/var/lib/keyfleet", "/var/lib/keyfleet-authorized"]

/// keyfleetVersion as Sources/KeyfleetVersion declares it.
private func sourceVersion() throws -> String {
    let directory = repository + "/Sources/KeyfleetVersion"
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".swift") {
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("public let keyfleetVersion = \"") {
            return String(line.dropFirst("public let keyfleetVersion = \"".count).dropLast())
        }
    }
    throw VersionNotFound(directory: directory)
}

private struct VersionNotFound: Error, CustomStringConvertible {
    let directory: String
    var description: String { "no keyfleetVersion in \(directory)" }
}

/// dpkg's status of `package` ("install ok installed", "deinstall ok config-files"), empty when unknown.
private func status(_ package: String) throws -> String {
    let result = try ExternalTool.run("dpkg-query", ["-W", "-f", "${Status}", package])
    return result.status == 0 ? result.text : ""
}

private func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

/// The packages scripts/build-debs.sh makes, installed into this machine with dpkg -i and taken away with dpkg -r
/// and dpkg -P. It needs root and a machine where Keyfleet is not installed (CI's is disposable); it takes away
/// what it installed even when a check fails.
@Suite("Debian packages: built by scripts/build-debs.sh, installed with dpkg -i, removed with dpkg -r (real dpkg)", .serialized)
struct DebianPackagesE2ETests {
    /// Runs scripts/build-debs.sh on the debug build beside the test bundle (a release build would take many
    /// minutes; its static standard library is the only difference the packages see, and the script checks it).
    private static func build(into output: String, extra: [String] = ["--allow-unpackaged-libs"]) throws -> ToolResult {
        try ExternalTool.run(
            repository + "/scripts/build-debs.sh",
            ["--build-dir", KeyfleetBinary.directory, "--output", output, "--compression", "none"] + extra)
    }

    @Test("executables that load the toolchain's Swift runtime are refused unless --allow-unpackaged-libs says so")
    func unpackagedLibraries() throws {
        let output = try TemporaryDirectory()
        let linked = try ExternalTool.run("ldd", [KeyfleetBinary.path])
        let result = try Self.build(into: output.path, extra: [])
        if linked.text.contains("libswiftCore.so") {
            #expect(result.status == 1, "build-debs.sh made packages that need the toolchain: \(result.text)")
            #expect(result.stderr.contains("is in no Debian package") && result.stderr.contains("--static-swift-stdlib"), "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: output.path).isEmpty)
        } else {
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @Test("each package installs with dpkg -i, runs from /usr/bin, and leaves nothing behind; purge alone deletes the data")
    func installAndRemove() throws {
        try #require(getuid() == 0, "dpkg -i needs root")
        for (name, files) in packageFiles {
            try #require(try status(name).hasSuffix(" installed") == false, "\(name) is installed on this machine already")
            for file in files { try #require(!exists(file), "\(file) exists already; run this suite on a disposable machine") }
        }
        for directory in stateDirectories { try #require(!exists(directory), "\(directory) exists already") }
        let userExisted = try ExternalTool.run("getent", ["passwd", "keyfleet"]).status == 0
        defer {
            for (name, _) in packageFiles.reversed() { _ = try? ExternalTool.run("dpkg", ["--purge", name]) }
            if !userExisted { _ = try? ExternalTool.run("userdel", ["keyfleet"]) }
            for directory in stateDirectories { try? FileManager.default.removeItem(atPath: directory) }
        }

        let version = try sourceVersion()
        let architecture = try ExternalTool.runChecked("dpkg", ["--print-architecture"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let output = try TemporaryDirectory()
        let built = try Self.build(into: output.path)
        try #require(built.status == 0, "build-debs.sh: \(built.stderr)")
        let debs = built.text.split(separator: "\n").map(String.init)
        #expect(debs == packageFiles.map { "\(output.path)/\($0.name)_\(version)_\(architecture).deb" }, "\(debs)")

        for ((name, files), deb) in zip(packageFiles, debs) {
            // The control file, and every entry owned by root with the modes of an installed system.
            let info = try ExternalTool.runChecked("dpkg-deb", ["--field", deb]).text
            let fields = ["Package: \(name)", "Version: \(version)", "Architecture: \(architecture)", "Section: admin", "Priority: optional"]
            for field in fields.map({ $0 + "\n" }) {
                #expect(info.contains(field), "\(name): no \(field) in\n\(info)")
            }
            for field in ["Maintainer: ", "Installed-Size: ", "Description: ", "Depends: libc6 (>= "] {
                #expect(info.contains("\n" + field), "\(name): no \(field) in\n\(info)")
            }
            let contents = try ExternalTool.runChecked("dpkg-deb", ["--contents", deb]).text.split(separator: "\n")
            var listed: [String] = []
            for entry in contents {
                let columns = entry.split(separator: " ", omittingEmptySubsequences: true)
                try #require(columns.count >= 6, "\(entry)")
                let path = String(columns[5].dropFirst())  // "./usr/bin/x" -> "/usr/bin/x"
                let expected = path.hasSuffix("/") ? "drwxr-xr-x" : path.hasPrefix("/usr/bin/") ? "-rwxr-xr-x" : "-rw-r--r--"
                #expect(columns[0] == expected && columns[1] == "root/root", "\(name): \(entry)")
                if !path.hasSuffix("/") { listed.append(path) }
            }
            #expect(listed.sorted() == files.sorted(), "\(name) holds \(listed)")
            // Maintainer scripts: 0755; nothing in them starts a service.
            let control = try TemporaryDirectory()
            try ExternalTool.runChecked("dpkg-deb", ["--control", deb, control.path + "/DEBIAN"])
            for script in ["postinst", "prerm", "postrm"] where exists(control.path + "/DEBIAN/" + script) {
                let attributes = try FileManager.default.attributesOfItem(atPath: control.path + "/DEBIAN/" + script)
                #expect((attributes[.posixPermissions] as? Int) == 0o755, "\(name) \(script)")
                let text = try String(contentsOfFile: control.path + "/DEBIAN/" + script, encoding: .utf8)
                #expect(!text.contains("systemctl start") && !text.contains("enable --now"), "\(name) \(script) starts a service")
            }

            let installed = try ExternalTool.run("dpkg", ["-i", deb])
            try #require(installed.status == 0, "dpkg -i \(name): \(installed.text) \(installed.stderr)")
            #expect(try status(name) == "install ok installed")
            let listing = try ExternalTool.runChecked("dpkg", ["-L", name]).text.split(separator: "\n").map(String.init)
            for file in files {
                #expect(listing.contains(file), "dpkg -L \(name) does not list \(file)")
                #expect(exists(file), "\(file) is not installed")
            }
        }

        // Run from /usr/bin: the one version, and keyfleet finding the others beside itself there.
        for executable in ["keyfleet", "keyfleet-server", "keyfleet-agent", "keyfleet-authorized-keys"] {
            let result = try ExternalTool.run("/usr/bin/" + executable, ["--version"])
            #expect(result.status == 0 && result.text == version + "\n", "/usr/bin/\(executable) --version: \(result.text) \(result.stderr)")
        }
        let clientHelp = try ExternalTool.run("/usr/bin/keyfleet-client", ["--help"])
        #expect(clientHelp.status == 0 && clientHelp.text.contains("USAGE:"), "\(clientHelp.stderr)")
        let dispatched = try ExternalTool.run("/usr/bin/keyfleet", ["server", "--help"], environment: ["PATH": ""])
        #expect(dispatched.status == 0 && dispatched.text.contains("USAGE: keyfleet server"), "\(dispatched.stderr)")
        // The sshd drop-in of --mode command names the lookup where the package put it; the units run what is installed.
        let install = try ExternalTool.run("/usr/bin/keyfleet-agent", ["install", "--help"])
        #expect(install.text.contains("(default: /usr/bin/keyfleet-authorized-keys)"), "\(install.text)")
        for unit in ["keyfleet-server", "keyfleet-agent"] {
            let text = try String(contentsOfFile: "/lib/systemd/system/\(unit).service", encoding: .utf8)
            let execStart = text.split(separator: "\n").first { $0.hasPrefix("ExecStart=") }
            let program = execStart?.dropFirst("ExecStart=".count).split(separator: " ").first.map(String.init) ?? ""
            #expect(program == "/usr/bin/" + unit && FileManager.default.isExecutableFile(atPath: program), "\(unit): \(execStart ?? "")")
        }

        // keyfleet-server's system user, and its home for the data: 0750, its own.
        let user = try ExternalTool.run("getent", ["passwd", "keyfleet"])
        let fields = user.text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", omittingEmptySubsequences: false)
        try #require(user.status == 0 && fields.count == 7, "no keyfleet user after installing keyfleet-server")
        #expect((Int(fields[2]) ?? 1000) < 1000 && fields[5] == "/var/lib/keyfleet-server", "\(user.text)")
        var home = stat()
        try #require(stat("/var/lib/keyfleet-server", &home) == 0, "no /var/lib/keyfleet-server")
        #expect(home.st_mode & 0o7777 == 0o750 && String(home.st_uid) == fields[2], "mode \(String(home.st_mode, radix: 8)) uid \(home.st_uid)")
        let data = "/var/lib/keyfleet-server/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: data + "/registry.sqlite", contents: Data("data".utf8)))

        // dpkg -r takes away every file it installed and keeps the data; dpkg -P deletes the data.
        for (name, files) in packageFiles.reversed() {
            let removed = try ExternalTool.run("dpkg", ["-r", name])
            #expect(removed.status == 0, "dpkg -r \(name): \(removed.stderr)")
            for file in files { #expect(!exists(file), "\(file) is left after dpkg -r \(name)") }
        }
        #expect(exists(data + "/registry.sqlite"), "dpkg -r keyfleet-server deleted the registry's data")
        #expect(try status("keyfleet-server") == "deinstall ok config-files")
        let purged = try ExternalTool.run("dpkg", ["-P", "keyfleet-server"])
        #expect(purged.status == 0 && !exists("/var/lib/keyfleet-server"), "dpkg -P keyfleet-server: \(purged.stderr)")
        for directory in ["/usr/bin", "/lib/systemd/system"] {
            let left = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("keyfleet") }
            #expect(left.isEmpty, "left in \(directory): \(left)")
        }
    }
}
