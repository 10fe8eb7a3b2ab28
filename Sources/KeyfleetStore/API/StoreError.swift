/// A change the store refuses, or a store that cannot work.
///
/// Like ``KeyfleetCore/PolicyError``: a stable ``code`` (compare these), a one-sentence ``reason``, and
/// for a conflict the identifier and name of the object already there. Equality compares the code.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable identifier for a kind of failure.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        /// The code's text.
        public var rawValue: String
        /// A code from its text.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The code's text.
        public var description: String { rawValue }

        /// An object with the same unique name or key exists (HTTP 409).
        public static let conflict = Code(rawValue: "conflict")
        /// The object to change does not exist (HTTP 404).
        public static let notFound = Code(rawValue: "not-found")
        /// The change names an object that does not exist or may not be used there (HTTP 422).
        public static let invalidReference = Code(rawValue: "invalid-reference")
        /// A malformed cursor, hash or stored value (HTTP 400 for a cursor, 500 otherwise).
        public static let invalidInput = Code(rawValue: "invalid-input")
        /// The database could not be opened, migrated or read (HTTP 500).
        public static let database = Code(rawValue: "database")
        /// The database cannot be reached now; the same request may work later (HTTP 503).
        public static let unavailable = Code(rawValue: "unavailable")
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in one sentence without a trailing period.
    public var reason: String
    /// For a conflict: the identifier of the existing object.
    public var existingID: String?
    /// For a conflict: the name of the existing object.
    public var existingName: String?

    /// Makes an error; prefer the named constructors.
    public init(_ code: Code, _ reason: String, existingID: String? = nil, existingName: String? = nil) {
        self.code = code
        self.reason = reason
        self.existingID = existingID
        self.existingName = existingName
    }

    /// Errors are equal when their codes are.
    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
    /// Hashes the code only.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    /// The reason.
    public var description: String { reason }

    static func conflict(_ what: String, id: String, name: String) -> StoreError {
        StoreError(.conflict, "\(what) already exists: \"\(name)\" (\(id))", existingID: id, existingName: name)
    }
    static func notFound(_ kind: String, _ id: String) -> StoreError {
        StoreError(.notFound, "no \(kind) has the identifier \(id)")
    }
    static func invalidReference(_ reason: String) -> StoreError { StoreError(.invalidReference, reason) }
}
