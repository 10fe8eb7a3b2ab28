import Foundation
import Testing
import TestSupport

/// Project membership by consent through the real `keyfleet` and server (issue 10.6).
@Suite("Registry: project invitations")
struct RegistryInvitationsE2ETests {
    @Test("an owner invites, the invitee sees and accepts; their key reaches the host only then")
    func inviteAndAccept() throws {
        let directory = try TemporaryDirectory()
        let server = try RegistryServerProcess(dataDirectory: directory.file("data"))
        defer { server.stop() }
        func token(for user: String) throws -> String {
            #expect(try server.client(["user", "create", user]).status == 0)
            return try server.client(["token", "create", "--user", user]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let alice = try token(for: "alice")
        let bob = try token(for: "bob")
        let key = try RealKeys.make("ed25519", in: directory, name: "bob")
        let fingerprint = try RealKeys.fingerprint(key + ".pub")
        #expect(try server.client(["ssh-key", "create", "--name", "bob-laptop", "--public-key-from-file", key + ".pub"], token: bob).status == 0)
        #expect(try server.client(["project", "create", "web"], token: alice).status == 0)
        #expect(try server.client(["host", "create", "h", "--project", "web", "--user-data-file", directory.file("ud")], token: alice).status == 0)
        func rootKeys() throws -> [String] {
            let access = try server.clientJSON(["host", "keys", "h", "--login", "root", "-o", "json"]) as? [String: Any]
            let logins = access?["logins"] as? [[String: Any]] ?? []
            return logins.flatMap { ($0["keys"] as? [[String: Any]] ?? []).compactMap { $0["fingerprint"] as? String } }
        }

        let invited = try server.client(["project", "add-member", "web", "bob", "--role", "member"], token: alice)
        #expect(invited.status == 0, "\(invited.stderr)")
        #expect(invited.text.contains("Invited bob to web as member") && invited.text.contains("keyfleet project accept web"), "\(invited.text)")
        #expect(try rootKeys() == [])
        let pending = try server.client(["project", "describe", "web"], token: alice)
        #expect(pending.text.contains("Invited (not yet members):") && pending.text.contains("bob"), "\(pending.text)")

        let listed = try server.client(["project", "invitations"], token: bob)
        #expect(listed.status == 0 && listed.text.contains("web") && listed.text.contains("alice"), "\(listed.text)")
        let wrong = try server.client(["project", "accept", "db"], token: bob)
        #expect(wrong.status == 1 && wrong.stderr.hasPrefix("keyfleet: you have no invitation to a project named \"db\""), "\(wrong.stderr)")
        let accepted = try server.client(["project", "accept", "web"], token: bob)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.text.contains("bob") && accepted.text.contains("member"), "\(accepted.text)")
        #expect(try rootKeys() == [fingerprint])
        #expect(try server.client(["project", "invitations"], token: bob).text.split(separator: "\n").count == 1)
    }
}
