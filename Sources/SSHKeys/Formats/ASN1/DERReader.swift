import SwiftASN1

/// Reads the children of one constructed DER node in order, through swift-asn1, turning every fault into a
/// ``KeyError`` that names the field and the structure it belongs to.
///
/// swift-asn1 enforces DER itself (minimal lengths and integers, no indefinite lengths, nesting at most 50
/// deep, no bytes after the root); this adds the field names and the types key formats need: unsigned
/// integers as big-endian magnitudes, small integers, octet strings, bit strings without unused bits.
struct DERReader {
    /// The structure being read, for error messages: `PKCS#8 PrivateKeyInfo`, `SEC1 ECPrivateKey`.
    let context: String
    private var iterator: ASN1NodeCollection.Iterator

    /// Reads the children of `node`, which must be a SEQUENCE (or carry `identifier`).
    init(_ node: ASN1Node, _ context: String, identifier: ASN1Identifier = .sequence) throws(KeyError) {
        guard node.identifier == identifier, case .constructed(let children) = node.content else {
            throw KeyError.invalidFormat("the \(context) is not a DER \(identifier == .sequence ? "SEQUENCE" : "constructed value")")
        }
        self.context = context
        iterator = children.makeIterator()
    }

    /// Parses `bytes` as exactly one DER value and reads it as a SEQUENCE.
    init(parsing bytes: some Collection<UInt8>, _ context: String) throws(KeyError) {
        try self.init(try Self.parse(bytes, context), context)
    }

    /// Parses `bytes` as exactly one DER value (nothing may follow it).
    ///
    /// - Throws: ``KeyError/Code/truncated`` when a length runs past the end, ``KeyError/Code/invalidFormat``
    ///   for any other violation of DER.
    static func parse(_ bytes: some Collection<UInt8>, _ context: String) throws(KeyError) -> ASN1Node {
        guard !bytes.isEmpty else { throw KeyError.truncated("the \(context)") }
        do {
            return try DER.parse(Array(bytes))
        } catch let error as ASN1Error where error.code == .truncatedASN1Field {
            throw KeyError.truncated("the \(context)")
        } catch {
            throw KeyError.invalidFormat("the \(context) is not valid DER")
        }
    }

    /// Whether every child has been read.
    var isAtEnd: Bool {
        var copy = iterator
        return copy.next() == nil
    }

    /// The identifier of the next child, without consuming it.
    var peekIdentifier: ASN1Identifier? {
        var copy = iterator
        return copy.next()?.identifier
    }

    /// The next child, whatever its type.
    mutating func next(_ field: String) throws(KeyError) -> ASN1Node {
        guard let node = iterator.next() else {
            throw KeyError.invalidFormat("the \(context) ends before its \(field)")
        }
        return node
    }

    /// The next child if it carries `identifier`; otherwise nothing is consumed.
    mutating func next(ifIdentifier identifier: ASN1Identifier) -> ASN1Node? {
        var copy = iterator
        guard let node = copy.next(), node.identifier == identifier else { return nil }
        iterator = copy
        return node
    }

    /// Throws unless every child has been read.
    func expectEnd() throws(KeyError) {
        guard isAtEnd else { throw KeyError.trailingData(after: "fields of the \(context)") }
    }

    // MARK: Typed fields

    /// An INTEGER that must be non-negative, as a big-endian magnitude without leading zeros (empty for 0).
    mutating func unsignedInteger(_ field: String) throws(KeyError) -> [UInt8] {
        try Self.unsignedInteger(try next(field), field, context)
    }

    /// An INTEGER that must fit in `Int` (versions, iteration counts).
    mutating func smallInteger(_ field: String) throws(KeyError) -> Int {
        let node = try next(field)
        do {
            return try Int(derEncoded: node)
        } catch {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a DER INTEGER of at most 63 bits")
        }
    }

    /// An OCTET STRING's contents.
    mutating func octetString(_ field: String) throws(KeyError) -> [UInt8] {
        try Self.octetString(try next(field), field, context)
    }

    /// An OBJECT IDENTIFIER.
    mutating func objectIdentifier(_ field: String) throws(KeyError) -> ASN1ObjectIdentifier {
        try Self.objectIdentifier(try next(field), field, context)
    }

    /// A BIT STRING that must have no unused bits, as bytes.
    mutating func bitString(_ field: String) throws(KeyError) -> [UInt8] {
        try Self.bitString(try next(field), field, context)
    }

    /// A nested SEQUENCE.
    mutating func sequence(_ field: String) throws(KeyError) -> DERReader {
        try DERReader(try next(field), field)
    }

    /// The single value inside an optional `[tag]` EXPLICIT field, if the next child is that field.
    mutating func optionalExplicit(tag: UInt, _ field: String) throws(KeyError) -> ASN1Node? {
        let identifier = ASN1Identifier(tagWithNumber: tag, tagClass: .contextSpecific)
        guard let node = next(ifIdentifier: identifier) else { return nil }
        guard case .constructed(let children) = node.content else {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not an explicitly tagged value")
        }
        var inner = children.makeIterator()
        guard let value = inner.next(), inner.next() == nil else {
            throw KeyError.invalidFormat("the \(field) of the \(context) must hold exactly one value")
        }
        return value
    }

    /// An optional NULL (AlgorithmIdentifier parameters that must be NULL or absent); returns whether present.
    mutating func optionalNull(_ field: String) throws(KeyError) -> Bool {
        guard let node = next(ifIdentifier: .null) else { return false }
        guard case .primitive(let bytes) = node.content, bytes.isEmpty else {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a DER NULL")
        }
        return true
    }

    // MARK: Single nodes

    static func unsignedInteger(_ node: ASN1Node, _ field: String, _ context: String) throws(KeyError) -> [UInt8] {
        let magnitude: ArraySlice<UInt8>
        do {
            magnitude = try ArraySlice<UInt8>(derEncoded: node)
        } catch {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a non-negative DER INTEGER")
        }
        return Array(magnitude.drop { $0 == 0 })
    }

    static func octetString(_ node: ASN1Node, _ field: String, _ context: String) throws(KeyError) -> [UInt8] {
        guard node.identifier == .octetString, case .primitive(let bytes) = node.content else {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a DER OCTET STRING")
        }
        return Array(bytes)
    }

    static func objectIdentifier(_ node: ASN1Node, _ field: String, _ context: String) throws(KeyError) -> ASN1ObjectIdentifier {
        do {
            return try ASN1ObjectIdentifier(derEncoded: node)
        } catch {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a DER OBJECT IDENTIFIER")
        }
    }

    static func bitString(_ node: ASN1Node, _ field: String, _ context: String) throws(KeyError) -> [UInt8] {
        let bits: ASN1BitString
        do {
            bits = try ASN1BitString(derEncoded: node)
        } catch {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a DER BIT STRING")
        }
        guard bits.paddingBits == 0 else {
            throw KeyError.invalidFormat("the \(field) of the \(context) is not a whole number of bytes")
        }
        return Array(bits.bytes)
    }
}

/// Builds DER through swift-asn1's serializer, reporting its (unexpected) failures as a ``KeyError``.
enum DERWriter {
    /// Runs `body` on a fresh serializer and returns the bytes.
    static func build(_ what: String, _ body: (inout DER.Serializer) throws -> Void) throws(KeyError) -> [UInt8] {
        var serializer = DER.Serializer()
        do {
            try body(&serializer)
        } catch {
            throw KeyError.invalidParameter("the \(what) could not be encoded as DER")
        }
        return serializer.serializedBytes
    }
}

extension DER.Serializer {
    /// An unsigned INTEGER from a big-endian magnitude (a leading zero is added when the top bit is set).
    mutating func serializeUnsigned(_ magnitude: [UInt8]) throws {
        try serialize(ArraySlice(magnitude.drop { $0 == 0 }))
    }

    /// An OCTET STRING.
    mutating func serializeOctetString(_ bytes: [UInt8]) throws {
        try serialize(ASN1OctetString(contentBytes: ArraySlice(bytes)))
    }

    /// A BIT STRING of whole bytes.
    mutating func serializeBitString(_ bytes: [UInt8]) throws {
        try serialize(ASN1BitString(bytes: ArraySlice(bytes)))
    }

    /// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`.
    mutating func serializeAlgorithm(_ oid: ASN1ObjectIdentifier, parameters: (inout DER.Serializer) throws -> Void) throws {
        try appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(oid)
            try parameters(&coder)
        }
    }
}
