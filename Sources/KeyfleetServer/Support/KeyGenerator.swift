internal import Foundation
internal import KeyfleetCore
internal import NIOPosix
internal import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs server-side key generation (RSA prime search, bcrypt_pbkdf for a passphrase) on threads of its own,
/// at the lowest CPU priority, with admission limits, so that no caller can hold the threads the store and
/// the request handlers need.
///
/// One generation per user at a time and at most ``capacity`` in the server (running or queued); beyond
/// either, the request is refused with 429 and `Retry-After` instead of waiting.
final class KeyGenerator: Sendable {
    /// The threads generation runs on: half the cores, at least one. Shared by every ``RegistryAPI`` of the
    /// process and kept for its lifetime, like NIO's own singleton pool.
    static let shared = KeyGenerator(threads: max(1, ProcessInfo.processInfo.activeProcessorCount / 2))

    /// Seconds a refused caller is told to wait.
    static let retryAfter = 2

    private let pool: NIOThreadPool
    /// Generations admitted (running or queued) in the whole server.
    let capacity: Int
    private let admitted = Mutex<(total: Int, users: Set<UserID>)>((0, []))

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        capacity = threads * 2
    }

    /// Runs `work` for `user` on the generation threads, or throws 429 when `user` already has a generation
    /// running or the server has ``capacity``.
    func run<Value: Sendable>(for user: UserID, _ work: @escaping @Sendable () -> Value) async throws -> Value {
        let refusal: String? = admitted.withLock { state in
            if state.users.contains(user) { return "you already have a key generation running; wait for it to finish" }
            if state.total >= capacity { return "the server is generating as many keys as it allows at once; try again shortly" }
            state.users.insert(user)
            state.total += 1
            return nil
        }
        if let refusal { throw APIProblem.tooManyRequests(refusal, retryAfter: Self.retryAfter) }
        defer {
            admitted.withLock { state in
                state.users.remove(user)
                state.total -= 1
            }
        }
        return try await pool.runIfActive {
            Self.lowerPriority()
            return work()
        }
    }

    /// Puts the calling thread at nice 19 (on Linux, `setpriority` with who 0 applies to the calling thread
    /// only), so request handling wins the CPU whenever both want it.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }
}
