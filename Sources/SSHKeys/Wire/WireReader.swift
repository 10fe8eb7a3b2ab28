/// Reads the SSH wire encoding (RFC 4251 section 5) from a byte array, never trapping on bad input.
///
/// Every read checks the remaining length first and throws ``KeyError/Code/truncated`` naming `context`
/// and the field when the input ends early.
struct WireReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int
    /// What is being read, for error messages ("public key", "private key section").
    let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.offset = 0
        self.end = bytes.count
        self.context = context
    }

    init(_ bytes: ArraySlice<UInt8>, context: String) {
        self.init(Array(bytes), context: context)
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset == end }

    mutating func readUInt32(_ field: String) throws(KeyError) -> UInt32 {
        guard remaining >= 4 else { throw KeyError.truncated("\(context) field \"\(field)\"") }
        let value = bytes.withUnsafeBufferPointer { buffer in
            UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16
                | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])
        }
        offset += 4
        return value
    }

    mutating func readUInt64(_ field: String) throws(KeyError) -> UInt64 {
        let high = try readUInt32(field)
        let low = try readUInt32(field)
        return UInt64(high) << 32 | UInt64(low)
    }

    mutating func readByte(_ field: String) throws(KeyError) -> UInt8 {
        guard remaining >= 1 else { throw KeyError.truncated("\(context) field \"\(field)\"") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBytes(count: Int, _ field: String) throws(KeyError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw KeyError.truncated("\(context) field \"\(field)\"") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// A length-prefixed `string` (arbitrary bytes).
    mutating func readString(_ field: String) throws(KeyError) -> ArraySlice<UInt8> {
        let length = try readUInt32(field)
        guard Int(length) <= remaining else { throw KeyError.truncated("\(context) field \"\(field)\"") }
        return try readBytes(count: Int(length), field)
    }

    /// A length-prefixed string that must be UTF-8 text.
    mutating func readText(_ field: String) throws(KeyError) -> String {
        let raw = try readString(field)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw KeyError.invalidFormat("\(context) field \"\(field)\" is not valid UTF-8")
        }
        return text
    }

    /// A length-prefixed ASCII name compared byte-wise (key types, cipher names), without allocating.
    mutating func readName(_ field: String) throws(KeyError) -> String {
        let raw = try readString(field)
        return String(decoding: raw, as: UTF8.self)
    }

    /// An `mpint` that must be non-negative; returned as big-endian magnitude without leading zeros,
    /// as OpenSSH's `sshbuf_get_bignum2` accepts it.
    mutating func readPositiveMPInt(_ field: String, maxBits: Int = 16384) throws(KeyError) -> [UInt8] {
        let raw = try readString(field)
        if let first = raw.first, first & 0x80 != 0 {
            throw KeyError.invalidKey("\(context) field \"\(field)\" is negative")
        }
        let magnitude = Array(raw.drop { $0 == 0 })
        guard PublicKey.Material.bitCount(magnitude) <= maxBits else {
            throw KeyError.invalidKey("\(context) field \"\(field)\" is larger than \(maxBits) bits")
        }
        return magnitude
    }

    /// Throws unless every byte has been read.
    func expectEnd(_ what: String? = nil) throws(KeyError) {
        guard isAtEnd else { throw KeyError.trailingData(after: what ?? context) }
    }
}
