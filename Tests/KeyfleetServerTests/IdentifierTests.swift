import KeyfleetServer
import Testing

/// The server's identifiers: 20 characters of the 32-letter alphabet, every position random.
@Suite("Identifiers")
struct IdentifierTests {
    static let alphabet = Set("abcdefghijkmnpqrstuvwxyz23456789")

    @Test("20 characters of the alphabet, no repeats in 100,000")
    func shape() {
        var seen = Set<String>()
        for _ in 0..<100_000 {
            let id = RegistryServer.makeIdentifier()
            #expect(id.count == 20 && id.allSatisfy(Self.alphabet.contains), "\(id)")
            seen.insert(id)
        }
        #expect(seen.count == 100_000)
    }

    /// Each of the 20 positions takes each of the 32 characters about 1/32 of the time: a position that
    /// reused bits of another, or drew from fewer than 5 bits, would be far off (chi-squared, 31 degrees of
    /// freedom; 80 is beyond the 0.9999 quantile).
    @Test("every position is uniform over the alphabet")
    func uniform() {
        let draws = 32_000
        var counts = [[Character: Int]](repeating: [:], count: 20)
        for _ in 0..<draws {
            for (position, character) in RegistryServer.makeIdentifier().enumerated() { counts[position][character, default: 0] += 1 }
        }
        let expected = Double(draws) / 32
        for (position, histogram) in counts.enumerated() {
            let chiSquared = Self.alphabet.reduce(0.0) { sum, character in
                let difference = Double(histogram[character, default: 0]) - expected
                return sum + difference * difference / expected
            }
            #expect(chiSquared < 80, "position \(position): chi-squared \(chiSquared)")
        }
    }
}
