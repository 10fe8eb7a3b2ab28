import ArgumentParser
import KeyfleetCLI
package import Logging

/// `--log-level` of the long-running commands (server, host agent), and the stderr logging it sets up.
package struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    package var logLevel = "info"

    package init() {}

    /// Sends every log to stderr at the chosen level and returns a logger labelled `label`.
    package func bootstrap(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CLIError.usage("--log-level \"\(Terminal.safe(logLevel))\" is not a log level")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
