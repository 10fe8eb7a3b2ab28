/// The rules for the names people give keys, hosts, projects, clusters and users.
///
/// A name is 1 to ``maximumLength`` characters, holds no control character, line break, line separator or
/// bidirectional control (``CommentPolicy``), and does not start or end with a blank. Uniqueness (per owner,
/// per project) is the store's rule, not this one.
public enum NamePolicy {
    /// The longest name, in Unicode scalars.
    public static let maximumLength = 64

    /// Throws ``PolicyError/Code-swift.struct/invalidName`` (or `forbidden-character`) when `name` breaks
    /// the rules above; `field` names the request field in the error.
    public static func validate(_ name: String, field: String = "name") throws(PolicyError) {
        guard !name.isEmpty else { throw PolicyError(.invalidName, "the name is empty", field: field) }
        guard TextPolicy.isAcceptable(name) else {
            throw PolicyError.forbiddenCharacter(in: "the name", field: field)
        }
        guard name.unicodeScalars.count <= maximumLength else {
            throw PolicyError(.invalidName, "the name is longer than \(maximumLength) characters", field: field)
        }
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
            !first.properties.isWhitespace, !last.properties.isWhitespace
        else {
            throw PolicyError(.invalidName, "the name \"\(PolicyError.printable(name))\" starts or ends with a blank", field: field)
        }
    }
}
