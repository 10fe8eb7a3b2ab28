/// Trimming of blanks (space and tab) and, where a reader asks for it, a carriage return at the end: the one
/// place every text format reader takes its trimming from (no Foundation in this module).
enum Trimming {
    /// Space or tab, the blanks OpenSSH, PEM and PuTTY skip around fields.
    @inline(__always) static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Space or tab, as a character.
    @inline(__always) static func isBlank(_ character: Character) -> Bool { character == " " || character == "\t" }
}

extension ArraySlice<UInt8> {
    /// The bytes without blanks (space, tab) at the start when `leading`, and at the end when `trailing`,
    /// where a carriage return also counts as a blank when `trailingCR`.
    func trimmingBlanks(leading: Bool = true, trailing: Bool = true, trailingCR: Bool = false) -> ArraySlice<UInt8> {
        var start = startIndex
        var end = endIndex
        if leading {
            while start < end, Trimming.isBlank(self[start]) { start += 1 }
        }
        if trailing {
            while end > start, Trimming.isBlank(self[end - 1]) || (trailingCR && self[end - 1] == 0x0D) { end -= 1 }
        }
        return self[start..<end]
    }
}

extension StringProtocol {
    /// The text without blanks (space, tab) at the start when `leading`, and at the end when `trailing`,
    /// where a carriage return also counts as a blank when `trailingCR`.
    func trimmingBlanks(leading: Bool = true, trailing: Bool = true, trailingCR: Bool = false) -> SubSequence {
        var start = startIndex
        var end = endIndex
        if leading {
            while start < end, Trimming.isBlank(self[start]) { start = index(after: start) }
        }
        if trailing {
            while end > start {
                let previous = index(before: end)
                guard Trimming.isBlank(self[previous]) || (trailingCR && self[previous] == "\r") else { break }
                end = previous
            }
        }
        return self[start..<end]
    }
}
