/// Expiry times as the registry keeps them (seconds since 1970-01-01 UTC) and as sshd reads them
/// (`expiry-time="YYYYMMDDHHMMSSZ"`).
public enum ExpiryTime {
    /// The earliest expiry authorized_keys can express: 1970-01-02 00:00 UTC (sshd refuses any time on the
    /// first day of 1970, which its parser cannot tell from an error).
    public static let earliest: UInt64 = 86_400
    /// The latest expiry authorized_keys can express: 9999-12-31 23:59:59 UTC (four-digit years).
    public static let latest: UInt64 = 253_402_300_799

    /// Throws ``PolicyError/Code-swift.struct/invalidExpiry`` outside ``earliest`` ... ``latest``.
    public static func validate(_ seconds: UInt64) throws(PolicyError) {
        guard (earliest...latest).contains(seconds) else {
            throw PolicyError(
                .invalidExpiry, "the expiry \(seconds) is not between 1970-01-02 and 9999-12-31 (seconds since 1970 UTC)", field: "expiry")
        }
    }

    /// `YYYYMMDDHHMMSSZ` for `seconds` (clamped to ``earliest`` ... ``latest``), to the second.
    ///
    /// sshd refuses a line once the clock is past its `expiry-time`, and the registry drops the key at that
    /// same second, so neither refuses the key before its stated expiry nor accepts it after. (sshd also
    /// takes `YYYYMMDDHHMM`; writing minutes would refuse a key up to 59 seconds early.) The trailing `Z`
    /// makes sshd read the time as UTC, not as the server's local time.
    public static func authorizedKeysText(_ seconds: UInt64) -> String {
        let clamped = min(max(seconds, earliest), latest)
        let days = Int64(clamped / 86_400)
        let secondOfDay = Int(clamped % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func digits(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return digits(Int(year), 4) + digits(month, 2) + digits(day, 2) + digits(secondOfDay / 3600, 2) + digits(secondOfDay % 3600 / 60, 2)
            + digits(secondOfDay % 60, 2) + "Z"
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
