public import KeyfleetAPI

extension RegistryAPI {
    public func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listProjects is not implemented yet")
    }

    public func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createProject is not implemented yet")
    }

    public func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getProject is not implemented yet")
    }

    public func deleteProject(_ input: Operations.DeleteProject.Input) async throws -> Operations.DeleteProject.Output {
        throw APIProblem(status: 501, code: "not-implemented", "deleteProject is not implemented yet")
    }

    public func setProjectMember(_ input: Operations.SetProjectMember.Input) async throws -> Operations.SetProjectMember.Output {
        throw APIProblem(status: 501, code: "not-implemented", "setProjectMember is not implemented yet")
    }

    public func removeProjectMember(_ input: Operations.RemoveProjectMember.Input) async throws -> Operations.RemoveProjectMember.Output {
        throw APIProblem(status: 501, code: "not-implemented", "removeProjectMember is not implemented yet")
    }
}
