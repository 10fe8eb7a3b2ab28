import KeyfleetAgent
import KeyfleetCommandLine
import Testing

@Suite("The host-agent command's defaults are the agent's")
struct AgentDefaultsTests {
    @Test("--state-dir defaults to the agent's state directory")
    func stateDirectory() {
        #expect(HostAgentDefaults.stateDirectory == AgentState.defaultDirectory)
    }

    @Test("--lookup-command defaults to the installer's lookup command, where the keyfleet-agent package puts it")
    func lookupCommand() {
        #expect(HostAgentDefaults.lookupCommand == SSHDInstaller(mode: .command, reload: .none).lookupCommand)
        #expect(HostAgentDefaults.lookupCommand == "/usr/bin/keyfleet-authorized-keys")
    }
}
