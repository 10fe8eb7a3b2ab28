public import KeyfleetAPI

extension RegistryAPI {
    public func listHosts(_ input: Operations.ListHosts.Input) async throws -> Operations.ListHosts.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listHosts is not implemented yet")
    }

    public func createHost(_ input: Operations.CreateHost.Input) async throws -> Operations.CreateHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createHost is not implemented yet")
    }

    public func getHost(_ input: Operations.GetHost.Input) async throws -> Operations.GetHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getHost is not implemented yet")
    }

    public func updateHost(_ input: Operations.UpdateHost.Input) async throws -> Operations.UpdateHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "updateHost is not implemented yet")
    }

    public func deleteHost(_ input: Operations.DeleteHost.Input) async throws -> Operations.DeleteHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "deleteHost is not implemented yet")
    }

    public func addHostKey(_ input: Operations.AddHostKey.Input) async throws -> Operations.AddHostKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "addHostKey is not implemented yet")
    }

    public func removeHostKey(_ input: Operations.RemoveHostKey.Input) async throws -> Operations.RemoveHostKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "removeHostKey is not implemented yet")
    }

    public func setHostLoginAccess(_ input: Operations.SetHostLoginAccess.Input) async throws -> Operations.SetHostLoginAccess.Output {
        throw APIProblem(status: 501, code: "not-implemented", "setHostLoginAccess is not implemented yet")
    }

    public func getHostAccess(_ input: Operations.GetHostAccess.Input) async throws -> Operations.GetHostAccess.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getHostAccess is not implemented yet")
    }

    public func createHostEnrollmentToken(_ input: Operations.CreateHostEnrollmentToken.Input) async throws -> Operations.CreateHostEnrollmentToken.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createHostEnrollmentToken is not implemented yet")
    }
}
