/// A static, packed R-tree over bounding boxes, built once and queried many times.
///
/// For layers small enough to keep in memory and asked about on every request (zoning zones,
/// wards), this answers "which boxes hold this point?" in about a microsecond, without a
/// database round trip. Boxes are sorted by the Sort-Tile-Recursive rule and packed into nodes
/// of `fanout` children, level by level, so the tree has no pointers: node `i` of a level
/// covers entries `i * fanout ..< (i + 1) * fanout` of the level below.
public struct PackedBoxIndex<Key: Sendable>: Sendable {
    public static var fanout: Int { 16 }
    /// Level 0 is the entries themselves; the last level is the root.
    private var levels: [[BoundingBox]] = []
    private var keys: [Key] = []

    public var count: Int { keys.count }

    public init(_ items: [(key: Key, box: BoundingBox)]) {
        guard !items.isEmpty else { return }
        let m = Self.fanout
        // Sort-Tile-Recursive: vertical slices by x, then each slice by y.
        let byX = items.sorted { $0.box.minX + $0.box.maxX < $1.box.minX + $1.box.maxX }
        let leafCount = (items.count + m - 1) / m
        let sliceCount = Int(Double(leafCount).squareRoot().rounded(.up))
        let sliceSize = sliceCount * m
        var sorted = [(key: Key, box: BoundingBox)]()
        sorted.reserveCapacity(items.count)
        var start = 0
        while start < byX.count {
            let end = min(start + sliceSize, byX.count)
            sorted += byX[start..<end].sorted { $0.box.minY + $0.box.maxY < $1.box.minY + $1.box.maxY }
            start = end
        }
        keys = sorted.map(\.key)
        levels = [sorted.map(\.box)]
        while let below = levels.last, below.count > 1 {
            var level = [BoundingBox]()
            level.reserveCapacity((below.count + m - 1) / m)
            var i = 0
            while i < below.count {
                var box = below[i]
                for j in (i + 1)..<min(i + m, below.count) { box.expand(toInclude: below[j]) }
                level.append(box)
                i += m
            }
            levels.append(level)
        }
    }

    /// Calls `body` with the key of every entry whose box intersects `box` (edges included).
    public func forEach(intersecting box: BoundingBox, _ body: (Key) throws -> Void) rethrows {
        try forEachEntry(intersecting: box) { key, _ in try body(key) }
    }

    /// The same, with each entry's own box.
    public func forEachEntry(intersecting box: BoundingBox, _ body: (Key, BoundingBox) throws -> Void) rethrows {
        guard let top = levels.indices.last else { return }
        let m = Self.fanout
        // (level, first, end) ranges still to visit; the tree is a few levels deep.
        var stack = [(top, 0, levels[top].count)]
        while let (level, first, end) = stack.popLast() {
            let boxes = levels[level]
            for i in first..<end where boxes[i].intersects(box) {
                if level == 0 {
                    try body(keys[i], boxes[i])
                } else {
                    stack.append((level - 1, i * m, min((i + 1) * m, levels[level - 1].count)))
                }
            }
        }
    }
}
