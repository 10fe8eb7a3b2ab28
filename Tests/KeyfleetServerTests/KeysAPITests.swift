import Foundation
import HTTPTypes
import KeyfleetCore
import KeyfleetStore
import SSHKeys
import TestSupport
import Testing

@Suite("SSH key operations")
struct KeysAPITests {
    @Test("import in every format: the canonical line is stored, the fingerprint agrees with ssh-keygen")
    func importEveryFormat() async throws {
        let directory = try TemporaryDirectory()
        try await TestRegistry.with { registry, client in
            var cases: [(name: String, text: String, format: String, privatePath: String, warned: Bool)] = []
            for (type, bits) in [("ed25519", nil), ("ecdsa", 384), ("rsa", 2048)] as [(String, Int?)] {
                let pair = try TestKeys.sshKeygen(
                    type, bits: bits, comment: RandomInput.comment().replacingOccurrences(of: " ", with: "_"), in: directory)
                cases.append(("\(type)-openssh", pair.publicLine, "openssh", pair.privatePath, false))
                cases.append(("\(type)-private", pair.privateText, "private-key", pair.privatePath, true))
                cases.append(("\(type)-rfc4716", try TestKeys.export(pair.privatePath, format: "RFC4716"), "rfc4716", pair.privatePath, false))
                if type != "ed25519" {
                    cases.append(("\(type)-pkcs8", try TestKeys.export(pair.privatePath, format: "PKCS8"), "pkcs8-pem", pair.privatePath, false))
                }
                if type == "rsa" {
                    cases.append(("\(type)-pkcs1", try TestKeys.export(pair.privatePath, format: "PEM"), "pkcs1-pem", pair.privatePath, false))
                }
            }
            for (index, item) in cases.enumerated() {
                // Each format of one pair under another owner would clash, so each import goes to a fresh owner.
                let user = try await client.apiUser(registry, "importer-\(index)")
                let answer = try await client.call(.post, "/v1/ssh-keys", token: user.token, json: ["name": item.name, "public_key": item.text])
                #expect(answer.status == 201, "\(item.name): \(answer.text)")
                #expect(answer.object["format"] as? String == item.format, "\(item.name)")
                let warnings = (answer.object["warnings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
                #expect(warnings == (item.warned ? ["private-key-discarded"] : []), "\(item.name)")
                let key = answer.object["key"] as? [String: Any] ?? [:]
                let expected = try TestKeys.fingerprint(item.privatePath)
                #expect(key["fingerprint_sha256"] as? String == expected, "\(item.name)")
                let publicLine = try String(contentsOfFile: item.privatePath + ".pub", encoding: .utf8)
                #expect(TestKeys.material(key["public_key"] as? String ?? "") == TestKeys.material(publicLine), "\(item.name)")
                #expect(answer.headers[.location] == "/v1/ssh-keys/\(key["id"] as? String ?? "")")
                #expect(answer.headers[.eTag]?.hasPrefix("\"") == true)
                let owner = key["owner"] as? [String: Any]
                #expect(owner?["kind"] as? String == "user" && owner?["id"] as? String == user.id)
            }
            #expect(try await registry.storedKeys().count == cases.count)
        }
    }

    @Test("every refusal of the import policy has its code, and nothing is stored")
    func refusals() async throws {
        let directory = try TemporaryDirectory()
        let first = try TestKeys.ed25519Line()
        let second = try TestKeys.ed25519Line()
        let weak = try TestKeys.sshKeygen("rsa", bits: 1024, in: directory)
        let dsa = try TestKeys.sshKeygen("dsa", in: directory)
        let ca = try TestKeys.sshKeygen("ed25519", in: directory)
        let subject = try TestKeys.sshKeygen("ed25519", in: directory)
        try ExternalTool.runChecked("ssh-keygen", ["-q", "-s", ca.privatePath, "-I", "test", "-n", "root", subject.privatePath + ".pub"])
        let certificate = try String(contentsOfFile: subject.privatePath + "-cert.pub", encoding: .utf8)
        let material = TestKeys.material(first)
        let cases: [(String, Int, String)] = [
            (first + "\n" + second, 422, "multiple-keys"),
            (material + " comment\n" + second, 422, "multiple-keys"),
            (material + " bad\u{0}comment", 422, "forbidden-character"),
            (material + " bad\u{1B}[31mcomment", 422, "forbidden-character"),
            (material + " a\rb", 422, "forbidden-character"),
            ("command=\"/bin/sh\" " + first, 422, "options-not-allowed"),
            ("no-pty,from=\"10.0.0.1\" " + first, 422, "options-not-allowed"),
            (weak.publicLine, 422, "weak-rsa-key"),
            (dsa.publicLine, 422, "dsa-key"),
            (certificate, 422, "certificate-not-key"),
            ("ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQC7", 422, "unknown-key-type"),
            ("hello world", 422, "invalid-key"),
            ("   ", 422, "no-key"),
            (material + " " + String(repeating: "x", count: 17 * 1024), 413, "input-too-large"),
        ]
        try await TestRegistry.with { registry, client in
            let before = try await registry.auditActions()
            for (index, (text, status, code)) in cases.enumerated() {
                let answer = try await client.call(
                    .post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "k\(index)", "public_key": text])
                #expect(answer.status == status, "case \(index): \(answer.text)")
                #expect(answer.code == code, "case \(index): \(answer.text)")
                #expect(answer.headers[.contentType] == "application/problem+json")
            }
            #expect(try await registry.storedKeys().isEmpty)
            #expect(try await registry.auditActions() == before)
            // Policy refusals of the other fields.
            let bad: [([String: Any], String)] = [
                (["name": "bad\nname", "public_key": first], "invalid-name"),
                (["name": "ok", "public_key": first, "labels": ["Bad Key": "v"]], "invalid-label"),
                (["name": "ok", "public_key": first, "expires_at": "2020-01-01T00:00:00Z"], "expiry-in-past"),
            ]
            for (body, code) in bad {
                let answer = try await client.call(.post, "/v1/ssh-keys", token: registry.adminToken, json: body)
                // A control character in a name is `forbidden-character`, as the Name schema allows.
                let codes = code == "invalid-name" ? [code, "forbidden-character"] : [code]
                #expect(answer.status == 422 && codes.contains(answer.code ?? ""), "\(answer.text)")
            }
            #expect(try await registry.storedKeys().isEmpty)
        }
    }

    @Test("the same key or name twice for one owner is 409 naming the existing key")
    func conflicts() async throws {
        try await TestRegistry.with { registry, client in
            let line = try TestKeys.ed25519Line()
            let created = try await client.call(.post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "laptop", "public_key": line])
            #expect(created.status == 201)
            let id = (created.object["key"] as? [String: Any])?["id"] as? String
            let sameKey = try await client.call(.post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "other", "public_key": line])
            #expect(sameKey.status == 409 && sameKey.code == "conflict")
            #expect(sameKey.object["existing_id"] as? String == id && sameKey.object["existing_name"] as? String == "laptop")
            let sameName = try await client.call(
                .post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "laptop", "public_key": try TestKeys.ed25519Line()])
            #expect(sameName.status == 409 && sameName.object["existing_id"] as? String == id)
            // Another owner may hold the same key.
            let project = try await client.apiProject(registry.adminToken, "web")
            let projectKey = try await client.call(
                .post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": "laptop", "public_key": line, "project": project])
            #expect(projectKey.status == 201)
            #expect(try await registry.storedKeys().count == 2)
        }
    }

    @Test("ETags: 304 on If-None-Match, 412 on a stale If-Match, updates and deletes with a fresh one")
    func entityTags() async throws {
        try await TestRegistry.with { registry, client in
            let created = try await client.call(
                .post, "/v1/ssh-keys", token: registry.adminToken,
                json: ["name": "k", "public_key": try TestKeys.ed25519Line(), "expires_at": "2030-01-01T00:00:00Z"])
            let id = (created.object["key"] as? [String: Any])?["id"] as? String ?? ""
            let path = "/v1/ssh-keys/\(id)"
            let read = try await client.call(.get, path, token: registry.adminToken)
            let tag = try #require(read.headers[.eTag])
            #expect(tag == created.headers[.eTag])
            let notModified = try await client.call(.get, path, token: registry.adminToken, headers: [.ifNoneMatch: tag])
            #expect(notModified.status == 304)
            let changed = try await client.call(
                .patch, path, token: registry.adminToken, json: ["name": "renamed", "labels": ["env": "prod"], "clear_expiry": true],
                headers: [.ifMatch: tag])
            #expect(changed.status == 200, "\(changed.text)")
            #expect(changed.object["name"] as? String == "renamed")
            #expect(changed.object["expires_at"] == nil || changed.object["expires_at"] is NSNull)
            let newTag = try #require(changed.headers[.eTag])
            #expect(newTag != tag)
            let stale = try await client.call(.patch, path, token: registry.adminToken, json: ["comment": "x"], headers: [.ifMatch: tag])
            #expect(stale.status == 412 && stale.code == "precondition-failed")
            let both = try await client.call(
                .patch, path, token: registry.adminToken, json: ["expires_at": "2031-01-01T00:00:00Z", "clear_expiry": true])
            #expect(both.status == 422 && both.code == "invalid-expiry")
            let past = try await client.call(.patch, path, token: registry.adminToken, json: ["expires_at": "2001-01-01T00:00:00Z"])
            #expect(past.status == 422 && past.code == "expiry-in-past")
            let staleDelete = try await client.call(.delete, path, token: registry.adminToken, headers: [.ifMatch: tag])
            #expect(staleDelete.status == 412)
            let delete = try await client.call(.delete, path, token: registry.adminToken, headers: [.ifMatch: newTag])
            #expect(delete.status == 204)
            #expect(try await client.call(.get, path, token: registry.adminToken).status == 404)
            #expect(try await registry.auditActions().suffix(2) == ["key.update", "key.delete"])
        }
    }

    @Test("roles: a viewer reads but cannot change, a stranger sees nothing, a read-only token cannot write")
    func roles() async throws {
        try await TestRegistry.with { registry, client in
            let alice = try await client.apiUser(registry, "alice")
            let bob = try await client.apiUser(registry, "bob")
            let carol = try await client.apiUser(registry, "carol")
            let reader = try await client.apiUser(registry, "reader", scope: "read-only")
            let project = try await client.apiProject(alice.token, "web")
            #expect(
                try await client.call(.put, "/v1/projects/\(project)/members/\(bob.id)", token: alice.token, json: ["role": "viewer"]).status == 202)
            #expect(try await client.call(.post, "/v1/invitations/\(project)", token: bob.token).status == 200)
            let created = try await client.call(
                .post, "/v1/ssh-keys", token: alice.token, json: ["name": "deploy", "public_key": try TestKeys.ed25519Line(), "project": project])
            #expect(created.status == 201)
            let id = (created.object["key"] as? [String: Any])?["id"] as? String ?? ""
            #expect(try await client.call(.get, "/v1/ssh-keys/\(id)", token: bob.token).status == 200)
            let viewerChange = try await client.call(.patch, "/v1/ssh-keys/\(id)", token: bob.token, json: ["comment": "x"])
            #expect(viewerChange.status == 403 && viewerChange.code == "forbidden")
            #expect(try await client.call(.delete, "/v1/ssh-keys/\(id)", token: bob.token).status == 403)
            let viewerCreate = try await client.call(
                .post, "/v1/ssh-keys", token: bob.token, json: ["name": "x", "public_key": try TestKeys.ed25519Line(), "project": project])
            #expect(viewerCreate.status == 403)
            let strangerRead = try await client.call(.get, "/v1/ssh-keys/\(id)", token: carol.token)
            #expect(strangerRead.status == 404 && strangerRead.code == "not-found")
            #expect(try await client.call(.delete, "/v1/ssh-keys/\(id)", token: carol.token).status == 404)
            let strangerCreate = try await client.call(
                .post, "/v1/ssh-keys", token: carol.token, json: ["name": "x", "public_key": try TestKeys.ed25519Line(), "project": project])
            #expect(strangerCreate.status == 422 && strangerCreate.code == "invalid-reference")
            #expect(try await client.call(.get, "/v1/ssh-keys", token: carol.token).items.isEmpty)
            #expect(try await client.call(.get, "/v1/ssh-keys", token: bob.token).items.count == 1)
            let readOnly = try await client.call(
                .post, "/v1/ssh-keys", token: reader.token, json: ["name": "x", "public_key": try TestKeys.ed25519Line()])
            #expect(readOnly.status == 403 && readOnly.code == "read-only-token")
            #expect(try await registry.storedKeys().count == 1)
        }
    }

    @Test("generate: only the public key is stored; the private key comes once, encrypted with the passphrase")
    func generate() async throws {
        let directory = try TemporaryDirectory()
        try await TestRegistry.with { registry, client in
            for (type, bits) in [("ed25519", nil), ("ecdsa", 384), ("rsa", 2048)] as [(String, Int?)] {
                let passphrase = RandomInput.passphrase()
                var body: [String: Any] = ["name": "gen-\(type)", "type": type, "passphrase": passphrase, "comment": "made by test"]
                if let bits { body["bits"] = bits }
                let answer = try await client.call(.post, "/v1/ssh-keys/generate", token: registry.adminToken, json: body)
                #expect(answer.status == 201, "\(answer.text)")
                #expect(answer.headers[.cacheControl] == "no-store")
                let privateText = try #require(answer.object["private_key"] as? String)
                #expect(privateText.hasPrefix("-----BEGIN OPENSSH PRIVATE KEY-----"))
                let key = answer.object["key"] as? [String: Any] ?? [:]
                let path = try directory.write("gen-\(type)", privateText)
                let derived = try ExternalTool.runChecked("ssh-keygen", ["-y", "-P", passphrase, "-f", path]).text
                #expect(TestKeys.material(derived) == TestKeys.material(key["public_key"] as? String ?? ""))
                let wrong = try ExternalTool.run("ssh-keygen", ["-y", "-P", passphrase + "x", "-f", path])
                #expect(wrong.status != 0)
                // The stored key is the public key only; the answer of a read holds no private key.
                let read = try await client.call(.get, "/v1/ssh-keys/\(key["id"] as? String ?? "")", token: registry.adminToken)
                #expect(!read.text.contains("PRIVATE KEY"))
            }
            let weak = try await client.call(
                .post, "/v1/ssh-keys/generate", token: registry.adminToken, json: ["name": "w", "type": "rsa", "bits": 1024])
            #expect(weak.status == 422 && weak.code == "weak-rsa-key")
            let badBits = try await client.call(
                .post, "/v1/ssh-keys/generate", token: registry.adminToken, json: ["name": "w", "type": "ecdsa", "bits": 300])
            #expect(badBits.status == 422 && badBits.code == "invalid-key")
            let taken = try await client.call(.post, "/v1/ssh-keys/generate", token: registry.adminToken, json: ["name": "gen-ed25519"])
            #expect(taken.status == 409)
            #expect(try await registry.storedKeys().count == 3)
            let stored = try await registry.store.audit(AuditFilter(), page: .largest).items.compactMap(\.after).joined()
            #expect(!stored.contains("PRIVATE"))
        }
    }

    @Test("bulk import: all or nothing with per-item problems; skip makes re-runs idempotent; at most 1000")
    func bulkImport() async throws {
        let directory = try TemporaryDirectory()
        let dsa = try TestKeys.sshKeygen("dsa", in: directory)
        try await TestRegistry.with { registry, client in
            let lines = try (0..<3).map { _ in try TestKeys.ed25519Line() }
            let refused = try await client.call(
                .post, "/v1/ssh-keys/bulk", token: registry.adminToken,
                json: [
                    "keys": [
                        ["name": "a", "public_key": lines[0]], ["name": "b", "public_key": lines[1]], ["name": "c", "public_key": dsa.publicLine],
                        ["name": "a", "public_key": lines[2]], ["name": "d", "public_key": lines[0]],
                    ]
                ])
            #expect(refused.status == 422 && refused.code == "bulk-import-refused", "\(refused.text)")
            let errors = refused.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.map { $0["index"] as? Int } == [2, 3, 4])
            #expect(errors.map { $0["code"] as? String } == ["dsa-key", "conflict", "conflict"])
            #expect(errors.map { $0["status"] as? Int } == [422, 409, 409])
            #expect(try await registry.storedKeys().isEmpty)

            let items = lines.enumerated().map { ["name": "key-\($0.offset)", "public_key": $0.element] }
            let first = try await client.call(.post, "/v1/ssh-keys/bulk", token: registry.adminToken, json: ["keys": Array(items.prefix(2))])
            #expect(first.status == 201, "\(first.text)")
            let again = try await client.call(.post, "/v1/ssh-keys/bulk", token: registry.adminToken, json: ["keys": items, "on_existing": "skip"])
            #expect(again.status == 201, "\(again.text)")
            #expect(again.items.map { $0["status"] as? String } == ["existing", "existing", "created"])
            let failing = try await client.call(.post, "/v1/ssh-keys/bulk", token: registry.adminToken, json: ["keys": items])
            #expect(failing.status == 422)
            #expect(try await registry.storedKeys().count == 3)

            let tooMany = (0..<1001).map { ["name": "n\($0)", "public_key": lines[0]] }
            let large = try await client.call(.post, "/v1/ssh-keys/bulk", token: registry.adminToken, json: ["keys": tooMany])
            #expect(large.status == 413 && large.code == "request-too-large")
        }
    }

    @Test("listing pages through every key once, in identifier order, and filters")
    func pagination() async throws {
        try await TestRegistry.with { registry, client in
            let count = Int.random(in: 7...12)
            for index in 0..<count {
                let labels = ["env": index % 2 == 0 ? "prod" : "dev"]
                let answer = try await client.call(
                    .post, "/v1/ssh-keys", token: registry.adminToken,
                    json: ["name": "k\(index)", "public_key": try TestKeys.ed25519Line(), "labels": labels])
                #expect(answer.status == 201)
            }
            var seen = [String]()
            var cursor: String?
            var pages = 0
            repeat {
                let query = "/v1/ssh-keys?limit=3" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.call(.get, query, token: registry.adminToken)
                #expect(page.status == 200)
                #expect(page.items.count <= 3)
                seen += page.items.compactMap { $0["id"] as? String }
                cursor = page.object["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 20
            #expect(seen.count == count && Set(seen).count == count && seen == seen.sorted())
            #expect(pages == (count + 2) / 3)
            let prod = try await client.call(.get, "/v1/ssh-keys?label=env%3Dprod", token: registry.adminToken)
            #expect(prod.items.count == (count + 1) / 2)
            let named = try await client.call(.get, "/v1/ssh-keys?name=k3&owner=me", token: registry.adminToken)
            #expect(named.items.count == 1)
            let fingerprint = named.items.first?["fingerprint_sha256"] as? String ?? ""
            let byPrint = try await client.call(
                .get, "/v1/ssh-keys?fingerprint=" + (fingerprint.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""),
                token: registry.adminToken)
            #expect(byPrint.items.map { $0["name"] as? String } == ["k3"])
            #expect(try await client.call(.get, "/v1/ssh-keys?limit=0", token: registry.adminToken).code == "bad-request")
            #expect(try await client.call(.get, "/v1/ssh-keys?limit=1001", token: registry.adminToken).status == 400)
            #expect(try await client.call(.get, "/v1/ssh-keys?cursor=bogus", token: registry.adminToken).code == "invalid-input")
            #expect(try await client.call(.get, "/v1/ssh-keys?owner=me&project=p1", token: registry.adminToken).code == "bad-request")
        }
    }

    @Test("the listing filters by key type, and refuses a type that is not one")
    func typeFilter() async throws {
        try await TestRegistry.with { registry, client in
            let ecdsa = try PrivateKey.generate(.ecdsa(.nistp384), comment: "e").publicKey.openSSHLine
            for (name, line) in [("ed", try TestKeys.ed25519Line()), ("ec", ecdsa), ("ed2", try TestKeys.ed25519Line())] {
                let created = try await client.call(.post, "/v1/ssh-keys", token: registry.adminToken, json: ["name": name, "public_key": line])
                #expect(created.status == 201)
            }
            let names = { (type: String) in
                try await client.call(.get, "/v1/ssh-keys?type=" + type, token: registry.adminToken).items.compactMap { $0["name"] as? String }
            }
            #expect(Set(try await names("ssh-ed25519")) == ["ed", "ed2"])
            #expect(try await names("ecdsa-sha2-nistp384") == ["ec"])
            #expect(try await names("ssh-rsa").isEmpty)
            let bogus = try await client.call(.get, "/v1/ssh-keys?type=ssh-bogus", token: registry.adminToken)
            #expect(bogus.status == 400 && bogus.object["field"] as? String == "type")
        }
    }
}
