import Foundation
import Synchronization

/// What a cache holds: something that knows its size in bytes.
public protocol ByteSized: Sendable {
    var byteCount: Int { get }
}

extension Array: ByteSized where Element == UInt8 {
    public var byteCount: Int { count }
}

/// Rendered tiles kept in memory, bounded by bytes, least recently used out first.
///
/// Keys include the data versions of the tile's layers, so an import or edit makes every
/// affected tile new at once: a stale tile is never served, it just ages out. Generic over
/// the payload, so a server can keep tiles in the buffer type it answers with, shared by
/// every response rather than copied into each.
public final class TileCache<Tile: ByteSized>: Sendable {
    struct Entry {
        var bytes: Tile
        var lastUse: UInt64
    }

    struct State {
        var entries = [String: Entry]()
        var size = 0
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacityBytes: Int = 64 << 20) {
        capacity = capacityBytes
    }

    public func get(_ key: String) -> Tile? {
        state.withLock { s in
            s.clock += 1
            guard var e = s.entries[key] else {
                s.misses += 1
                return nil
            }
            e.lastUse = s.clock
            s.entries[key] = e
            s.hits += 1
            return e.bytes
        }
    }

    public func put(_ key: String, _ bytes: Tile) {
        guard bytes.byteCount <= capacity / 4 else { return }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries[key] { s.size -= old.bytes.byteCount }
            s.entries[key] = Entry(bytes: bytes, lastUse: s.clock)
            s.size += bytes.byteCount
            guard s.size > capacity else { return }
            // Evict the least recently used quarter at once: amortised, and rare.
            let victims = s.entries.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(max(1, s.entries.count / 4))
            for (k, e) in victims {
                s.entries[k] = nil
                s.size -= e.bytes.byteCount
            }
        }
    }

    /// (hits, misses, bytes held), for metrics.
    public var statistics: (hits: Int, misses: Int, bytes: Int) {
        state.withLock { ($0.hits, $0.misses, $0.size) }
    }
}
