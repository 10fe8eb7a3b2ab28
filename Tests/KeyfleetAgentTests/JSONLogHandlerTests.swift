import Foundation
import KeyfleetCLI
import KeyfleetCommandLine
import Logging
import Testing

/// `--log-format json`'s lines: one JSON object each, whatever the message and metadata hold.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    static func parse(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }

    @Test(
        "messages with line breaks, NUL, other control characters and line separators stay on one line and read back the same",
        arguments: [
            "plain", "two\nlines", "cr\rreturn", "nul\u{0}byte", "tab\tand\u{1B}[31mescape", "del\u{7F}", "next line\u{85}c1",
            "line\u{2028}separator", "paragraph\u{2029}separator", "quote \" and backslash \\", "ключ 🔑", "",
        ])
    func messages(_ message: String) throws {
        let line = JSONLogHandler.line(
            timestamp: "2030-01-02T03:04:05.678Z", level: .warning, label: "keyfleet.test", message: message, metadata: ["k": "\(message)"])
        for scalar in line.unicodeScalars {
            #expect(
                scalar.value >= 0x20 && !(0x7F...0x9F).contains(scalar.value) && scalar.value != 0x2028 && scalar.value != 0x2029,
                "raw U+\(String(scalar.value, radix: 16)) in \(line)")
        }
        let object = try Self.parse(line)
        #expect(object["message"] as? String == message)
        #expect((object["metadata"] as? [String: Any])?["k"] as? String == message)
        #expect(object["timestamp"] as? String == "2030-01-02T03:04:05.678Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "keyfleet.test")
        #expect(Set(object.keys) == ["timestamp", "level", "label", "message", "metadata"])
    }

    @Test("metadata keeps its shape: strings, arrays, nested objects, other values as their description; keys in order")
    func metadata() throws {
        let line = JSONLogHandler.line(
            timestamp: "t", level: .info, label: "l", message: "m",
            metadata: [
                "b.count": .stringConvertible(42), "a.list": ["x", "y\n"], "c.nested": ["inner": ["deep": "v"]],
                "host.id": "h1",
            ])
        #expect(line.hasPrefix(#"{"timestamp":"t","level":"info","label":"l","message":"m","metadata":{"a.list":["x","y\n"],"b.count":"42""#))
        let metadata = try #require(try Self.parse(line)["metadata"] as? [String: Any])
        #expect(metadata["a.list"] as? [String] == ["x", "y\n"])
        #expect(metadata["b.count"] as? String == "42")
        #expect(((metadata["c.nested"] as? [String: Any])?["inner"] as? [String: Any])?["deep"] as? String == "v")
        #expect(metadata["host.id"] as? String == "h1")
    }

    @Test("the timestamp is UTC now, with milliseconds")
    func timestamp() throws {
        let stamp = JSONLogHandler.timestamp()
        #expect(stamp.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(stamp)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(formatter.date(from: stamp))
        #expect(abs(date.timeIntervalSinceNow) < 5)
    }

    @Test("--log-format takes text or json; anything else is a usage error naming the value, before logging is set up")
    func formats() throws {
        #expect(try LogOptions.parse([]).logFormat == "text")
        #expect(try LogOptions.parse(["--log-format", "json"]).logFormat == "json")
        #expect(Set(LogOptions.Format.allCases.map(\.rawValue)) == ["text", "json"])
        for bad in ["yaml", "JSON", "", "json\n"] {
            let options = try LogOptions.parse(["--log-format", bad])
            #expect {
                _ = try options.bootstrap(label: "x")
            } throws: { error in
                let error = error as? CLIError
                return error?.code == "usage" && error?.message.hasPrefix("--log-format \"") == true
                    && error?.message.hasSuffix("\" is not text or json") == true && error?.message.contains("\n") == false
            }
        }
    }
}
