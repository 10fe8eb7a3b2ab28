import Foundation
import Testing
import TestSupport

/// The cloud-init user data brings up a working agent (issue 9.12): its `runcmd` is run as generated, with
/// the host's places (/etc/keyfleet, /etc/ssh, the systemd unit) mapped into a sandbox by small stand-ins
/// for `keyfleet-agent` and `systemctl` that check the arguments they are given.
@Suite("Cloud-init: the generated commands bring up the agent", .serialized)
struct CloudInitProvisionE2ETests {
    /// The user data's `runcmd` (a list of argument lists) and its `users`.
    static func parse(_ userData: String, in directory: TemporaryDirectory) throws -> (runcmd: [[String]], users: [Any]) {
        let file = try directory.write("user-data.yaml", userData)
        let json = try ExternalTool.runChecked(
            "python3",
            [
                "-c",
                "import json, sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(json.dumps({'runcmd': d['runcmd'], 'users': d['users']}))",
                file,
            ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])
        return (try #require(object["runcmd"] as? [[String]]), try #require(object["users"] as? [Any]))
    }

    /// Runs one `runcmd` entry as cloud-init does (an argument list, no shell around it) with `PATH`.
    static func run(_ command: [String], path: String) throws -> ToolResult {
        let executable = command[0] == "sh" ? "/bin/sh" : command[0]
        return try ExternalTool.run(executable, Array(command.dropFirst()), environment: ["PATH": path])
    }

    static func write(_ directory: TemporaryDirectory, _ name: String, executable text: String) throws -> String {
        let path = try directory.write(name, text)
        chmod(path, 0o755)
        return path
    }

    @Test("on an image with the agent: enroll, the sshd drop-in, the unit started; a key logs in through a real sshd, the default user kept")
    func agentInImage() throws {
        let work = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: work.file("registry"))
        defer { server.stop() }
        let api = RegistryHTTP(url: server.url, token: server.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project, "logins": [LoopbackSSHD.userName]])
        let (runcmd, users) = try Self.parse(try #require(created["user_data"] as? String), in: work)
        #expect(users.first as? String == "default", "the image's default user is kept")
        #expect(runcmd.count == 1 && runcmd[0].count == 7 && runcmd[0].last == "/etc/keyfleet/enroll.json", "\(runcmd)")

        // The host's places, in the sandbox: what cloud-init's write_files wrote, sshd, the agent's directories.
        let enrollFile = work.file("enroll.json")
        try ExternalTool.runChecked(
            "python3",
            [
                "-c", "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); open(sys.argv[2], 'w').write(d['write_files'][0]['content'])",
                work.file("user-data.yaml"), enrollFile,
            ])
        let sshd = try LoopbackSSHD { _ in "" }
        let state = work.file("state")
        let keys = work.file("keys")
        let real = KeyfleetBinary.sibling("keyfleet-agent")
        let bin = work.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        _ = try Self.write(
            work, "bin/keyfleet-agent",
            executable: """
                #!/bin/sh
                case "$*" in
                  "enroll --config /etc/keyfleet/enroll.json") exec '\(real)' enroll --config '\(enrollFile)' --state-dir '\(state)' ;;
                  "install --mode files") exec '\(real)' install --mode files --keys-dir '\(keys)' \
                --sshd-config '\(sshd.configPath)' --sshd-pid-file '\(sshd.pidFile)' ;;
                  *) echo "unexpected: keyfleet-agent $*" >&2; exit 2 ;;
                esac
                """)
        // systemctl records the unit it is asked to start; the test then runs what the unit runs.
        let started = work.file("systemctl-started")
        _ = try Self.write(
            work, "bin/systemctl",
            executable: """
                #!/bin/sh
                [ "$*" = "enable --now keyfleet-agent.service" ] || { echo "unexpected: systemctl $*" >&2; exit 2; }
                touch '\(started)'
                """)
        let result = try Self.run(runcmd[0], path: "\(bin):/usr/bin:/bin:/usr/sbin:/sbin")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.hasSuffix("keyfleet: the host agent is enrolled and running\n"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: started), "the unit was started")
        let agent = try HostAgentRun.start(["--mode", "files", "--state-dir", state, "--keys-dir", keys, "--wait", "20"])
        defer { _ = HostAgentRun.terminate(agent) }

        // A key granted in the registry now logs in through the real sshd, via the drop-in install wrote.
        let identity = work.file("id")
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", identity])
        let line = try String(contentsOfFile: identity + ".pub", encoding: .utf8)
        _ = try api.call("POST", "/v1/ssh-keys", ["name": "first", "public_key": line, "project": project])
        let seconds = try sshd.secondsUntil(identity, logsIn: true, limit: 10)
        #expect(seconds != nil, "agent:\n\(agent.standardError.suffix(2000))\nsshd:\n\(sshd.log.suffix(1500))")
    }

    @Test("neither an agent in the image nor a package named by the server: one line in the log, exit 1, nothing run")
    func nothingToInstall() throws {
        let work = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: work.file("registry"))
        defer { server.stop() }
        let api = RegistryHTTP(url: server.url, token: server.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project])
        let (runcmd, _) = try Self.parse(try #require(created["user_data"] as? String), in: work)
        let result = try Self.run(runcmd[0], path: work.file("empty"))
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("keyfleet: keyfleet-agent is not in this image and the server names no agent package"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("a package whose SHA-256 is not the one the server names is never installed")
    func packageHashChecked() throws {
        let work = try TemporaryDirectory()
        let package = try work.write("keyfleet-agent.deb", "not the package the server names")
        // What the server names: the package's URL with the hash of other bytes.
        let portFile = work.file("port")
        let web = try BackgroundProcess(
            "/usr/bin/python3",
            [
                "-c",
                """
                import http.server, os, sys, functools
                handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
                s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
                open(sys.argv[2] + ".tmp", "w").write(str(s.server_address[1])); os.rename(sys.argv[2] + ".tmp", sys.argv[2])
                s.serve_forever()
                """,
                work.path, portFile,
            ])
        defer { _ = web.stop() }
        let port = contentsOnceWritten(portFile)
        let url = "http://127.0.0.1:\(try #require(port))/keyfleet-agent.deb"
        let wrong = String(repeating: "ab", count: 32)
        let server = try RegistryServerProcess(
            dataDirectory: work.file("registry"), arguments: ["--agent-package-url", url, "--agent-package-sha256", wrong])
        defer { server.stop() }
        let api = RegistryHTTP(url: server.url, token: server.token)
        let project = try api.id(try api.call("POST", "/v1/projects", ["name": "fleet"]))
        let created = try api.call("POST", "/v1/hosts", ["name": "web-1", "project": project])
        let (runcmd, _) = try Self.parse(try #require(created["user_data"] as? String), in: work)
        #expect(runcmd[0][4] == url && runcmd[0][5] == wrong, "\(runcmd)")

        // An image without the agent, with curl and coreutils; dpkg is a stand-in that records being run.
        let bin = work.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for tool in ["curl", "sha256sum", "mktemp", "rm"] {
            try FileManager.default.createSymbolicLink(atPath: bin + "/" + tool, withDestinationPath: try ExternalTool.path(of: tool))
        }
        let dpkgRan = work.file("dpkg-ran")
        _ = try Self.write(work, "bin/dpkg", executable: "#!/bin/sh\ntouch '\(dpkgRan)'\n")
        let result = try Self.run(runcmd[0], path: bin)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("keyfleet: the agent package from \(url) does not have the SHA-256 the server expects"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dpkgRan), "dpkg must not run on an unchecked package")
        _ = package
    }
}
