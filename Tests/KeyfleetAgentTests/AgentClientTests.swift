import Testing

@testable import KeyfleetAgent

@Suite("What the agent sends the server")
struct AgentClientTests {
    @Test("a report's error is one line of at most 1024 bytes, cut on a character, never mid-way through one")
    func reportableError() {
        let refusals = (0..<200).map { "login\($0): the ~/.ssh of login\($0) is refused: must be owned by uid \($0)\n" }.joined()
        for text in [refusals, String(repeating: "é", count: 700), "a\u{2028}b\r\nc\u{85}d", ""] {
            let cut = AgentClient.reportable(text)
            #expect(cut.utf8.count <= 1024)
            #expect(!cut.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) || $0 == "\u{2028}" })
            #expect(text.utf8.count > 1024 || cut.unicodeScalars.count == text.unicodeScalars.count)
        }
        #expect(AgentClient.reportable("a\u{2028}b\r\nc\u{85}d") == "a b  c d")
        #expect(AgentClient.reportable(String(repeating: "é", count: 700)) == String(repeating: "é", count: 512))
        #expect(AgentClient.reportable(refusals).hasPrefix("login0: the ~/.ssh of login0 is refused: must be owned by uid 0 login1:"))
    }
}
