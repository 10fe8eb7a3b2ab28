#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A spinner with the elapsed time on stderr while slow work runs (RSA generation, Argon2 and bcrypt with
/// large settings), only when stderr is a terminal.
///
/// The toolkit is synchronous on purpose (it starts in about a millisecond), so the spinner is drawn by a
/// plain POSIX thread of its own while the work runs on the caller's, and no concurrency runtime is started.
/// Nothing is drawn for work that ends within ``delayMilliseconds``, and the line is cleared when the work
/// ends, so normal output continues where it would have been.
package enum Progress {
    /// How long work runs before the spinner appears.
    package static let delayMilliseconds = 200
    /// How often the spinner is drawn again.
    package static let intervalMilliseconds = 100

    /// Runs `body`, showing `label` with a spinner and the elapsed time on stderr when `enabled`, stderr is
    /// a terminal and the work takes longer than ``delayMilliseconds``.
    package static func run<T, E: Error>(_ label: String, when enabled: Bool = true, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled, isatty(STDERR_FILENO) == 1, let spinner = Spinner.start(label: label) else { return try body() }
        defer { spinner.stop() }
        return try body()
    }
}

/// The thread that draws the spinner, and the lock and condition it waits on, so stopping it is immediate.
private final class Spinner: @unchecked Sendable {
    // Everything below `condition` is read and written only with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopped = false
    private let label: String
    private var thread = pthread_t()

    private init(label: String) {
        self.label = label
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Starts the drawing thread, or returns nil when no thread can be made (the work then runs without).
    static func start(label: String) -> Spinner? {
        let spinner = Spinner(label: label)
        let context = Unmanaged.passRetained(spinner).toOpaque()
        let result = pthread_create(
            &spinner.thread, nil,
            { context in
                guard let context else { return nil }
                Unmanaged<Spinner>.fromOpaque(context).takeRetainedValue().draw()
                return nil
            }, context)
        guard result == 0 else {
            Unmanaged<Spinner>.fromOpaque(context).release()
            return nil
        }
        return spinner
    }

    /// Stops the thread and waits until it has cleared its line.
    func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    /// The thread's body: wait for the delay, then draw every interval until stopped; clear what was drawn.
    private func draw() {
        let frames: [Character] = ["|", "/", "-", "\\"]
        let start = Self.now()
        var next = start + UInt64(Progress.delayMilliseconds) * 1_000_000
        var frame = 0
        var widest = 0
        pthread_mutex_lock(mutex)
        while !stopped {
            var deadline = timespec(tv_sec: time_t(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
            _ = pthread_cond_timedwait(condition, mutex, &deadline)
            if stopped { break }
            let now = Self.now()
            guard now >= next else { continue }  // woken early: wait again
            let tenths = (now - start) / 100_000_000
            var line = "\(frames[frame % frames.count]) \(label)  \(tenths / 10).\(tenths % 10) s"
            let columns = Self.terminalColumns()
            if columns > 1, line.count >= columns { line = String(line.prefix(columns - 1)) }
            widest = max(widest, line.count)
            Terminal.write(Array(("\r" + line).utf8), to: STDERR_FILENO)
            frame += 1
            next = now + UInt64(Progress.intervalMilliseconds) * 1_000_000
        }
        pthread_mutex_unlock(mutex)
        if widest > 0 {
            // Spaces rather than an escape sequence, so any terminal clears it.
            Terminal.write(Array(("\r" + String(repeating: " ", count: widest) + "\r").utf8), to: STDERR_FILENO)
        }
    }

    /// Nanoseconds on the monotonic clock.
    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The width of the terminal on stderr, or 0 when unknown.
    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }
}
