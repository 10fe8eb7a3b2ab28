// keyfleet-client: the registry's client commands, which `keyfleet` runs in its place for them.
import KeyfleetClientCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

exit(await ClientRoot.run())
