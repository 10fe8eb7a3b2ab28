// keyfleet-registry: the registry commands of `keyfleet` (server, client, host agent), which `keyfleet`
// runs in its place; see Keyfleet.registryCommands.
import KeyfleetRegistryCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

exit(await KeyfleetRegistry.run())
