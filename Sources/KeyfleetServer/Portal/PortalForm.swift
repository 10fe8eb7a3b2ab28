internal import Foundation
internal import Hummingbird
internal import NIOCore

/// A posted form's fields by name, as text: `application/x-www-form-urlencoded`, or `multipart/form-data`
/// (RFC 7578) for the forms that upload a file, whose content becomes the field's text.
///
/// The first value of a name counts; a form over its size or with more than ``maximumFields`` fields, or one
/// that is not UTF-8, is refused with 400 or 413 as the API refuses a body.
struct PortalForm: Sendable {
    private(set) var fields: [String: String] = [:]

    static let maximumFields = 64

    /// The value of `name`, empty when the form has none.
    subscript(_ name: String) -> String { fields[name] ?? "" }

    /// The value of `name`, nil when it is absent or only white space.
    func optional(_ name: String) -> String? {
        let value = self[name].trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// Reads the form of `request`, at most `limit` bytes.
    static func read(_ request: Request, limit: Int) async throws -> PortalForm {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIProblem.requestTooLarge("the form is larger than \(limit / 1024) KiB")
        }
        let bytes = Array(buffer.readableBytesView)
        let contentType = request.headers[.contentType] ?? ""
        if let boundary = multipartBoundary(contentType) {
            return try parseMultipart(bytes, boundary: boundary)
        }
        guard contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw APIProblem.unsupportedMediaType
        }
        return try parseURLEncoded(bytes)
    }

    /// Parses `a=1&b=two+words`: `+` is a space and `%XX` a byte, the whole UTF-8.
    static func parseURLEncoded(_ bytes: [UInt8]) throws -> PortalForm {
        var form = PortalForm()
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decodeComponent(parts[0])
            let value = parts.count > 1 ? try decodeComponent(parts[1]) : ""
            try form.add(name, value)
        }
        return form
    }

    private static func decodeComponent(_ bytes: ArraySlice<UInt8>) throws -> String {
        var decoded = [UInt8]()
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                decoded.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw APIProblem.badRequest("the form holds a malformed %-escape")
                }
                decoded.append(high << 4 | low)
                index += 2
            } else {
                decoded.append(byte)
            }
            index += 1
        }
        return try text(decoded)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The boundary of a `multipart/form-data` content type, nil for any other type.
    static func multipartBoundary(_ contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            var boundary = part.dropFirst("boundary=".count)
            if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = boundary.dropFirst().dropLast() }
            guard (1...70).contains(boundary.utf8.count) else { return nil }
            return String(boundary)
        }
        return nil
    }

    /// Parses a `multipart/form-data` body: parts between `--boundary` lines, each with headers naming
    /// the field in `Content-Disposition`.
    static func parseMultipart(_ bytes: [UInt8], boundary: String) throws -> PortalForm {
        let malformed = APIProblem.badRequest("the form is not well-formed multipart/form-data")
        let delimiter = Array("--\(boundary)".utf8)
        let separator = Array("\r\n--\(boundary)".utf8)
        guard bytes.starts(with: delimiter) else { throw malformed }
        var form = PortalForm()
        var position = delimiter.count
        while true {
            let rest = bytes[position...]
            if rest.starts(with: Array("--".utf8)) { return form }
            guard rest.starts(with: Array("\r\n".utf8)) else { throw malformed }
            position += 2
            guard let headersEnd = find(Array("\r\n\r\n".utf8), in: bytes, from: position) else { throw malformed }
            let headers = try text(Array(bytes[position..<headersEnd]))
            let contentStart = headersEnd + 4
            guard let contentEnd = find(separator, in: bytes, from: contentStart) else { throw malformed }
            guard let name = fieldName(headers) else { throw malformed }
            try form.add(name, try text(Array(bytes[contentStart..<contentEnd])))
            position = contentEnd + separator.count
        }
    }

    /// The `name` parameter of a part's `Content-Disposition: form-data` header.
    private static func fieldName(_ headers: String) -> String? {
        for line in headers.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-disposition" else { continue }
            for parameter in parts[1].split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                guard parameter.hasPrefix("name=\""), parameter.hasSuffix("\""), parameter.count >= 7 else { continue }
                return String(parameter.dropFirst(6).dropLast())
            }
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private static func text(_ bytes: [UInt8]) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIProblem.badRequest("the form holds text that is not UTF-8")
        }
        return text
    }

    private mutating func add(_ name: String, _ value: String) throws {
        guard fields.count < Self.maximumFields else { throw APIProblem.badRequest("the form has more than \(Self.maximumFields) fields") }
        if fields[name] == nil { fields[name] = value }
    }
}
