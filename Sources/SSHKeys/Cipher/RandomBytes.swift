/// Random bytes from a generator (the system's secure one unless a test passes its own): salts, IVs.
enum RandomBytes {
    /// `count` bytes, each drawn from `generator` in order.
    static func make(_ count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
