/// Tells waiting agent syncs that the registry may have changed.
///
/// ``ChangeMiddleware`` calls ``changed()`` after every successful change made through the API.
public final class ChangeSignal: Sendable {
    /// A signal with no waiters.
    public init() {}

    /// Wakes every waiter.
    public func changed() {}
}
