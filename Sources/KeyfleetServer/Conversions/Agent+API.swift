internal import Foundation
internal import KeyfleetAPI
internal import KeyfleetCore

extension AccessCache.HostView {
    /// The answer of a sync: every login with its lines, and when the first of them expires.
    var syncResponse: Components.Schemas.SyncResponse {
        var lines = [String: [String]]()
        for view in logins { lines[view.login.rawValue] = view.entries.map(\.line) }
        return Components.Schemas.SyncResponse(
            version: Int64(clamping: version), host: host.id.rawValue, logins: .init(additionalProperties: lines),
            nextExpiryAt: nextExpiry.map(Timestamps.date))
    }
}
