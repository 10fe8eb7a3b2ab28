import Foundation
import HummingbirdTesting
import KeyfleetCore
import KeyfleetStore
import SSHKeys
import TestSupport

/// A user made through the API, with a token.
struct APIUser: Sendable {
    let id: String
    let name: String
    let token: String
}

extension TestClientProtocol {
    /// Makes a user (as the administrator) and a token for them, both through the API.
    func apiUser(_ registry: TestRegistry, _ name: String, role: String = "user", scope: String = "read-write") async throws -> APIUser {
        let user = try await call(.post, "/v1/users", token: registry.adminToken, json: ["name": name, "role": role])
        guard user.status == 201, let id = user.object["id"] as? String else { throw FixtureError(description: "user: \(user.text)") }
        let token = try await call(.post, "/v1/tokens", token: registry.adminToken, json: ["user": id, "scope": scope])
        guard token.status == 201, let secret = token.object["secret"] as? String else { throw FixtureError(description: "token: \(token.text)") }
        return APIUser(id: id, name: name, token: secret)
    }

    /// Makes a project owned by the token's user and returns its identifier.
    func apiProject(_ token: String, _ name: String) async throws -> String {
        let answer = try await call(.post, "/v1/projects", token: token, json: ["name": name])
        guard answer.status == 201, let id = answer.object["id"] as? String else { throw FixtureError(description: "project: \(answer.text)") }
        return id
    }

    /// Imports a fresh Ed25519 key named `name` into `project`; returns its identifier.
    func apiProjectKey(_ token: String, _ name: String, project: String) async throws -> String {
        let answer = try await call(
            .post, "/v1/ssh-keys", token: token, json: ["name": name, "public_key": try TestKeys.ed25519Line(), "project": project])
        guard answer.status == 201, let id = (answer.object["key"] as? [String: Any])?["id"] as? String else {
            throw FixtureError(description: "key: \(answer.text)")
        }
        return id
    }

    /// Makes a host named `name` in `project`; returns its identifier.
    func apiHost(_ token: String, _ name: String, project: String) async throws -> String {
        let answer = try await call(.post, "/v1/hosts", token: token, json: ["name": name, "project": project])
        guard answer.status == 201, let id = (answer.object["host"] as? [String: Any])?["id"] as? String else {
            throw FixtureError(description: "host: \(answer.text)")
        }
        return id
    }
}

/// Keys made at test time.
enum TestKeys {
    /// A fresh Ed25519 public key line with a random comment.
    static func ed25519Line() throws -> String {
        try PrivateKey.generate(.ed25519, comment: RandomInput.comment()).publicKey.openSSHLine
    }

    /// A key pair made by the real ssh-keygen: the private key file's text and the `.pub` line.
    static func sshKeygen(_ type: String, bits: Int? = nil, comment: String = "test@keyfleet", in directory: TemporaryDirectory) throws
        -> (privatePath: String, privateText: String, publicLine: String)
    {
        let path = directory.file("key-\(UUID().uuidString)")
        var arguments = ["-q", "-t", type, "-N", "", "-C", comment, "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        try ExternalTool.runChecked("ssh-keygen", arguments)
        let privateText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        let publicLine = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path + ".pub")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (path, privateText, publicLine)
    }

    /// `ssh-keygen -e -m FORMAT` of a public key file.
    static func export(_ privatePath: String, format: String) throws -> String {
        try ExternalTool.runChecked("ssh-keygen", ["-e", "-m", format, "-f", privatePath + ".pub"]).text
    }

    /// The SHA256 fingerprint ssh-keygen prints.
    static func fingerprint(_ privatePath: String) throws -> String {
        let text = try ExternalTool.runChecked("ssh-keygen", ["-l", "-E", "sha256", "-f", privatePath + ".pub"]).text
        return text.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }

    /// The `type base64` part of a line, without comment.
    static func material(_ line: String) -> String {
        line.split(separator: " ").prefix(2).joined(separator: " ")
    }
}

extension TestRegistry {
    /// Every key in the store.
    func storedKeys() async throws -> [SSHKeyRecord] {
        try await store.keys(KeyFilter(), page: .largest).items
    }

    /// The audit actions recorded so far.
    func auditActions() async throws -> [String] {
        try await store.audit(AuditFilter(), page: .largest).items.map(\.action)
    }
}

/// A fixture step through the API that did not answer as expected.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
}
