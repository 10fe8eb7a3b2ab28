public import KeyfleetCore

/// An open invitation to join a project: membership by consent.
///
/// A project's owner invites; nothing of the invited user's (personal keys, name in the project) reaches the
/// project or its hosts until they accept, when the invitation becomes a membership with its role.
/// Administrators add members directly, without one.
public struct Invitation: Hashable, Sendable {
    /// The project the user is invited to.
    public var project: ProjectID
    /// The project's name when the invitation was read.
    public var projectName: String
    /// The invited user.
    public var user: UserID
    /// The role the user gets on accepting.
    public var role: Project.Role
    /// Who invited them, or nil for the server itself.
    public var invitedBy: UserID?
    /// When, in seconds since 1970 UTC.
    public var invitedAt: UInt64

    /// An invitation.
    public init(project: ProjectID, projectName: String, user: UserID, role: Project.Role, invitedBy: UserID?, invitedAt: UInt64) {
        self.project = project
        self.projectName = projectName
        self.user = user
        self.role = role
        self.invitedBy = invitedBy
        self.invitedAt = invitedAt
    }
}
