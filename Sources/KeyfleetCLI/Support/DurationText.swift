/// Durations as the command lines take them: a count and a unit, `90s`, `45m`, `12h`, `30d` or `2w`.
public enum DurationText {
    /// The seconds `text` says, or nil when it is not a count (at most 1,000,000) and one of the units.
    public static func seconds(_ text: String) -> Int? {
        guard let unit = text.last, let count = Int(text.dropLast()), count >= 0, count <= 1_000_000 else { return nil }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3600
        case "d": return count * 86400
        case "w": return count * 7 * 86400
        default: return nil
        }
    }
}
