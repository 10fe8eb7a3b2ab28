import Foundation
import Testing
import TestSupport

/// Rescue keys through the real binary, server, agent and sshd (issue 9.4): a break-glass key of a login
/// logs in exactly while the host is flagged for rescue.
@Suite("Host rescue: break-glass keys")
struct HostRescueE2ETests {
    @Test("keyfleet host rescue on lets the login's rescue key in within a second; off refuses it again; both audited")
    func rescueOnAndOff() throws {
        let fleet = try HostAgentE2ETests.Fleet()
        let server = fleet.server
        let login = fleet.login
        let daily = try fleet.keyPair("daily")
        let oncall = try fleet.keyPair("oncall")
        _ = try fleet.importProjectKey("daily", daily.line)
        #expect(try fleet.secondsUntil(daily.path, logsIn: true) != nil, "\(fleet.diagnostics)")
        // The login keeps only its own key, so the project's keys (oncall among them once imported) do not reach it.
        let only = try server.client(["host", "add-key", "web-1", "--ssh-key", "daily", "--login", login, "--only"])
        #expect(only.status == 0, "\(only.stderr)")
        _ = try fleet.importProjectKey("oncall", oncall.line)
        let added = try server.client(["host", "add-key", "web-1", "--ssh-key", "oncall", "--login", login, "--rescue"])
        #expect(added.status == 0, "\(added.stderr)")
        let keys = try server.client(["host", "keys", "web-1"])
        #expect(keys.text.contains("rescue (off)") && keys.text.contains("oncall"), "\(keys.text)")
        #expect(try fleet.logsIn(oncall.path) == false, "not flagged: the rescue key stays out")

        let on = try server.client(["host", "rescue", "web-1", "on"])
        #expect(on.status == 0, "\(on.stderr)")
        let opened = try fleet.secondsUntil(oncall.path, logsIn: true)
        #expect(opened != nil && opened! < 1.0, "rescue key in after \(String(describing: opened)) s\n\(fleet.diagnostics)")
        #expect(try fleet.logsIn(daily.path), "the login's own key keeps working")

        let off = try server.client(["host", "rescue", "web-1", "off"])
        #expect(off.status == 0, "\(off.stderr)")
        let closed = try fleet.secondsUntil(oncall.path, logsIn: false)
        #expect(closed != nil && closed! < 1.0, "rescue key out after \(String(describing: closed)) s\n\(fleet.diagnostics)")
        #expect(try fleet.logsIn(daily.path))

        let audit = try server.client(["audit", "list", "-o", "json"])
        #expect(audit.text.contains("host.rescue.on") && audit.text.contains("host.rescue.off"), "\(audit.text.suffix(2000))")
        let wrong = try server.client(["host", "rescue", "web-1", "maybe"])
        #expect(wrong.status != 0 && wrong.stderr.split(separator: "\n").count == 1 && wrong.stderr.contains("on or off"), "\(wrong.stderr)")
    }
}
