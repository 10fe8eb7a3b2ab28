public import KeyfleetAPI

extension RegistryAPI {
    public func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listUsers is not implemented yet")
    }

    public func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createUser is not implemented yet")
    }

    public func getCurrentUser(_ input: Operations.GetCurrentUser.Input) async throws -> Operations.GetCurrentUser.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getCurrentUser is not implemented yet")
    }

    public func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getUser is not implemented yet")
    }

    public func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output {
        throw APIProblem(status: 501, code: "not-implemented", "deleteUser is not implemented yet")
    }

    public func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listTokens is not implemented yet")
    }

    public func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createToken is not implemented yet")
    }

    public func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        throw APIProblem(status: 501, code: "not-implemented", "revokeToken is not implemented yet")
    }
}
