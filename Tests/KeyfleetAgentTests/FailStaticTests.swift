import AuthorizedKeysCache
import Foundation
import Logging
import Synchronization
import Testing
import TestSupport

@testable import KeyfleetAgent

/// DESIGN.md's fail static: a timeout, a 5xx, a 401, a truncated or garbled answer, a server that goes away
/// mid-long-poll never shrink the key set on disk, in any delivery mode. The real agent (``HostAgent/run()``)
/// runs against ``FaultyRegistry`` with real temporary directories: it applies a good answer, then meets the
/// fault, and must keep every byte it wrote, keep running, and log the fault by its code.
@Suite("Fail static: no fault of the registry shrinks the keys on disk, in any mode")
struct FailStaticTests {
    static let keyA = LegacyBlockTests.keyA
    static let keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDwSrxmkrgoW5FhR93IBH2Bq3VU+AH4V4Om8O+grUPWD keyfleet:b"

    @Test(
        "after a good answer, a faulty one leaves the files byte for byte as they were",
        arguments: RegistryFault.allCases, DeliveryMode.allCases)
    func faultKeepsKeys(fault: RegistryFault, mode: DeliveryMode) async throws {
        let host = try FaultHost(mode: mode)
        let registry = FaultyRegistry(good: host.logins, fault: fault)
        let logs = LogRecorder()
        let written = Locked<[Int64]>([])
        var agent = HostAgent(
            configuration: host.configuration, logger: logs.logger,
            connect: { _, _ in AgentConnection(server: FaultyRegistry.url, api: registry) },
            applied: { access in
                written.update { $0.append(access.version) }
                registry.goodAnswerApplied()
            })
        agent.legacyAccounts = host.accounts
        let running = agent

        let stopped = Locked(false)
        let before = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await running.run()
                stopped.update { $0 = true }
            }
            try await eventually("the good answer is written") { written.value == [1] }
            let before = try host.snapshot()
            try host.expectGoodKeys(before)

            // The agent met the fault, backed off, and asked again: it is still running.
            try await eventually("the fault is served twice") { registry.faultsServed >= 2 }
            #expect(try host.snapshot() == before, "the keys on disk changed after \(fault)")
            #expect(logs.failures.contains(fault.code), "the agent logged \(logs.failures), not \(fault.code)")
            #expect(!stopped.value, "the agent stopped")
            #expect(written.value == [1])
            group.cancelAll()
            return before
        }
        // Stopping changes nothing either.
        #expect(try host.snapshot() == before)
    }
}

/// A host for one test: a state directory with an enrollment, and the place the keys go in `mode` (a keys
/// directory, the lookup cache, or a user's home whose `authorized_keys` holds a line of the user's own).
struct FaultHost {
    let mode: DeliveryMode
    let work: TemporaryDirectory
    let home: LegacyHome?
    static let ownLine = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIgdnTspL6+nHEkmbGl6renJ64hiVAIpnXOldQIFIrAM the user's own\n"

    init(mode: DeliveryMode) throws {
        self.mode = mode
        work = try TemporaryDirectory()
        let server = AgentState.Server(url: FaultyRegistry.url, host: "h-1", caCertHash: nil, caCertificatePEM: nil, pinnedLeaf: nil)
        try AgentState(directory: work.file("state")).saveEnrollment(server: server, credential: String(repeating: "c", count: 43))
        if mode == .legacy {
            let home = try LegacyHome()
            try home.makeDirectory(home.home + "/.ssh", mode: 0o700)
            try home.writeFile(home.home + "/.ssh/authorized_keys", Array(Self.ownLine.utf8))
            self.home = home
        } else {
            home = nil
        }
    }

    /// The good answer's logins: two for the agent's own files, the one user of legacy mode.
    var logins: [String: [String]] {
        let (keyA, keyB) = (FailStaticTests.keyA, FailStaticTests.keyB)
        return mode == .legacy ? ["alice": [keyA, keyB]] : ["root": [keyA, keyB], "deploy": [keyB]]
    }

    var configuration: HostAgentConfiguration {
        HostAgentConfiguration(
            stateDirectory: work.file("state"), mode: mode, keysDirectory: mode == .legacy ? nil : work.file("keys"),
            hostKeysDirectory: work.file("no-host-keys"), wait: 1, callTimeout: .milliseconds(400))
    }

    var accounts: @Sendable (String) -> LegacyAccount? {
        let account = home?.account
        return { $0 == "alice" ? account : nil }
    }

    /// A file as found: its bytes, and which inode holds them since when, so that even a file written again
    /// with the same bytes (or emptied, then written again) counts as changed.
    struct FileState: Equatable {
        var bytes: [UInt8]
        var inode: UInt64
        var modified: Int
    }

    /// Every regular file under the place the keys live, by path; and the agent's last answer.
    func snapshot() throws -> [String: FileState] {
        var files: [String: FileState] = [:]
        let root = home?.home ?? work.file("keys")
        let enumerator = try #require(FileManager.default.enumerator(atPath: root))
        while let name = enumerator.nextObject() as? String {
            files[name] = try Self.state(root + "/" + name)
        }
        files["state:access.json"] = try Self.state(work.file("state/access.json"))
        return files
    }

    private static func state(_ path: String) throws -> FileState? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        return FileState(bytes: bytes, inode: UInt64(info.st_ino), modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
    }

    /// The good answer's keys, complete, in `snapshot`.
    func expectGoodKeys(_ snapshot: [String: FileState]) throws {
        let files = snapshot.mapValues(\.bytes)
        let keyA = FailStaticTests.keyA
        let keyB = FailStaticTests.keyB
        switch mode {
        case .files:
            #expect(files["root"] == Array((KeysWriter.filesHeader + keyA + "\n" + keyB + "\n").utf8))
            #expect(files["deploy"] == Array((KeysWriter.filesHeader + keyB + "\n").utf8))
        case .command:
            for (login, lines) in logins {
                let answer = Lookup.answer(directory: work.file("keys"), login: login, fingerprint: nil)
                #expect(answer.status == 0)
                #expect(Set(String(decoding: answer.output, as: UTF8.self).split(separator: "\n").map(String.init)) == Set(lines))
            }
        case .legacy:
            let text = String(decoding: try #require(files[".ssh/authorized_keys"]), as: UTF8.self)
            #expect(text.hasPrefix(Self.ownLine))
            #expect(text.contains(keyA + "\n") && text.contains(keyB + "\n"))
        }
        #expect(files["state:access.json"]?.isEmpty == false)
    }
}

/// A value shared with tasks and closures, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    var value: Value { mutex.withLock { $0 } }

    func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}

/// Waits up to 60 s (a loaded machine running every suite at once) for `condition`, checking every 20 ms.
func eventually(_ what: String, _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let end = clock.now + .seconds(60)
    while !condition() {
        guard clock.now < end else {
            Issue.record("timed out waiting until \(what)")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Keeps what a logger was told: the codes of the failures the agent logged (its `reason` metadata).
final class LogRecorder: Sendable {
    private let reasons = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "keyfleet.test") { _ in Handler(recorder: self) }
    }

    var failures: [AgentError.Code] { reasons.withLock { $0 }.compactMap(AgentError.Code.init(rawValue:)) }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.level >= .warning, case .string(let reason)? = event.metadata?["reason"] else { return }
            recorder.reasons.withLock { $0.append(reason) }
        }
    }
}
