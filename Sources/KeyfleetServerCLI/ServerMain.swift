import KeyfleetCLI
import KeyfleetCommandLine
import KeyfleetCore
import KeyfleetServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `keyfleet server`'s commands in this process.
enum ServerMain: ServerRunner {
    static func run(_ options: ServerOptions) async throws {
        guard let (host, port) = ServerConfiguration.parseListen(options.listen) else {
            throw CLIError.usage("--listen \"\(Terminal.safe(options.listen))\" is not HOST:PORT with a port from 0 to 65535")
        }
        let tls: (certificateFile: String, keyFile: String)?
        switch (options.tlsCertificate, options.tlsKey) {
        case (nil, nil): tls = nil
        case (let certificate?, let key?): tls = (certificate, key)
        default: throw CLIError.usage("--tls-cert and --tls-key go together")
        }
        if let publicURL = options.publicURL, !(publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://")) {
            throw CLIError.usage("--public-url must start with https:// or http://")
        }
        let environment = ProcessEnvironment.self
        let databaseURL = options.databaseURL ?? environment["KEYFLEET_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if databaseURL != nil, options.dataDirectory != nil {
            throw CLIError.usage("--data-dir and --database-url name two registries: give one")
        }
        var configuration = ServerConfiguration(
            dataDirectory: dataDirectory(options.dataDirectory), databaseURL: databaseURL,
            host: host, port: port, tls: tls, publicURL: options.publicURL, adminToken: environment["KEYFLEET_ADMIN_TOKEN"])
        switch (options.agentPackageURL, options.agentPackageSHA256) {
        case (nil, nil): break
        case (let url?, let sha256?):
            do {
                configuration.agentPackage = try AgentPackage(url: url, sha256: sha256)
            } catch {
                throw CLIError.usage(error.reason)
            }
        default: throw CLIError.usage("--agent-package-url and --agent-package-sha256 go together: the hash is what new hosts trust")
        }

        configuration.portalSessions = PortalSessions.Limits(
            idle: try sessionDuration(options.sessionIdleTimeout, option: "--session-idle-timeout"),
            lifetime: try sessionDuration(options.sessionLifetime, option: "--session-lifetime"))

        var metrics: MetricsListener?
        if let text = options.metricsListen {
            guard let (host, port) = ServerConfiguration.parseListen(text) else {
                throw CLIError.usage("--metrics-listen \"\(Terminal.safe(text))\" is not HOST:PORT with a port from 0 to 65535")
            }
            metrics = MetricsListener(host: host, port: port)
        }

        let logger = try options.logging.bootstrap(label: "keyfleet.server")
        do {
            try await RegistryServer.run(configuration, metrics: metrics, logger: logger) { line in
                Terminal.print(line)
            }
        } catch let error as ServerStartError {
            throw CLIError(error.description)
        }
    }

    /// A portal session limit: a duration of at least a second.
    private static func sessionDuration(_ text: String, option: String) throws -> Duration {
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            throw CLIError.usage("\(option) \"\(Terminal.safe(text))\" is not a duration such as 90s, 30m or 12h")
        }
        return .seconds(seconds)
    }

    /// `/var/lib/keyfleet/server` for root, `$XDG_DATA_HOME/keyfleet` (or `~/.local/share/keyfleet`) otherwise.
    static func defaultDataDirectory() -> String {
        if getuid() == 0 { return "/var/lib/keyfleet/server" }
        if let data = ProcessEnvironment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/keyfleet" }
        return (ProcessEnvironment["HOME"] ?? ".") + "/.local/share/keyfleet"
    }
}
