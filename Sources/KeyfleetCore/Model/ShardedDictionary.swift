/// A dictionary split into a fixed number of smaller ones by hash, so that changing one entry of a copy
/// shared with readers copies one shard, not the whole map.
///
/// ``RegistrySnapshot`` holds a million keys and a hundred thousand hosts; the server applies each change to
/// its own copy while requests still read the previous one. With one `Dictionary` per kind every change
/// would copy the whole kind; here it copies the array of shard references and one shard, 1/256 of it.
/// Lookups cost one extra array index. Iteration order is unspecified, as a `Dictionary`'s is.
public struct ShardedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private static var shardCount: Int { 256 }
    private var shards: [[Key: Value]]
    /// The number of entries.
    public private(set) var count: Int = 0

    /// An empty dictionary.
    public init() {
        shards = Array(repeating: [:], count: Self.shardCount)
    }

    /// A dictionary with `pairs`; of two pairs with the same key the first is kept.
    public init(firstOf pairs: some Sequence<(Key, Value)>) {
        self.init()
        for (key, value) in pairs where self[key] == nil { self[key] = value }
    }

    private static func shard(of key: Key) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(shardCount))
    }

    /// The value for `key`; setting nil removes it.
    public subscript(key: Key) -> Value? {
        get { shards[Self.shard(of: key)][key] }
        set {
            let index = Self.shard(of: key)
            if let newValue {
                if shards[index].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[index].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    /// The value for `key`, or `defaultValue` when there is none; setting stores the value.
    public subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { self[key] ?? defaultValue() }
        set { self[key] = newValue }
    }

    /// Whether there are no entries.
    public var isEmpty: Bool { count == 0 }

    /// Every key.
    public var keys: some Sequence<Key> { shards.lazy.flatMap(\.keys) }

    /// Every value.
    public var values: some Sequence<Value> { shards.lazy.flatMap(\.values) }
}

extension ShardedDictionary: Sequence {
    /// Every entry as a key and value.
    public func makeIterator() -> some IteratorProtocol<(key: Key, value: Value)> {
        shards.lazy.flatMap { $0.lazy.map { (key: $0.key, value: $0.value) } }.makeIterator()
    }
}

extension ShardedDictionary: Equatable where Value: Equatable {
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.shards == rhs.shards
    }
}
