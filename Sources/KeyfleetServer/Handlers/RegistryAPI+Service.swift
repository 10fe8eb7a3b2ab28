internal import Foundation
public import KeyfleetAPI
internal import OpenAPIRuntime

extension RegistryAPI {
    /// 200 when the store answers, 503 when it does not.
    public func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        do {
            _ = try await store.version()
        } catch {
            logger.warning("health check failed: the store does not answer")
            throw APIProblem.unavailable
        }
        return .ok(.init(body: .json(.init(status: .ok, version: serverVersion))))
    }

    /// The OpenAPI document compiled into the server.
    public func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(openAPIDocument))))
    }
}
