import KeyfleetAgent
import KeyfleetCommandLine
import Testing

@Suite("The host-agent command's defaults are the agent's")
struct AgentDefaultsTests {
    @Test("--state-dir defaults to the agent's state directory")
    func stateDirectory() {
        #expect(HostAgentDefaults.stateDirectory == AgentState.defaultDirectory)
    }
}
