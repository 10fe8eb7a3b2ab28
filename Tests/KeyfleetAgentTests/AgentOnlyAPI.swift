import KeyfleetAPI

/// An implementation of the contract's API for the agent's tests: they give the three operations the agent
/// calls (`enrollAgent`, `syncAgent`, `reportAgent`); every other operation throws, as the agent never calls it.
protocol AgentOnlyAPI: APIProtocol {}

/// An operation the agent never calls was called.
struct NotTheAgents: Error {}

extension AgentOnlyAPI {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output { throw NotTheAgents() }
    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        throw NotTheAgents()
    }
    func listSSHKeys(_ input: Operations.ListSSHKeys.Input) async throws -> Operations.ListSSHKeys.Output { throw NotTheAgents() }
    func createSSHKey(_ input: Operations.CreateSSHKey.Input) async throws -> Operations.CreateSSHKey.Output { throw NotTheAgents() }
    func generateSSHKey(_ input: Operations.GenerateSSHKey.Input) async throws -> Operations.GenerateSSHKey.Output { throw NotTheAgents() }
    func bulkImportSSHKeys(_ input: Operations.BulkImportSSHKeys.Input) async throws -> Operations.BulkImportSSHKeys.Output { throw NotTheAgents() }
    func getSSHKey(_ input: Operations.GetSSHKey.Input) async throws -> Operations.GetSSHKey.Output { throw NotTheAgents() }
    func updateSSHKey(_ input: Operations.UpdateSSHKey.Input) async throws -> Operations.UpdateSSHKey.Output { throw NotTheAgents() }
    func deleteSSHKey(_ input: Operations.DeleteSSHKey.Input) async throws -> Operations.DeleteSSHKey.Output { throw NotTheAgents() }
    func listProjects(_ input: Operations.ListProjects.Input) async throws -> Operations.ListProjects.Output { throw NotTheAgents() }
    func createProject(_ input: Operations.CreateProject.Input) async throws -> Operations.CreateProject.Output { throw NotTheAgents() }
    func getProject(_ input: Operations.GetProject.Input) async throws -> Operations.GetProject.Output { throw NotTheAgents() }
    func deleteProject(_ input: Operations.DeleteProject.Input) async throws -> Operations.DeleteProject.Output { throw NotTheAgents() }
    func setProjectMember(_ input: Operations.SetProjectMember.Input) async throws -> Operations.SetProjectMember.Output { throw NotTheAgents() }
    func removeProjectMember(_ input: Operations.RemoveProjectMember.Input) async throws -> Operations.RemoveProjectMember.Output {
        throw NotTheAgents()
    }
    func listProjectInvitations(_ input: Operations.ListProjectInvitations.Input) async throws -> Operations.ListProjectInvitations.Output {
        throw NotTheAgents()
    }
    func listInvitations(_ input: Operations.ListInvitations.Input) async throws -> Operations.ListInvitations.Output { throw NotTheAgents() }
    func acceptInvitation(_ input: Operations.AcceptInvitation.Input) async throws -> Operations.AcceptInvitation.Output { throw NotTheAgents() }
    func declineInvitation(_ input: Operations.DeclineInvitation.Input) async throws -> Operations.DeclineInvitation.Output { throw NotTheAgents() }
    func listHosts(_ input: Operations.ListHosts.Input) async throws -> Operations.ListHosts.Output { throw NotTheAgents() }
    func createHost(_ input: Operations.CreateHost.Input) async throws -> Operations.CreateHost.Output { throw NotTheAgents() }
    func getHost(_ input: Operations.GetHost.Input) async throws -> Operations.GetHost.Output { throw NotTheAgents() }
    func updateHost(_ input: Operations.UpdateHost.Input) async throws -> Operations.UpdateHost.Output { throw NotTheAgents() }
    func deleteHost(_ input: Operations.DeleteHost.Input) async throws -> Operations.DeleteHost.Output { throw NotTheAgents() }
    func addHostKey(_ input: Operations.AddHostKey.Input) async throws -> Operations.AddHostKey.Output { throw NotTheAgents() }
    func removeHostKey(_ input: Operations.RemoveHostKey.Input) async throws -> Operations.RemoveHostKey.Output { throw NotTheAgents() }
    func setHostLoginAccess(_ input: Operations.SetHostLoginAccess.Input) async throws -> Operations.SetHostLoginAccess.Output {
        throw NotTheAgents()
    }
    func getHostAccess(_ input: Operations.GetHostAccess.Input) async throws -> Operations.GetHostAccess.Output { throw NotTheAgents() }
    func createHostEnrollmentToken(_ input: Operations.CreateHostEnrollmentToken.Input) async throws -> Operations.CreateHostEnrollmentToken.Output {
        throw NotTheAgents()
    }
    func listClusters(_ input: Operations.ListClusters.Input) async throws -> Operations.ListClusters.Output { throw NotTheAgents() }
    func createCluster(_ input: Operations.CreateCluster.Input) async throws -> Operations.CreateCluster.Output { throw NotTheAgents() }
    func getCluster(_ input: Operations.GetCluster.Input) async throws -> Operations.GetCluster.Output { throw NotTheAgents() }
    func deleteCluster(_ input: Operations.DeleteCluster.Input) async throws -> Operations.DeleteCluster.Output { throw NotTheAgents() }
    func addClusterKey(_ input: Operations.AddClusterKey.Input) async throws -> Operations.AddClusterKey.Output { throw NotTheAgents() }
    func removeClusterKey(_ input: Operations.RemoveClusterKey.Input) async throws -> Operations.RemoveClusterKey.Output { throw NotTheAgents() }
    func addClusterHost(_ input: Operations.AddClusterHost.Input) async throws -> Operations.AddClusterHost.Output { throw NotTheAgents() }
    func removeClusterHost(_ input: Operations.RemoveClusterHost.Input) async throws -> Operations.RemoveClusterHost.Output { throw NotTheAgents() }
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output { throw NotTheAgents() }
    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output { throw NotTheAgents() }
    func getCurrentUser(_ input: Operations.GetCurrentUser.Input) async throws -> Operations.GetCurrentUser.Output { throw NotTheAgents() }
    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output { throw NotTheAgents() }
    func deleteUser(_ input: Operations.DeleteUser.Input) async throws -> Operations.DeleteUser.Output { throw NotTheAgents() }
    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output { throw NotTheAgents() }
    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output { throw NotTheAgents() }
    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output { throw NotTheAgents() }
    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output { throw NotTheAgents() }
}
