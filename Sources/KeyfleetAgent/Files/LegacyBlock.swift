/// The keyfleet block inside a user's `~/.ssh/authorized_keys` (legacy mode), edited as bytes so that every
/// line outside the block stays exactly as it was, whatever its encoding or line ending:
///
/// ```
/// # BEGIN keyfleet managed keys: do not edit between these lines
/// ssh-ed25519 AAAA... keyfleet:...
/// # END keyfleet managed keys
/// ```
///
/// A marker is a whole line equal to the marker text followed by `\n`, nothing else: a line with a `\r`, a
/// leading blank or any other difference is an unmanaged line like any other and is kept.
enum LegacyBlock {
    /// The line that opens the block.
    static let begin = Array("# BEGIN keyfleet managed keys: do not edit between these lines".utf8)
    /// The line that closes the block.
    static let end = Array("# END keyfleet managed keys".utf8)

    /// The file holds a begin marker without an end marker after it: where the block ends is unknown, so
    /// the file is left alone rather than guess which lines are the user's.
    struct Unterminated: Error, CustomStringConvertible {
        /// The 1-based line of the begin marker.
        let line: Int
        var description: String { "line \(line) opens a keyfleet block that no end marker closes" }
    }

    /// The lines outside every keyfleet block, with their 1-based line numbers, without their line ends.
    /// An unterminated block counts as outside (the writer refuses such a file anyway).
    static func unmanagedLines(in file: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        var lines: [(number: Int, bytes: ArraySlice<UInt8>)] = []
        var pending: [(number: Int, bytes: ArraySlice<UInt8>)] = []  // inside an open block, not yet known to close
        var inside = false
        var lineNumber = 0
        var start = 0
        while start < file.count {
            lineNumber += 1
            let newline = file[start...].firstIndex(of: 0x0A)
            let content = file[start..<(newline ?? file.count)]
            let terminated = newline != nil
            if inside {
                pending.append((lineNumber, content))
                if terminated && content.elementsEqual(end) {
                    inside = false
                    pending.removeAll()
                }
            } else if terminated && content.elementsEqual(begin) {
                inside = true
                pending = [(lineNumber, content)]
            } else {
                lines.append((lineNumber, content))
            }
            start = newline.map { $0 + 1 } ?? file.count
        }
        return lines + pending
    }

    /// The block for `lines` (nothing at all when there are none).
    static func render(_ lines: [String]) -> [UInt8] {
        guard !lines.isEmpty else { return [] }
        var bytes = begin + [0x0A]
        for line in lines { bytes += Array(line.utf8) + [0x0A] }
        return bytes + end + [0x0A]
    }

    /// `file` with its keyfleet block replaced by one holding `lines`: in the place of the first block when
    /// there is one (any further blocks are removed), appended otherwise, and removed entirely when `lines`
    /// is empty. Every byte outside the blocks is kept, with one exception: a file whose last line has no
    /// final newline gets one before an appended block, or the block's first line would join that line.
    static func replace(in file: [UInt8], with lines: [String]) throws(Unterminated) -> [UInt8] {
        var kept: [UInt8] = []
        kept.reserveCapacity(file.count)
        var insertion: Int?
        var insideSince: Int?  // the line number of the open begin marker
        var lineNumber = 0
        var start = 0
        while start < file.count {
            lineNumber += 1
            let newline = file[start...].firstIndex(of: 0x0A)
            let contentEnd = newline ?? file.count
            let lineEnd = newline.map { $0 + 1 } ?? file.count
            let content = file[start..<contentEnd]
            // A marker counts only as a whole line ending in "\n" (a final line without one is not a marker).
            let terminated = newline != nil
            if insideSince != nil {
                if terminated && content.elementsEqual(end) { insideSince = nil }
            } else if terminated && content.elementsEqual(begin) {
                insideSince = lineNumber
                if insertion == nil { insertion = kept.count }
            } else {
                kept += file[start..<lineEnd]
            }
            start = lineEnd
        }
        if let insideSince { throw Unterminated(line: insideSince) }
        let block = render(lines)
        if let insertion {
            // The prefix ends with "\n" (a begin marker starts a line), or is empty.
            kept.insert(contentsOf: block, at: insertion)
            return kept
        }
        guard !block.isEmpty else { return kept }
        if let last = kept.last, last != 0x0A { kept.append(0x0A) }
        return kept + block
    }
}
