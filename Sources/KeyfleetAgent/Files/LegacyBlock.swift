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

    /// One line of a file as the block sees it.
    struct Line {
        /// The 1-based line number.
        let number: Int
        /// The line without its `\n`.
        let content: ArraySlice<UInt8>
        /// The line with its `\n`, if it has one.
        let whole: ArraySlice<UInt8>
        /// Whether it is a marker or between the markers of a block that closes.
        var managed = false
    }

    /// Every line of `file`, each marked managed or not, and the line of a begin marker that no end marker
    /// closes (its lines stay unmanaged). A marker counts only as a whole line ending in `\n`. The one walk
    /// over a file that both ``replace(in:with:)`` and ``unmanagedLines(in:)`` use.
    static func lines(of file: [UInt8]) -> (lines: [Line], unterminated: Int?) {
        var lines: [Line] = []
        var openedAt: Int?  // the index in `lines` of the open begin marker
        var start = 0
        while start < file.count {
            let newline = file[start...].firstIndex(of: 0x0A)
            let lineEnd = newline.map { $0 + 1 } ?? file.count
            let line = Line(number: lines.count + 1, content: file[start..<(newline ?? file.count)], whole: file[start..<lineEnd])
            lines.append(line)
            let terminated = newline != nil
            if let opened = openedAt {
                if terminated && line.content.elementsEqual(end) {
                    for index in opened..<lines.count { lines[index].managed = true }
                    openedAt = nil
                }
            } else if terminated && line.content.elementsEqual(begin) {
                openedAt = lines.count - 1
            }
            start = lineEnd
        }
        return (lines, openedAt.map { lines[$0].number })
    }

    /// The lines outside every keyfleet block, with their 1-based line numbers, without their line ends.
    /// An unterminated block counts as outside (the writer refuses such a file anyway).
    static func unmanagedLines(in file: [UInt8]) -> [(number: Int, bytes: ArraySlice<UInt8>)] {
        lines(of: file).lines.filter { !$0.managed }.map { ($0.number, $0.content) }
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
        let walked = Self.lines(of: file)
        if let line = walked.unterminated { throw Unterminated(line: line) }
        var kept: [UInt8] = []
        kept.reserveCapacity(file.count)
        var insertion: Int?
        for line in walked.lines {
            if !line.managed {
                kept += line.whole
            } else if insertion == nil {
                insertion = kept.count
            }
        }
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
