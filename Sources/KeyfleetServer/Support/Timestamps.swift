public import Foundation
internal import KeyfleetCore

/// Converts between the API's RFC 3339 times (`Date`, whole seconds) and the registry's seconds since 1970.
public enum Timestamps {
    /// The date for seconds since 1970.
    public static func date(_ seconds: UInt64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Seconds since 1970 for a date from a request; `field` names it in the error.
    ///
    /// - Throws: 400 `bad-request` for fractional seconds or a time before 1970.
    public static func seconds(_ date: Date, field: String) throws -> UInt64 {
        let interval = date.timeIntervalSince1970
        guard interval >= 0, interval < 1e15, interval.rounded(.towardZero) == interval else {
            throw APIProblem.badRequest("\(field) must be a time after 1970 in whole seconds", field: field)
        }
        return UInt64(interval)
    }

    /// Seconds since 1970 for an expiry from a request, checked as `expiry-time=` can say it and in the future.
    public static func expiry(_ date: Date, field: String, now: UInt64) throws -> UInt64 {
        let seconds = try seconds(date, field: field)
        try KeyImport.checkNewExpiry(seconds, now: now)
        return seconds
    }
}
