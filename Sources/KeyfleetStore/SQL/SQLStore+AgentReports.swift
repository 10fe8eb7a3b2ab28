public import KeyfleetCore
import SQLKit
import Synchronization

extension SQLStore {
    // MARK: Agents' reports

    /// Records an agent's report, durably: it returns once a transaction holding it has committed.
    ///
    /// Reports come in bursts (every host that a change reached applies it and reports within moments), and
    /// each one alone would be a durable commit taking the store's one connection. So they are committed in
    /// groups: the first report to arrive writes at once; the ones that arrive while it is being written
    /// wait and are written together, up to ``ReportQueue/batchLimit`` in one transaction, by the first of
    /// them, which then hands the turn on. A lone report waits for nothing.
    public func recordAgentReport(_ report: AgentReport, host: HostID) async throws {
        let entry = ReportQueue.Entry(host: host, report: report)
        switch await reports.enqueue(entry) {
        case .written(let result):
            return try result.get()
        case .write:
            let waiting = reports.take()
            let results = await writeReports([entry] + waiting.entries)
            reports.finish(waiting, results.dropFirst())
            try results[0].get()
        }
    }

    /// Writes `batch` in one transaction, in order (a host reported twice ends with its later report); the
    /// result of each, in the same order: a host that no longer exists is not found, the rest succeed.
    private func writeReports(_ batch: [ReportQueue.Entry]) async -> [Result<Void, any Error>] {
        let hosts = Array(Set(batch.map(\.host.rawValue))).sorted()
        do {
            let existing = try await write(by: .system) { tx in
                let existing = Set(try await tx.all("SELECT id FROM hosts WHERE id IN (\(binds: hosts))").map { try Coding.string($0, "id") })
                guard !existing.isEmpty else { return existing }
                // A change in what legacy mode found outside its blocks is worth an audit entry; the rest of a
                // report (its time, its version) is status, not history.
                var outside = [String: String]()
                for row in try await tx.all("SELECT host_id, revoked_outside FROM host_agents WHERE host_id IN (\(binds: hosts))") {
                    outside[try Coding.string(row, "host_id")] = try row.decode(column: "revoked_outside", as: String?.self) ?? ""
                }
                var latest = [String: ReportQueue.Entry]()
                for entry in batch where existing.contains(entry.host.rawValue) {
                    let id = entry.host.rawValue
                    let before = outside[id] ?? ""
                    let after = entry.report.revokedKeysOutsideBlock.map(\.stored).joined(separator: "\n")
                    if before != after {
                        try await tx.audit(
                            "host.agent.revoked-keys-outside-block", "host", id, before: AuditJSON.revokedLines(before),
                            after: AuditJSON.revokedLines(after))
                    }
                    outside[id] = after
                    latest[id] = entry
                }
                let reports = latest.sorted { $0.key < $1.key }
                try await tx.run("DELETE FROM host_agents WHERE host_id IN (\(binds: reports.map(\.key)))")
                let rows = reports.map { id, entry -> SQLQueryString in
                    let report = entry.report
                    let after = outside[id] ?? ""
                    return """
                        (\(bind: id), \(bind: report.agentVersion), \(bind: report.appliedVersion.map { Int64(clamping: $0) }), \
                        \(bind: report.hostKeys.joined(separator: "\n")), \(bind: report.error), \(bind: after.isEmpty ? nil : after), \
                        \(bind: tx.nowValue), \(bind: report.delivery))
                        """
                }
                try await tx.insert(
                    "host_agents (host_id, agent_version, applied_version, host_keys, error, revoked_outside, reported_at, delivery)", rows)
                return existing
            }
            return batch.map { existing.contains($0.host.rawValue) ? .success(()) : .failure(StoreError.notFound("host", $0.host.rawValue)) }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}

/// The agents' reports waiting to be written, and whether a writer is at work (a group commit).
///
/// At most one task writes reports at a time. A report that arrives while none does is written by its own
/// task at once; one that arrives while another is written waits here. When a writer is done, it hands each
/// report it wrote its result and gives the turn to the oldest report still waiting, whose task then writes
/// every waiting report (up to ``batchLimit``) in its own transaction.
final class ReportQueue: Sendable {
    /// One report and its host.
    struct Entry: Sendable {
        let host: HostID
        let report: AgentReport
    }

    /// What a report's task is told to do.
    enum Turn: Sendable {
        /// Another task wrote the report, with this result.
        case written(Result<Void, any Error>)
        /// Write it (and the ones waiting), then ``finish(_:_:)``.
        case write
    }

    /// The most reports written in one transaction.
    static let batchLimit = 500

    /// Reports a writer took from the queue, and their tasks, waiting for their results.
    struct Taken {
        fileprivate let turns: [CheckedContinuation<Turn, Never>]
        /// The reports, oldest first.
        let entries: [Entry]
    }

    private struct State {
        var writing = false
        var waiting: [(entry: Entry, turn: CheckedContinuation<Turn, Never>)] = []
    }

    private let state = Mutex(State())

    /// Waits for `entry`'s turn: at once ``Turn/write`` when no report is being written, else whatever the
    /// writer before it hands over.
    func enqueue(_ entry: Entry) async -> Turn {
        await withCheckedContinuation { turn in
            let writeNow = state.withLock { state in
                if state.writing {
                    state.waiting.append((entry, turn))
                    return false
                }
                state.writing = true
                return true
            }
            if writeNow { turn.resume(returning: .write) }
        }
    }

    /// The writer takes the waiting reports, oldest first, up to one less than ``batchLimit``.
    func take() -> Taken {
        state.withLock { state in
            let taken = state.waiting.prefix(Self.batchLimit - 1)
            state.waiting.removeFirst(taken.count)
            return Taken(turns: taken.map(\.turn), entries: taken.map(\.entry))
        }
    }

    /// The writer is done: the reports it took get their `results` (in the same order), and the oldest
    /// report still waiting gets the turn.
    func finish(_ taken: Taken, _ results: ArraySlice<Result<Void, any Error>>) {
        let next = state.withLock { state -> CheckedContinuation<Turn, Never>? in
            guard !state.waiting.isEmpty else {
                state.writing = false
                return nil
            }
            return state.waiting.removeFirst().turn
        }
        for (turn, result) in zip(taken.turns, results) { turn.resume(returning: .written(result)) }
        next?.resume(returning: .write)
    }
}
