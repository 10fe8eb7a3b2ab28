import Foundation
import SSHKeys
import Testing
import TestSupport

@testable import KeyfleetCore

/// The `expiry-time=` the registry writes, read by the real sshd: a key works until its stated expiry, to the
/// second, and not after.
@Suite("expiry-time with a real sshd")
struct ExpirySSHDTests {
    @Test("sshd accepts a key until the second it expires and refuses it from then on")
    func toTheSecond() throws {
        let directory = try TemporaryDirectory()
        let identity = try TestKeys.sshKeygen("ed25519", name: "expiring", in: directory)
        let key = try PublicKey(openSSHLine: try directory.read("expiring.pub").trimmingCharacters(in: .newlines))
        // An expiry 6 to 7 s ahead whose seconds are at least 6: the minute it falls in has already begun,
        // so a time written to the minute would refuse the key from the start.
        var expiry = UInt64(Date().timeIntervalSince1970.rounded(.up)) + 6
        while expiry % 60 < 6 {
            Thread.sleep(forTimeInterval: 1)
            expiry = UInt64(Date().timeIntervalSince1970.rounded(.up)) + 6
        }
        let line = try AuthorizedKey(options: [.expiryTime(ExpiryTime.authorizedKeysText(expiry))], key: key).line
        let sshd = try LoopbackSSHD(authorizedKeys: line + "\n")

        #expect(
            try sshd.logsIn(identity),
            "refused \(Double(expiry) - Date().timeIntervalSince1970) s before its expiry: \(line)\n\(sshd.log.suffix(1500))")
        Self.sleep(until: Double(expiry) - 1.5)
        #expect(try sshd.logsIn(identity), "refused in the last seconds before its expiry: \(line)")
        Self.sleep(until: Double(expiry) + 1.2)
        #expect(try sshd.logsIn(identity) == false, "accepted after its expiry: \(line)")
    }

    private static func sleep(until time: Double) {
        let delay = time - Date().timeIntervalSince1970
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
    }
}
