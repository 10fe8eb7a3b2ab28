import KeyfleetCore
import KeyfleetStore
import Testing

@Suite("Store: a host and its first enrollment token in one transaction")
struct StoreHostEnrollmentTests {
    @Test func hostAndTokenAreStoredTogether() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "p", by: f.principal)
        let host = try await f.store.createHost(enrollmentTokenHash: digest(1), expiresAt: f.determinism.now + 60, by: f.principal) { id in
            try Host(id: id, project: project.id, name: "h")
        }
        #expect(try await f.store.enroll(tokenHash: digest(1), credentialHash: digest(2)) == host.id)
        let actions = try await f.store.audit(AuditFilter(objectID: host.id.rawValue), page: .largest).items.map(\.action)
        #expect(actions == ["host.create", "host.enrollment-token.create", "host.enroll"])
    }

    @Test func aRefusedTokenLeavesNoHost() async throws {
        let f = try await Fixture()
        let project = try await f.store.createProject(name: "p", by: f.principal)
        _ = try await f.store.createHost(enrollmentTokenHash: digest(1), expiresAt: f.determinism.now + 60, by: f.principal) { id in
            try Host(id: id, project: project.id, name: "first")
        }
        let before = try await f.store.audit(AuditFilter(), page: .largest).items.count
        let version = try await f.store.version()
        // The same token hash again: the token is refused, so the host must not be stored either.
        await #expect(throws: StoreError.self) {
            _ = try await f.store.createHost(enrollmentTokenHash: digest(1), expiresAt: f.determinism.now + 60, by: f.principal) { id in
                try Host(id: id, project: project.id, name: "second")
            }
        }
        #expect(try await f.store.hosts(HostFilter(name: "second"), page: .largest).items.isEmpty)
        #expect(try await f.store.audit(AuditFilter(), page: .largest).items.count == before)
        #expect(try await f.store.version() == version)
    }
}
