/// A body whose content type is none of those the operation documents.
///
/// The generated code switches over the content types it documents after the runtime has chosen one of
/// them, and traps in the `default` branch. `scripts/generate-api.sh` makes that branch throw this error
/// instead, so that no request or answer can stop the process, whatever the runtime does.
public struct UnexpectedContentType: Error, CustomStringConvertible {
    /// The content type that was chosen.
    public let contentType: String

    /// An error for `contentType`.
    public init(_ contentType: String) {
        self.contentType = contentType
    }

    public var description: String { "the content type \"\(contentType.prefix(100))\" is not one this operation takes" }
}
