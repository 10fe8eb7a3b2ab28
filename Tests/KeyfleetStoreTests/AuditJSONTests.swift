import Foundation
import Testing

@testable import KeyfleetStore

/// The audit columns' JSON writer: what it writes, Foundation's parser reads back as the same value, for
/// random values with every kind of character; keys come out in byte order, without whitespace.
@Suite("Audit JSON")
struct AuditJSONTests {
    /// A random string of up to 12 scalars: control characters, quotes, backslashes, slashes, ASCII, and
    /// characters from the rest of Unicode (two-, three- and four-byte UTF-8), except U+FEFF: Foundation's
    /// parser drops one that follows an escape (it decodes each run between escapes on its own and takes a
    /// leading U+FEFF for a byte-order mark), which is its fault, not the writer's.
    static func randomString() -> String {
        let pools: [ClosedRange<UInt32>] = [0x00...0x1F, 0x20...0x7E, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFD, 0x1_0000...0x1_0FFFF]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12) {
            if Int.random(in: 0..<5) == 0 {
                scalars.append(["\"", "\\", "/", "\u{7F}"].randomElement()!)
            } else {
                let scalar = Unicode.Scalar(UInt32.random(in: pools.randomElement()!))!
                scalars.append(scalar == "\u{FEFF}" ? "\u{FEFE}" : scalar)
            }
        }
        return String(scalars)
    }

    static func randomValue(depth: Int) -> AuditJSON.Value {
        switch Int.random(in: 0..<(depth > 2 ? 4 : 6)) {
        case 0: .string(randomString())
        case 1: .integer(Int64.random(in: -(1 << 53)...(1 << 53)))  // Foundation reads larger ones as Double
        case 2: .bool(Bool.random())
        case 3: .null
        case 4: .array((0..<Int.random(in: 0...4)).map { _ in randomValue(depth: depth + 1) })
        default: randomObject(depth: depth + 1)
        }
    }

    static func randomObject(depth: Int) -> AuditJSON.Value {
        var members = [String: AuditJSON.Value]()
        for _ in 0..<Int.random(in: 0...5) { members[randomString()] = randomValue(depth: depth) }
        return .object(members)
    }

    /// The value as Foundation's parser gives it back.
    static func foundation(_ value: AuditJSON.Value) -> Any {
        switch value {
        case .string(let text): text
        case .integer(let number): NSNumber(value: number)
        case .bool(let flag): NSNumber(value: flag)
        case .null: NSNull()
        case .array(let items): items.map(foundation) as NSArray
        case .object(let members): members.mapValues(foundation) as NSDictionary
        }
    }

    @Test("random values are read back as written", arguments: 0..<200)
    func roundTrip(_: Int) throws {
        guard case .object(let members) = Self.randomObject(depth: 0) else { return }
        let text = AuditJSON.render(members)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect((parsed as? NSDictionary) == (Self.foundation(.object(members)) as? NSDictionary), "\(text)")
        #expect(!text.contains("\n") && text.unicodeScalars.allSatisfy { $0.value >= 0x20 })
    }

    @Test("keys in byte order, no whitespace, slashes as they are")
    func layout() {
        let text = AuditJSON.render(["b": .integer(2), "B": .bool(true), "a/b": "x/y", "a": .array([.null, "\u{1}\n\""])])
        #expect(text == #"{"B":true,"a":[null,"\u0001\n\""],"a/b":"x/y","b":2}"#)
    }
}
