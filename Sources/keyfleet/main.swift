import KeyfleetCLI

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

exit(Keyfleet.run())
