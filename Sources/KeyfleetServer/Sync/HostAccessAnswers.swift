public import HTTPTypes
internal import KeyfleetCore
public import OpenAPIRuntime
internal import Synchronization

/// Keeps the encoded answer of `getHostAccess` with the host view it was made from, and answers with it
/// while that view holds.
///
/// A host with a hundred keys answers about 60 KB of sorted, indented JSON, and encoding it took nearly all
/// of the read's time; the view itself was already kept (``AccessCache``). The answer depends only on the
/// view, which carries every name it shows (``AccessCache/HostView/serial`` changes when any of them can),
/// so the bytes are kept beside the view's serial. Only the whole answer is kept (no `?login=`), and only after
/// the caller was found allowed to read the host, exactly as the handler decides it; the handler makes the
/// answer from the very view checked here (``pinned(_:)``). Up to ``capacity`` bytes are kept; beyond it the
/// oldest answers go.
public struct HostAccessAnswers: ServerMiddleware {
    /// The most bytes of answers kept.
    static let capacity = 64 << 20
    /// The largest answer read back to be kept.
    static let largestAnswer = 16 << 20

    @TaskLocal static var pinnedView: (id: HostID, view: AccessCache.HostView, registry: AccessCache.Registry)?

    /// The view the middleware checked for host `id` in this request, for the handler to answer from.
    static func pinned(_ id: HostID) -> (view: AccessCache.HostView, registry: AccessCache.Registry)? {
        guard let pinned = pinnedView, pinned.id == id else { return nil }
        return (pinned.view, pinned.registry)
    }

    let access: AccessCache
    let clock: @Sendable () -> UInt64
    let answers: Store

    /// Answers kept in `answers` for `access`'s views, at the time `clock` gives.
    public init(access: AccessCache, answers: Store, clock: @escaping @Sendable () -> UInt64) {
        self.access = access
        self.answers = answers
        self.clock = clock
    }

    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard operationID == "getHostAccess", request.method == .get, request.path?.contains("?") == false,
            case .user(let user, _) = Caller.current, let text = metadata.pathParameters["host_id"], let id = HostID(rawValue: String(text)),
            let (view, registry) = try await access.host(id, now: clock()), view.mayBeRead(by: user, in: registry)
        else { return try await next(request, body, metadata) }
        if let kept = answers.answer(for: id, serial: view.serial) { return (kept.head, HTTPBody(kept.bytes)) }
        let (head, answer) = try await Self.$pinnedView.withValue((id, view, registry)) { try await next(request, body, metadata) }
        guard head.status == .ok, let answer else { return (head, answer) }
        let bytes = try await [UInt8](collecting: answer, upTo: Self.largestAnswer)
        answers.keep(Store.Answer(serial: view.serial, head: head, bytes: bytes), for: id)
        return (head, HTTPBody(bytes))
    }
}

extension HostAccessAnswers {
    /// The kept answers, oldest first for eviction.
    public final class Store: Sendable {
        struct Answer: Sendable {
            let serial: UInt64
            let head: HTTPResponse
            let bytes: [UInt8]
        }

        private struct State {
            var byHost: [HostID: Answer] = [:]
            var order: [HostID] = []
            var bytes = 0
        }

        private let state = Mutex(State())
        private let served = Atomic<Int>(0)

        /// No answers yet.
        public init() {}

        /// How many requests were answered with a kept answer.
        public var hits: Int { served.load(ordering: .relaxed) }

        func answer(for id: HostID, serial: UInt64) -> Answer? {
            let answer = state.withLock { state in state.byHost[id].flatMap { $0.serial == serial ? $0 : nil } }
            if answer != nil { served.add(1, ordering: .relaxed) }
            return answer
        }

        func keep(_ answer: Answer, for id: HostID) {
            guard answer.bytes.count <= HostAccessAnswers.capacity else { return }
            state.withLock { state in
                if let old = state.byHost.updateValue(answer, forKey: id) {
                    state.bytes -= old.bytes.count
                } else {
                    state.order.append(id)
                }
                state.bytes += answer.bytes.count
                while state.bytes > HostAccessAnswers.capacity, !state.order.isEmpty {
                    let oldest = state.order.removeFirst()
                    if let removed = state.byHost.removeValue(forKey: oldest) { state.bytes -= removed.bytes.count }
                }
            }
        }
    }
}
