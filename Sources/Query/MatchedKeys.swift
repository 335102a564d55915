import CQL2
import Synchronization

/// The keys each filter matched, per layer and data version, shared by a store's item pages:
/// the first page of a filter reads all its matches (it must count them), and every later page
/// — the 10 000th as the first — finds its place among them by key. A new data version is a
/// new entry; the oldest entries go when the kept keys pass `capacity`.
public final class MatchedKeys: Sendable {
    struct Entry {
        var keys: [Int64]
        var used: UInt64
    }
    struct Key: Hashable {
        var layer: String
        var version: Int64
        var filter: CQL2Filter
    }
    private struct State {
        var entries = [Key: Entry]()
        var kept = 0
        var clock: UInt64 = 0
    }
    private let state = Mutex(State())
    /// The most keys kept in all (8 bytes each).
    public let capacity: Int

    public init(capacity: Int = 4_000_000) {
        self.capacity = capacity
    }

    /// The keys `filter` matches in `layer` at `version`, read by `read` when not kept.
    func keys(layer: String, version: Int64, filter: CQL2Filter, _ read: () throws -> [Int64]) throws -> [Int64] {
        let key = Key(layer: layer, version: version, filter: filter)
        let kept = state.withLock { s -> [Int64]? in
            s.clock += 1
            s.entries[key]?.used = s.clock
            return s.entries[key]?.keys
        }
        if let kept { return kept }
        let keys = try read()
        guard keys.count <= capacity else { return keys }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries.updateValue(Entry(keys: keys, used: s.clock), forKey: key) { s.kept -= old.keys.count }
            s.kept += keys.count
            while s.kept > capacity, let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.kept -= oldest.value.keys.count
                s.entries[oldest.key] = nil
            }
        }
        return keys
    }

    /// How many filters' keys are kept (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}
