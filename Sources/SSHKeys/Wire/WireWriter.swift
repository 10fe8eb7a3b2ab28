/// Writes the SSH wire encoding (RFC 4251 section 5).
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func writeUInt32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func writeUInt64(_ value: UInt64) {
        writeUInt32(UInt32(truncatingIfNeeded: value >> 32))
        writeUInt32(UInt32(truncatingIfNeeded: value))
    }

    mutating func writeByte(_ value: UInt8) { bytes.append(value) }

    mutating func writeRaw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    mutating func writeString(_ data: some Collection<UInt8>) {
        writeUInt32(UInt32(truncatingIfNeeded: data.count))
        bytes.append(contentsOf: data)
    }

    mutating func writeString(_ text: String) { writeString(Array(text.utf8)) }

    /// An `mpint` from a non-negative big-endian magnitude: leading zeros dropped, one zero added when the
    /// high bit is set, so the encoding is the canonical one OpenSSH writes.
    mutating func writePositiveMPInt(_ magnitude: some Collection<UInt8>) {
        let trimmed = magnitude.drop { $0 == 0 }
        if let first = trimmed.first, first & 0x80 != 0 {
            writeUInt32(UInt32(truncatingIfNeeded: trimmed.count + 1))
            bytes.append(0)
        } else {
            writeUInt32(UInt32(truncatingIfNeeded: trimmed.count))
        }
        bytes.append(contentsOf: trimmed)
    }

    /// Writes the nested encoding produced by `body` as one length-prefixed string.
    mutating func writeNested(_ body: (inout WireWriter) -> Void) {
        var inner = WireWriter()
        body(&inner)
        writeString(inner.bytes)
    }
}
