import Geometry

/// The tile renderer's way past GEOS for the feature it meets most: a parcel, one small ring
/// wholly inside the clip rectangle. Douglas–Peucker, rounding to the integer grid, and a
/// check, in exact integer arithmetic, that the rounded ring is still simple and not flat.
/// Whatever the check cannot vouch for (holes, parts, long rings, a ring that rounding made
/// touch itself) gets nil and goes through GEOS's clip, simplifier and snap-rounding instead.
enum GridSnap {
    /// Longer rings go to GEOS: the simplicity check compares every pair of edges.
    static let maxVertices = 64

    /// `ring` closed (first point repeated last), in tile units. The ring returned is closed,
    /// on integer coordinates, simple, with non-zero area; its winding is not fixed here.
    static func ring(_ ring: [Coordinate], inside clip: BoundingBox, tolerance: Double) -> [Coordinate]? {
        let n = ring.count
        guard n >= 4, n <= maxVertices + 1, ring[0] == ring[n - 1] else { return nil }
        for c in ring {
            guard c.x >= clip.minX, c.x <= clip.maxX, c.y >= clip.minY, c.y <= clip.maxY else { return nil }
        }
        var kept = [Bool](repeating: false, count: n)
        kept[0] = true
        kept[n - 1] = true
        simplify(ring, 0, n - 1, tolerance * tolerance, &kept)
        var points = [(x: Int, y: Int)]()
        points.reserveCapacity(n)
        for i in 0..<(n - 1) where kept[i] {
            let p = (x: Int(ring[i].x.rounded()), y: Int(ring[i].y.rounded()))
            if let last = points.last, last == p { continue }
            points.append(p)
        }
        while points.count > 1, let first = points.first, let last = points.last, first == last { points.removeLast() }
        guard points.count >= 3, isSimple(points), twiceArea(points) != 0 else { return nil }
        var out = points.map { Coordinate(Double($0.x), Double($0.y)) }
        out.append(out[0])
        return out
    }

    /// Douglas–Peucker between kept points `i` and `j` (squared tolerance), by distance to
    /// the segment, as GEOS measures it.
    private static func simplify(_ ring: [Coordinate], _ i: Int, _ j: Int, _ tolerance2: Double, _ kept: inout [Bool]) {
        guard j > i + 1 else { return }
        var far = i, farthest = -1.0
        for k in (i + 1)..<j {
            let d = squaredDistance(ring[k], ring[i], ring[j])
            if d > farthest { farthest = d; far = k }
        }
        guard farthest > tolerance2 else { return }
        kept[far] = true
        simplify(ring, i, far, tolerance2, &kept)
        simplify(ring, far, j, tolerance2, &kept)
    }

    private static func squaredDistance(_ p: Coordinate, _ a: Coordinate, _ b: Coordinate) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        let length2 = dx * dx + dy * dy
        var t = length2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / length2 : 0
        t = min(max(t, 0), 1)
        let ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y
        return ex * ex + ey * ey
    }

    /// No edge meets another except where neighbours share their vertex, and no edge turns
    /// straight back along the one before it.
    static func isSimple(_ p: [(x: Int, y: Int)]) -> Bool {
        let m = p.count
        for i in 0..<m {
            let a = p[i], b = p[(i + 1) % m], c = p[(i + 2) % m]
            // Neighbours: collinear and pointing back is a spike (an overlap of the two edges).
            if cross(a, b, c) == 0, (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y) < 0 { return false }
            var j = i + 2
            while j < m {
                if i == 0, j == m - 1 { break }  // the last edge neighbours the first
                if intersects(a, b, p[j], p[(j + 1) % m]) { return false }
                j += 1
            }
        }
        return true
    }

    static func twiceArea(_ p: [(x: Int, y: Int)]) -> Int {
        var sum = 0
        for i in 0..<p.count {
            let a = p[i], b = p[(i + 1) % p.count]
            sum += a.x * b.y - b.x * a.y
        }
        return sum
    }

    private static func cross(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), _ c: (x: Int, y: Int)) -> Int {
        (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }

    /// Closed segments ab and cd share at least one point.
    private static func intersects(_ a: (x: Int, y: Int), _ b: (x: Int, y: Int), _ c: (x: Int, y: Int), _ d: (x: Int, y: Int)) -> Bool {
        let d1 = cross(c, d, a).signum(), d2 = cross(c, d, b).signum()
        let d3 = cross(a, b, c).signum(), d4 = cross(a, b, d).signum()
        if d1 * d2 < 0, d3 * d4 < 0 { return true }
        func on(_ p: (x: Int, y: Int), _ q: (x: Int, y: Int), _ r: (x: Int, y: Int)) -> Bool {
            min(p.x, q.x) <= r.x && r.x <= max(p.x, q.x) && min(p.y, q.y) <= r.y && r.y <= max(p.y, q.y)
        }
        return (d1 == 0 && on(c, d, a)) || (d2 == 0 && on(c, d, b)) || (d3 == 0 && on(a, b, c)) || (d4 == 0 && on(a, b, d))
    }
}
