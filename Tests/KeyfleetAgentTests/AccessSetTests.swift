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

    @Test("hostile logins are refused", arguments: ["../../etc/shadow", "a/b", "-g", "a b", "Root", "", String(repeating: "a", count: 33), "..", "."])
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
}
