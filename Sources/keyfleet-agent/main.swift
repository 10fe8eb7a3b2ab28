// keyfleet-agent: `keyfleet host-agent`, which keeps a host's sshd in step with the registry.
import KeyfleetAgentCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

exit(await AgentRoot.run())
