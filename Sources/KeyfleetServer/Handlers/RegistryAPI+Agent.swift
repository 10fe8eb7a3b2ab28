public import KeyfleetAPI

extension RegistryAPI {
    public func enrollAgent(_ input: Operations.EnrollAgent.Input) async throws -> Operations.EnrollAgent.Output {
        throw APIProblem(status: 501, code: "not-implemented", "enrollAgent is not implemented yet")
    }

    public func syncAgent(_ input: Operations.SyncAgent.Input) async throws -> Operations.SyncAgent.Output {
        throw APIProblem(status: 501, code: "not-implemented", "syncAgent is not implemented yet")
    }

    public func reportAgent(_ input: Operations.ReportAgent.Input) async throws -> Operations.ReportAgent.Output {
        throw APIProblem(status: 501, code: "not-implemented", "reportAgent is not implemented yet")
    }
}
