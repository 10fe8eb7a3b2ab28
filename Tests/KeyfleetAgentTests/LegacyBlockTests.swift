import Testing

@testable import KeyfleetAgent

@Suite("The keyfleet block inside ~/.ssh/authorized_keys: every unmanaged byte kept")
struct LegacyBlockTests {
    static let keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm19fmUn4mKUDFmcz6+/yGcwLitUDN5nxdvjjja0lm4 keyfleet:a"
    static let keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJm19fmUn4mKUDFmcz6+/yGcwLitUDN5nxdvjjja0lm4 keyfleet:b"

    /// Lines that look like markers but are not exactly one, and must stay as the user wrote them.
    static let nearMarkers: [[UInt8]] = [
        LegacyBlock.begin + [0x0D],
        [0x20] + LegacyBlock.begin,
        LegacyBlock.begin + [0x20],
        Array("# BEGIN keyfleet managed keys".utf8),
        Array("# begin keyfleet managed keys: do not edit between these lines".utf8),
        LegacyBlock.end + [0x0D],
        Array("#END keyfleet managed keys".utf8),
        [0x09] + LegacyBlock.end,
    ]

    /// Random unmanaged content: random-byte lines (any byte but "\n"), CRLF lines, comments, near-markers,
    /// blank lines; with or without a final newline.
    static func randomContent(finalNewline: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<Int.random(in: 1...12) {
            switch Int.random(in: 0...4) {
            case 0: bytes += (0..<Int.random(in: 0...80)).map { _ in UInt8.random(in: 0...255) }.map { $0 == 0x0A ? 0x0D : $0 }
            case 1: bytes += Array("ssh-rsa AAAAB3Nza user\(index)@crlf\r".utf8)
            case 2: bytes += Array("# a comment \u{2028} with ünïcode".utf8)
            case 3: bytes += nearMarkers.randomElement() ?? []
            default: break
            }
            bytes.append(0x0A)
        }
        if !finalNewline { bytes += Array("no final newline\r".utf8) }
        return bytes
    }

    @Test("insert, replace and remove keep every unmanaged byte", arguments: [true, false])
    func roundTrip(finalNewline: Bool) throws {
        for _ in 0..<200 {
            let original = Self.randomContent(finalNewline: finalNewline)
            let normalized = finalNewline ? original : original + [0x0A]
            let inserted = try LegacyBlock.replace(in: original, with: [Self.keyA])
            #expect(inserted == normalized + LegacyBlock.render([Self.keyA]))
            let replaced = try LegacyBlock.replace(in: inserted, with: [Self.keyB, Self.keyA])
            #expect(replaced == normalized + LegacyBlock.render([Self.keyB, Self.keyA]))
            #expect(try LegacyBlock.replace(in: replaced, with: [Self.keyB, Self.keyA]) == replaced)
            #expect(try LegacyBlock.replace(in: replaced, with: []) == normalized)
            // Nothing to add and no block: the file is returned as it was, final newline or not.
            #expect(try LegacyBlock.replace(in: original, with: []) == original)
        }
    }

    @Test("a block in the middle is replaced in place; the lines before and after stay byte for byte")
    func blockInTheMiddle() throws {
        for _ in 0..<200 {
            let before = Self.randomContent(finalNewline: true)
            let after = Self.randomContent(finalNewline: Bool.random())
            let file = before + LegacyBlock.render([Self.keyA, "a line someone typed inside the block"]) + after
            #expect(try LegacyBlock.replace(in: file, with: [Self.keyB]) == before + LegacyBlock.render([Self.keyB]) + after)
            #expect(try LegacyBlock.replace(in: file, with: []) == before + after)
        }
    }

    @Test("a second block is removed and the first one replaced")
    func twoBlocks() throws {
        let file = Array("one\n".utf8) + LegacyBlock.render([Self.keyA]) + Array("two\n".utf8) + LegacyBlock.render([Self.keyA]) + Array("three".utf8)
        #expect(
            try LegacyBlock.replace(in: file, with: [Self.keyB]) == Array("one\n".utf8) + LegacyBlock.render([Self.keyB]) + Array("two\nthree".utf8))
    }

    @Test("a begin marker without an end is refused, not guessed at")
    func unterminated() throws {
        let file = Array("mine\n".utf8) + LegacyBlock.begin + [0x0A] + Array("\(Self.keyA)\nmine too\n".utf8)
        #expect(throws: LegacyBlock.Unterminated.self) { try LegacyBlock.replace(in: file, with: [Self.keyB]) }
        // An end marker without a newline does not close the block either.
        #expect(throws: LegacyBlock.Unterminated.self) { try LegacyBlock.replace(in: file + LegacyBlock.end, with: []) }
        // A lone end marker is just a line of the user's.
        let lone = LegacyBlock.end + Array("\nmine\n".utf8)
        #expect(try LegacyBlock.replace(in: lone, with: []) == lone)
    }

    @Test("an empty file gets just the block, and loses it again")
    func emptyFile() throws {
        #expect(try LegacyBlock.replace(in: [], with: [Self.keyA]) == LegacyBlock.render([Self.keyA]))
        #expect(try LegacyBlock.replace(in: LegacyBlock.render([Self.keyA]), with: []).isEmpty)
    }
}
