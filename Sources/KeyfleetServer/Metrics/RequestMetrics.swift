internal import HTTPTypes
internal import Hummingbird
internal import OpenAPIRuntime
internal import Synchronization

/// The OpenAPI operation a request reached, written by ``OperationMetricsMiddleware`` for
/// ``RequestMetricsMiddleware``, which runs before routing and so cannot know it.
final class OperationLabel: Sendable {
    /// The label of the request being handled, bound by ``RequestMetricsMiddleware``.
    @TaskLocal static var current: OperationLabel?

    private let operation = Mutex<String?>(nil)

    /// The operation id, once the request reached an operation.
    var value: String? {
        get { operation.withLock { $0 } }
        set { operation.withLock { $0 = newValue } }
    }
}

/// Counts and times every request the router answers, by route and status.
///
/// The route is the OpenAPI operation id when the request reached an operation, else the route template the
/// router matched, else `unmatched`: never the request's path, which holds names and identifiers. It sits
/// first among the router's middlewares, so requests refused before any operation (unknown paths, methods
/// a path does not take) are counted too.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The operation id of the agents' long-poll.
    static var syncOperation: String { "syncAgent" }

    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let generation = metrics.changes.generation
        let label = OperationLabel()
        return try await metrics.inFlight {
            do {
                let response = try await OperationLabel.$current.withValue(label) { try await next(request, context) }
                let end = ContinuousClock.now
                let route = Self.route(operation: label.value, template: context.endpointPath)
                metrics.recordRequest(route: route, status: Int(response.status.code), duration: end - start)
                if route == Self.syncOperation, response.status == .ok {
                    metrics.recordSyncAnswer(generationAtStart: generation, answeredAt: end)
                }
                return response
            } catch {
                let status = (error as? any HTTPResponseError)?.status.code ?? 500
                let route = Self.route(operation: label.value, template: context.endpointPath)
                metrics.recordRequest(route: route, status: Int(status), duration: ContinuousClock.now - start)
                throw error
            }
        }
    }

    /// The route label: the operation id, else the matched route template, else `unmatched`.
    static func route(operation: String?, template: String?) -> String {
        if let operation { return operation }
        guard let template, template != "NotFound", !template.isEmpty else { return "unmatched" }
        return template
    }
}

/// Tells ``RequestMetricsMiddleware`` which operation a request reached, and counts the agent syncs under
/// way. The first of the OpenAPI middlewares.
struct OperationMetricsMiddleware: ServerMiddleware {
    let metrics: ServerMetrics

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        OperationLabel.current?.value = operationID
        guard operationID == RequestMetricsMiddleware<BasicRequestContext>.syncOperation else {
            return try await next(request, body, metadata)
        }
        metrics.syncsInFlight.increment()
        defer { metrics.syncsInFlight.decrement() }
        return try await next(request, body, metadata)
    }
}

/// Records when a change made through the API is signalled to waiting agent syncs (``ChangeTimeline``).
///
/// The last of the OpenAPI middlewares, right inside ``ChangeMiddleware``: it sees the answer once the
/// change's transaction committed, just before ``ChangeMiddleware`` signals it, and applies the same rule
/// to tell which answers are signalled.
struct ChangeTimingMiddleware: ServerMiddleware {
    let metrics: ServerMetrics

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let answer = try await next(request, body, metadata)
        if request.method != .get && request.method != .head && answer.0.status.kind == .successful
            && !ChangeMiddleware.silentOperations.contains(operationID)
        {
            metrics.timeline.record(metrics.changes.generation &+ 1, at: .now)
        }
        return answer
    }
}
