import KeyfleetCLI
import KeyfleetCommandLine
import ArgumentParser
import KeyfleetServer
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `keyfleet server`: the key registry over HTTP with its embedded database.
package struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the key registry: HTTP API, audit log and agent sync over an embedded SQLite database.",
        discussion: """
            On first start the data directory is made (mode 0700) with an administrator, whose API token is \
            printed once; set KEYFLEET_ADMIN_TOKEN to choose that token instead. SIGTERM or SIGINT stops the \
            server after the requests under way.
            """
    )

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Directory of the embedded database.", valueName: "dir"))
    var dataDirectory: String?

    @Option(help: ArgumentHelp("Address and port to listen on (port 0 picks a free one).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain for HTTPS.", valueName: "file"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for HTTPS.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("public-url"), help: ArgumentHelp("URL agents and cloud-init use to reach this server.", valueName: "url"))
    var publicURL: String?

    @OptionGroup var logging: LogOptions

    func run() async throws {
        guard let (host, port) = ServerConfiguration.parseListen(listen) else {
            throw CLIError.usage("--listen \"\(Terminal.safe(listen))\" is not HOST:PORT with a port from 0 to 65535")
        }
        let tls: (certificateFile: String, keyFile: String)?
        switch (tlsCertificate, tlsKey) {
        case (nil, nil): tls = nil
        case (let certificate?, let key?): tls = (certificate, key)
        default: throw CLIError.usage("--tls-cert and --tls-key go together")
        }
        if let publicURL, !(publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://")) {
            throw CLIError.usage("--public-url must start with https:// or http://")
        }
        let environment = ProcessEnvironment.self
        let configuration = ServerConfiguration(
            dataDirectory: dataDirectory ?? environment["KEYFLEET_DATA_DIR"] ?? Self.defaultDataDirectory(),
            host: host, port: port, tls: tls, publicURL: publicURL, adminToken: environment["KEYFLEET_ADMIN_TOKEN"])

        let logger = try logging.bootstrap(label: "keyfleet.server")
        do {
            try await RegistryServer.run(configuration, logger: logger) { line in
                Terminal.print(line)
            }
        } catch let error as ServerStartError {
            throw CLIError(error.description)
        }
    }

    /// `/var/lib/keyfleet/server` for root, `$XDG_DATA_HOME/keyfleet` (or `~/.local/share/keyfleet`) otherwise.
    static func defaultDataDirectory() -> String {
        if getuid() == 0 { return "/var/lib/keyfleet/server" }
        if let data = ProcessEnvironment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/keyfleet" }
        return (ProcessEnvironment["HOME"] ?? ".") + "/.local/share/keyfleet"
    }
}
