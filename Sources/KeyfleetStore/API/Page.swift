/// Which page of a listing to return: at most ``limit`` items after the ``cursor``.
public struct PageRequest: Hashable, Sendable {
    /// The largest page.
    public static let maximumLimit = 1000
    /// At most this many items (1 ... ``maximumLimit``; other values are clamped).
    public var limit: Int
    /// The ``Page/nextCursor`` of the previous page, or nil for the first page.
    public var cursor: String?

    /// A page request.
    public init(limit: Int = 100, cursor: String? = nil) {
        self.limit = min(max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
    }

    /// The first page of up to 100 items.
    public static let first = PageRequest()
    /// Everything, in pages of ``maximumLimit`` read by the caller.
    public static let largest = PageRequest(limit: maximumLimit)
}

/// One page of a listing, in a stable order.
public struct Page<Item: Sendable>: Sendable {
    /// The items.
    public var items: [Item]
    /// An opaque cursor for the next page, or nil when this is the last one.
    public var nextCursor: String?

    /// A page.
    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Item: Equatable {}
