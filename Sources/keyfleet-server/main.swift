// keyfleet-server: `keyfleet server`, the registry with its store, on the registry's machines.
import KeyfleetServerCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

exit(await ServerRoot.run())
