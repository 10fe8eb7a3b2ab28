internal import KeyfleetAPI
internal import KeyfleetCore

extension Components.Schemas.User {
    /// The user as the API shows it.
    init(_ user: User) {
        self.init(id: user.id.rawValue, name: user.name, role: user.role == .admin ? .admin : .user)
    }
}
