/// A first-come, first-served async lock: one holder at a time, waiters resumed in order.
///
/// The store holds it for each transaction, because a connection runs one transaction at a time and
/// SQLite allows one writer; an actor alone would not do, since it lets another call in at every `await`.
actor SerialGate {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Waits until the gate is free, then holds it.
    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Hands the gate to the next waiter, or frees it.
    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
