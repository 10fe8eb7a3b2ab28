import Foundation
import Testing
import TestSupport

@testable import KeyfleetAgent

@Suite("Checking the server's answer before anything is written")
struct AccessSetTests {
    static let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm19fmUn4mKUDFmcz6+/yGcwLitUDN5nxdvjjja0lm4"

    @Test("a plain line and an expiring line are kept, rendered again")
    func accepted() throws {
        let access = try AccessSet(
            version: 3, logins: ["root": ["\(Self.key) keyfleet:a", "expiry-time=\"202701011200Z\" \(Self.key) keyfleet:b"], "deploy": []])
        #expect(access.logins["root"]?.count == 2)
        #expect(access.logins["deploy"] == [])
    }

    @Test(
        "hostile logins are refused", arguments: ["../../etc/shadow", "a/b", "-g", "a b", "Root", "", String(repeating: "a", count: 33), "..", "."])
    func hostileLogin(_ login: String) {
        #expect(throws: AgentError(.malformedAnswer, "")) { try AccessSet(version: 1, logins: [login: []]) }
    }

    @Test(
        "lines carrying other options, a second key, control characters or garbage are refused",
        arguments: [
            "command=\"/bin/sh\" \(key) x",
            "from=\"*\" \(key) x",
            "\(key) keyfleet:a\n\(key) smuggled",
            "\(key) keyfleet:a\r",
            "\(key) a\u{0}b",
            "no-pty,\(key) x",
            "ssh-ed25519 AAAA",
            "",
        ])
    func hostileLine(_ line: String) {
        #expect(throws: AgentError(.malformedAnswer, "")) { try AccessSet(version: 1, logins: ["root": [line]]) }
    }

    @Test("the saved answer is checked again when read back: a tampered line or login makes it unreadable, never trusted")
    func decodingChecks() throws {
        let good = try AccessSet(version: 7, logins: ["root": ["\(Self.key) keyfleet:a"]])
        let data = try JSONEncoder().encode(good)
        #expect(try JSONDecoder().decode(AccessSet.self, from: data) == good)
        for tampered in [
            #"{"version":7,"logins":{"root":["command=\"/bin/sh\" \#(Self.key) x"]}}"#,
            #"{"version":7,"logins":{"../../etc/shadow":["\#(Self.key) x"]}}"#,
            #"{"version":7,"logins":{"root":["\#(Self.key) a\n\#(Self.key) b"]}}"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(AccessSet.self, from: Data(tampered.utf8)) }
        }
    }
}
