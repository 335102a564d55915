import Geometry

/// What the tile renderer does to a feature with many vertices before GEOS sees it (SPEC §5:
/// features of up to 10⁶ vertices). Unthinned, a tile holding one took 3–5 s and stalled a core.
///
/// Two passes, both linear and in plain Swift:
/// - `outside`: a run of consecutive vertices that all lie beyond one side of the clip box
///   (x < minX, say) is replaced by its first and last vertex. The chord between them stays in
///   that half-plane, so the feature's part inside the box is exactly what it was; only the
///   part GEOS's clip would cut away changes. Web Mercator maps longitude and latitude each
///   on its own, so this runs in lon/lat, before the remaining vertices are projected.
/// - `radial`: in tile units, a vertex closer than `epsilon` to the last one kept is dropped:
///   at most `epsilon` of shape (a quarter of the simplification tolerance).
enum LargeFeatures {
    /// Features with more vertices than this are thinned first: a ward of a few thousand
    /// vertices is drawn as before, one of tens of thousands is not.
    static let threshold = 16_384

    /// Bits of `c`'s position outside `box`: 1 west, 2 east, 4 south, 8 north; 0 inside.
    @inline(__always) static func outcode(_ c: Coordinate, _ box: BoundingBox) -> UInt8 {
        (c.x < box.minX ? 1 : 0) | (c.x > box.maxX ? 2 : 0) | (c.y < box.minY ? 4 : 0) | (c.y > box.maxY ? 8 : 0)
    }

    /// A path with every run beyond one side of `box` cut to its two ends (see above).
    static func outside(_ path: [Coordinate], _ box: BoundingBox) -> [Coordinate] {
        guard path.count > 2 else { return path }
        var out = [Coordinate]()
        var start = 0
        while start < path.count {
            var mask = outcode(path[start], box)
            var end = start
            while mask != 0, end + 1 < path.count {
                let next = mask & outcode(path[end + 1], box)
                if next == 0 { break }
                mask = next
                end += 1
            }
            out.append(path[start])
            if end > start { out.append(path[end]) }
            start = end + 1
        }
        return out
    }

    /// A path without the vertices closer than `epsilon` to the last one kept (its ends kept).
    static func radial(_ path: [Coordinate], _ epsilon: Double) -> [Coordinate] {
        guard path.count > 2 else { return path }
        let e2 = epsilon * epsilon
        var out = [path[0]]
        out.reserveCapacity(path.count / 2)
        for c in path.dropFirst().dropLast() {
            let last = out[out.count - 1]
            let dx = c.x - last.x, dy = c.y - last.y
            if dx * dx + dy * dy >= e2 { out.append(c) }
        }
        out.append(path[path.count - 1])
        return out
    }

    /// The geometry with both passes applied to every ring and line; a ring left with fewer
    /// than four vertices lay wholly beyond one side of the box: a shell takes its polygon
    /// with it, a hole goes alone. Points are left as they are.
    static func thinned(_ g: Geometry, box: BoundingBox, project: (Coordinate) -> Coordinate, epsilon: Double) -> Geometry? {
        func path(_ p: [Coordinate]) -> [Coordinate] { radial(outside(p, box).map(project), epsilon) }
        func polygon(_ rings: [[Coordinate]]) -> [[Coordinate]]? {
            guard let shell = rings.first.map(path), shell.count >= 4 else { return nil }
            return [shell] + rings.dropFirst().map(path).filter { $0.count >= 4 }
        }
        switch g {
        case .polygon(let rings): return polygon(rings).map { .polygon($0) }
        case .multiPolygon(let parts):
            let kept = parts.compactMap(polygon)
            return kept.isEmpty ? nil : .multiPolygon(kept)
        case .lineString(let line):
            let p = path(line)
            return p.count >= 2 ? .lineString(p) : nil
        case .multiLineString(let lines):
            let kept = lines.map(path).filter { $0.count >= 2 }
            return kept.isEmpty ? nil : .multiLineString(kept)
        case .geometryCollection(let parts):
            let kept = parts.compactMap { thinned($0, box: box, project: project, epsilon: epsilon) }
            return kept.isEmpty ? nil : .geometryCollection(kept)
        default:
            return g.mapCoordinates(project)
        }
    }
}
