/// "Did you mean …?": the candidate closest to what was typed, when one is close enough to be a slip.
package enum Suggestions {
    /// The candidate nearest to `typed` by edit distance (insertions, deletions, substitutions and swaps of
    /// two neighbours, case ignored), if it is within a slip of it: one edit for words of up to four
    /// characters, two up to eight, three beyond. A unique candidate that starts with `typed` (two or more
    /// characters) also counts. Ties go to the candidate listed first.
    package static func closest(to typed: String, among candidates: some Sequence<String>) -> String? {
        let typed = typed.lowercased()
        guard !typed.isEmpty, typed.count <= 256 else { return nil }
        let allowed = typed.count <= 4 ? 1 : typed.count <= 8 ? 2 : 3
        var best: (candidate: String, distance: Int)?
        var prefixed: [String] = []
        for candidate in candidates where candidate.lowercased() != typed {
            let lowered = candidate.lowercased()
            if typed.count >= 2, lowered.hasPrefix(typed) { prefixed.append(candidate) }
            let distance = Self.distance(typed, lowered)
            if distance <= allowed, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        if let best { return best.candidate }
        return prefixed.count == 1 ? prefixed.first : nil
    }

    /// `; did you mean "x"?`, or nothing when no candidate is close.
    package static func phrase(for typed: String, among candidates: some Sequence<String>) -> String {
        guard let closest = closest(to: typed, among: candidates) else { return "" }
        return "; did you mean \"\(Terminal.safe(closest))\"?"
    }

    /// Optimal string alignment distance (Damerau–Levenshtein without repeated edits of one substring).
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        if abs(a.count - b.count) > 8 { return abs(a.count - b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
