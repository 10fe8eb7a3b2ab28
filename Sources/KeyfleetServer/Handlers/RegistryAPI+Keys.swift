public import KeyfleetAPI

extension RegistryAPI {
    public func listSSHKeys(_ input: Operations.ListSSHKeys.Input) async throws -> Operations.ListSSHKeys.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listSSHKeys is not implemented yet")
    }

    public func createSSHKey(_ input: Operations.CreateSSHKey.Input) async throws -> Operations.CreateSSHKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createSSHKey is not implemented yet")
    }

    public func generateSSHKey(_ input: Operations.GenerateSSHKey.Input) async throws -> Operations.GenerateSSHKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "generateSSHKey is not implemented yet")
    }

    public func bulkImportSSHKeys(_ input: Operations.BulkImportSSHKeys.Input) async throws -> Operations.BulkImportSSHKeys.Output {
        throw APIProblem(status: 501, code: "not-implemented", "bulkImportSSHKeys is not implemented yet")
    }

    public func getSSHKey(_ input: Operations.GetSSHKey.Input) async throws -> Operations.GetSSHKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getSSHKey is not implemented yet")
    }

    public func updateSSHKey(_ input: Operations.UpdateSSHKey.Input) async throws -> Operations.UpdateSSHKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "updateSSHKey is not implemented yet")
    }

    public func deleteSSHKey(_ input: Operations.DeleteSSHKey.Input) async throws -> Operations.DeleteSSHKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "deleteSSHKey is not implemented yet")
    }
}
