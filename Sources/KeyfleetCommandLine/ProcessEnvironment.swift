#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the process environment without Foundation.
package enum ProcessEnvironment {
    package static subscript(name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
