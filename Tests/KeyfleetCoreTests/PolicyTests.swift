import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

@Suite("Names, logins, labels, identifiers, expiry")
struct PolicyTests {
    static let goodLogins = ["root", "_svc", "a", "deploy-1", "user.name", "a_b", "www-data", String(repeating: "a", count: 32), "a.b.c", "x-", "_"]
    static let badLogins = [
        "", "-g", "a b", "../../etc/shadow", "a/b", String(repeating: "a", count: 33), "Root", "1abc", "a..b", ".", "..", "é", "a\n",
        "a$", "root\0", ".hidden", "a\u{2028}", "ROOT", "a:b", "a@b", "a\\b",
    ]

    @Test("login names that match ^[a-z_][a-z0-9._-]{0,31}$ without ..", arguments: goodLogins)
    func goodLogin(_ text: String) throws {
        #expect(try LoginName(text).rawValue == text)
        #expect(LoginName(rawValue: text) != nil)
    }

    @Test("login names refused", arguments: badLogins)
    func badLogin(_ text: String) {
        #expect(throws: PolicyError(.invalidLogin, "")) { try LoginName(text) }
        #expect(LoginName(rawValue: text) == nil)
    }

    @Test("login names agree with the regular expression on random input")
    func loginRegex() throws {
        let regex = try Regex("^[a-z_][a-z0-9._-]{0,31}$")
        let alphabet = Array("abz_09.-/ A\u{0}é.")
        for _ in 0..<5000 {
            let text = String((0..<Int.random(in: 0...34)).map { _ in alphabet.randomElement() ?? "a" })
            let expected = text.wholeMatch(of: regex) != nil && !text.contains("..")
            #expect(LoginName.isValid(text) == expected, "\(text.debugDescription)")
        }
    }

    @Test("a host refuses the login default, duplicates, and access for a login it does not have")
    func hostLogins() throws {
        #expect(throws: PolicyError(.reservedLogin, "")) {
            try Host(id: id("h"), project: id("p"), name: "h", logins: [login("default")])
        }
        #expect(throws: PolicyError(.invalidLogin, "")) {
            try Host(id: id("h"), project: id("p"), name: "h", logins: [.root, .root])
        }
        #expect(throws: PolicyError(.invalidLogin, "")) {
            try Host(id: id("h"), project: id("p"), name: "h", logins: [.root], access: [login("deploy"): .explicit([])])
        }
        var host = try Host(
            id: id("h"), project: id("p"), name: "h", logins: [.root, login("deploy")], access: [login("deploy"): .explicit([id("k")])])
        #expect(host.logins == [.root, try login("deploy")])
        #expect(host.access(for: .root) == .inherited)
        try host.setLogins([.root])
        #expect(host.access.isEmpty)
        #expect(throws: PolicyError(.invalidLogin, "")) { try host.setAccess(.explicit([]), for: login("deploy")) }
        #expect(try Host(id: id("h"), project: id("p"), name: "h").logins == [.root])
    }

    static let goodLabels: [[String: String]] = [
        [:], ["env": "prod"], ["a": ""], ["team/owner": "ops team"], ["x.y_z-1": "é中 ok"], ["a1": String(repeating: "v", count: 63)],
        [String(repeating: "k", count: 63): "v"], ["k8s.io/role": "web"],
    ]
    static let badLabels: [[String: String]] = [
        ["": "v"], ["Env": "v"], ["-a": "v"], ["a-": "v"], ["a b": "v"], ["a\n": "v"], ["é": "v"], [String(repeating: "k", count: 64): "v"],
        ["a": String(repeating: "v", count: 64)], ["a": "x\ny"], ["a": "x\u{0}"], ["a": "\u{202E}rtl"], ["a": "x\u{85}"], ["_a": "v"],
        ["a/": "v"], ["a": "tab\there"],
    ]

    @Test("labels accepted", arguments: goodLabels)
    func goodLabel(_ labels: [String: String]) throws {
        try LabelPolicy.validate(labels)
    }

    @Test("labels refused", arguments: badLabels)
    func badLabel(_ labels: [String: String]) {
        #expect(throws: PolicyError(.invalidLabel, "")) { try LabelPolicy.validate(labels) }
    }

    @Test("at most 64 labels")
    func labelCount() throws {
        let many = Dictionary(uniqueKeysWithValues: (0..<65).map { ("k\($0)", "v") })
        #expect(throws: PolicyError(.invalidLabel, "")) { try LabelPolicy.validate(many) }
        try LabelPolicy.validate(many.filter { $0.key != "k0" })
    }

    static let badNames = [
        "", " lead", "trail ", "a\nb", "a\rb", "x\u{0}", "x\u{2028}y", "x\u{85}y", "x\u{202E}y", String(repeating: "n", count: 65), "\t",
    ]

    @Test("names refused", arguments: badNames)
    func badName(_ name: String) {
        #expect(throws: PolicyError.self) { try NamePolicy.validate(name) }
        #expect(throws: PolicyError.self) { try Project(id: id("p"), name: name) }
    }

    @Test("names accepted")
    func goodNames() throws {
        for name in ["a", "alice's laptop", #"x" command="rm -rf /"#, "a,b c", "é中", String(repeating: "n", count: 64), "keyfleet:fake"] {
            try NamePolicy.validate(name)
        }
    }

    @Test("identifiers")
    func identifiers() throws {
        for good in ["0b5c1a7e-2f4d-4c3a-9a61-1d2e3f4a5b6c", "a", "A.b_c-1", String(repeating: "x", count: 64)] {
            #expect(try ProjectID(good).rawValue == good)
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "a\n", String(repeating: "x", count: 65), "é"] {
            #expect(throws: PolicyError(.invalidIdentifier, "")) { try ProjectID(bad) }
            #expect(ProjectID(rawValue: bad) == nil)
        }
        let decoded = try JSONDecoder().decode([KeyID].self, from: Data(#"["k1","k2"]"#.utf8))
        #expect(decoded == [try id("k1"), try id("k2")])
        #expect(throws: (any Error).self) { try JSONDecoder().decode([KeyID].self, from: Data(#"["a b"]"#.utf8)) }
    }

    @Test("expiry-time text agrees with date(1) on random times, to the second, in UTC")
    func expiryTimeText() throws {
        var times: [UInt64] = [ExpiryTime.earliest, ExpiryTime.latest, 951_782_400, 4_107_542_399, 1_700_000_059, 1_709_164_800]
        for _ in 0..<300 { times.append(UInt64.random(in: ExpiryTime.earliest...ExpiryTime.latest)) }
        let dir = try TemporaryDirectory()
        let input = try dir.write("times", times.map { "@\($0)" }.joined(separator: "\n") + "\n")
        let expected = try ExternalTool.runChecked("date", ["-u", "-f", input, "+%Y%m%d%H%M%SZ"], environment: ["TZ": "UTC"]).text
            .split(separator: "\n").map(String.init)
        #expect(expected.count == times.count)
        for (time, text) in zip(times, expected) {
            #expect(ExpiryTime.authorizedKeysText(time) == text, "\(time)")
            // And SSHKeys (sshd's grammar) accepts it.
            _ = try AuthorizedKey(options: [.expiryTime(ExpiryTime.authorizedKeysText(time))], key: TestKeys.ed25519())
        }
        #expect(throws: PolicyError(.invalidExpiry, "")) { try ExpiryTime.validate(ExpiryTime.earliest - 1) }
        #expect(throws: PolicyError(.invalidExpiry, "")) { try ExpiryTime.validate(ExpiryTime.latest + 1) }
    }

    @Test("enrollment values are checked")
    func enrollment() throws {
        let hash = "sha256:" + String(repeating: "ab", count: 32)
        let token = "tok_0123456789abcdefABCDEF-~."
        _ = try Enrollment(serverURL: "https://keyfleet.example.com:8443/base", token: token, caCertHash: hash)
        _ = try Enrollment(serverURL: "http://127.0.0.1:8080", token: token, caCertHash: hash)
        #expect(try Enrollment(serverURL: "http://127.0.0.1:8080", token: token, caCertHash: nil).caCertHash == nil)
        for url in ["ftp://x", "https://", "https://a b", "https://x\n", "https://x\"y", "keyfleet.example.com", ""] {
            #expect(throws: PolicyError(.invalidEnrollment, "")) { try Enrollment(serverURL: url, token: token, caCertHash: hash) }
        }
        for bad in ["short", "has space in it 0123", "quote\"0123456789abcdef", "new\nline0123456789abcdef", String(repeating: "t", count: 513)] {
            #expect(throws: PolicyError(.invalidEnrollment, "")) { try Enrollment(serverURL: "https://x", token: bad, caCertHash: hash) }
        }
        for bad in ["", "sha256:abc", "sha1:" + String(repeating: "a", count: 64), "sha256:" + String(repeating: "A", count: 64)] {
            #expect(throws: PolicyError(.invalidEnrollment, "")) { try Enrollment(serverURL: "https://x", token: token, caCertHash: bad) }
        }
    }
}
