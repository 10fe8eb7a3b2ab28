#if canImport(Glibc)
internal import Glibc
#endif

/// Hands memory the process freed back to the system.
///
/// A whole read of a large registry decodes every row before the rows are dropped: a million keys leave
/// hundreds of megabytes free inside the allocator, which glibc keeps mapped, so the server's resident
/// size would stay at its peak for good.
enum FreedMemory {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    /// glibc's `malloc_trim`, which its Swift module does not import (it is declared in `malloc.h`).
    private static let trim: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: Trim.self) }
    #endif

    /// Returns the free pages of every allocator arena to the system, where the C library can.
    static func release() {
        #if canImport(Glibc)
        _ = trim?(0)
        #endif
    }
}
