import ArgumentParser
import KeyfleetCLI
package import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `--log-level` and `--log-format` of the long-running commands (server, host agent), and the stderr
/// logging they set up.
package struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    package var logLevel = "info"

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp(
            "text, or json: one JSON object per line (timestamp, level, label, message, metadata) for log collectors.",
            valueName: "format"))
    package var logFormat = "text"

    package init() {}

    /// The formats of `--log-format`.
    package enum Format: String, CaseIterable, Sendable {
        /// swift-log's own lines: `timestamp level label: [metadata] message`.
        case text
        /// One JSON object per line (``JSONLogHandler``).
        case json
    }

    /// Sends every log to stderr at the chosen level and in the chosen format and returns a logger labelled
    /// `label`; a level or format it does not know is a usage error.
    package func bootstrap(label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CLIError.usage("--log-level \"\(Terminal.safe(logLevel))\" is not a log level")
        }
        guard let format = Format(rawValue: logFormat) else {
            throw CLIError.usage("--log-format \"\(Terminal.safe(logFormat))\" is not text or json")
        }
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Writes each log as one line of JSON on stderr:
/// `{"timestamp":"2030-01-02T03:04:05.678Z","level":"info","label":"keyfleet.server","message":"...","metadata":{...}}`.
///
/// The timestamp is UTC with milliseconds. Metadata keeps its shape (strings, arrays and objects; other
/// values as their description), keys sorted. Every control character, and U+2028 and U+2029, is escaped,
/// so a message or value holding a line break cannot start a line of its own.
package struct JSONLogHandler: LogHandler {
    /// One line is written at a time, whole, whichever thread logs.
    private static let output = Mutex<Void>(())

    /// The logger's label.
    package let label: String
    /// Metadata every log of this handler carries.
    package var metadata: Logger.Metadata = [:]
    /// The least severe level written.
    package var logLevel: Logger.Level = .info
    /// Adds metadata to every log, under the handler's and before the log's own.
    package var metadataProvider: Logger.MetadataProvider?

    /// A handler for the logger labelled `label`.
    package init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    /// One metadata entry of this handler.
    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var line = Self.line(
            timestamp: Self.timestamp(), level: event.level, label: label, message: event.message.description, metadata: merged)
        line.append("\n")
        Self.output.withLock { _ in
            line.withUTF8 { buffer in
                guard let base = buffer.baseAddress else { return }
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, base + offset, buffer.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }

    /// The JSON object of one log, without the line break.
    package static func line(timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var out = "{\"timestamp\":"
        JSON.quote(timestamp, into: &out)
        out += ",\"level\":"
        JSON.quote(level.rawValue, into: &out)
        out += ",\"label\":"
        JSON.quote(label, into: &out)
        out += ",\"message\":"
        JSON.quote(message, into: &out)
        out += ",\"metadata\":"
        appendObject(metadata, to: &out)
        out += "}"
        return out
    }

    private static func appendObject(_ metadata: Logger.Metadata, to out: inout String) {
        out += "{"
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            JSON.quote(key, into: &out)
            out += ":"
            if let value = metadata[key] { appendValue(value, to: &out) }
        }
        out += "}"
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let text): JSON.quote(text, into: &out)
        case .stringConvertible(let convertible): JSON.quote(convertible.description, into: &out)
        case .dictionary(let dictionary): appendObject(dictionary, to: &out)
        case .array(let array):
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                appendValue(element, to: &out)
            }
            out += "]"
        }
    }

    /// Now in UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    package static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2) + "T"
            + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2) + "."
            + pad(Int(now.tv_nsec) / 1_000_000, 3) + "Z"
    }
}
