public import KeyfleetAPI

extension RegistryAPI {
    public func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listAuditEntries is not implemented yet")
    }
}
