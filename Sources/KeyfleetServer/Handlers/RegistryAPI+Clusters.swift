public import KeyfleetAPI

extension RegistryAPI {
    public func listClusters(_ input: Operations.ListClusters.Input) async throws -> Operations.ListClusters.Output {
        throw APIProblem(status: 501, code: "not-implemented", "listClusters is not implemented yet")
    }

    public func createCluster(_ input: Operations.CreateCluster.Input) async throws -> Operations.CreateCluster.Output {
        throw APIProblem(status: 501, code: "not-implemented", "createCluster is not implemented yet")
    }

    public func getCluster(_ input: Operations.GetCluster.Input) async throws -> Operations.GetCluster.Output {
        throw APIProblem(status: 501, code: "not-implemented", "getCluster is not implemented yet")
    }

    public func deleteCluster(_ input: Operations.DeleteCluster.Input) async throws -> Operations.DeleteCluster.Output {
        throw APIProblem(status: 501, code: "not-implemented", "deleteCluster is not implemented yet")
    }

    public func addClusterKey(_ input: Operations.AddClusterKey.Input) async throws -> Operations.AddClusterKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "addClusterKey is not implemented yet")
    }

    public func removeClusterKey(_ input: Operations.RemoveClusterKey.Input) async throws -> Operations.RemoveClusterKey.Output {
        throw APIProblem(status: 501, code: "not-implemented", "removeClusterKey is not implemented yet")
    }

    public func addClusterHost(_ input: Operations.AddClusterHost.Input) async throws -> Operations.AddClusterHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "addClusterHost is not implemented yet")
    }

    public func removeClusterHost(_ input: Operations.RemoveClusterHost.Input) async throws -> Operations.RemoveClusterHost.Output {
        throw APIProblem(status: 501, code: "not-implemented", "removeClusterHost is not implemented yet")
    }
}
