extension WKB {
    /// The planar area of a Polygon or MultiPolygon read straight from ISO WKB, each vertex
    /// first mapped through `project`; nil for any other geometry type. The same rule as
    /// `Geometry.planarArea` (shells count, holes subtract) without building the geometry: a
    /// tile sizes every candidate this way before it decides which ones to draw.
    public static func planarArea(_ wkb: UnsafeRawBufferPointer, projected project: (Coordinate) -> Coordinate) throws -> Double? {
        var reader = WKBReader(buffer: wkb)
        return try reader.planarArea(project, depth: 0)
    }
}

extension WKBReader {
    mutating func planarArea(_ project: (Coordinate) -> Coordinate, depth: Int) throws -> Double? {
        guard depth <= 1, let (little, type, dims) = try readISOHeader() else { return nil }
        switch type {
        case 3:
            let rings = try readCount(little, minItemBytes: 4)
            var area = 0.0
            for i in 0..<rings {
                let ring = abs(try signedRingArea(project, little, dims: dims))
                area += i == 0 ? ring : -ring
            }
            return area
        case 6 where depth == 0:
            let parts = try readCount(little, minItemBytes: 9)
            var area = 0.0
            for _ in 0..<parts {
                guard let part = try planarArea(project, depth: depth + 1) else { return nil }
                area += part
            }
            return area
        default:
            return nil
        }
    }

    /// Shoelace sum of one ring, shifted by its first point as `Geometry.signedRingArea` is.
    mutating func signedRingArea(_ project: (Coordinate) -> Coordinate, _ little: Bool, dims: Int) throws -> Double {
        let n = try readCount(little, minItemBytes: 8 * dims)
        guard n > 0 else { return 0 }
        let o = project(Coordinate(try readDouble(little), try readDouble(little)))
        offset += 8 * (dims - 2)
        var a = Coordinate(0, 0)
        var sum = 0.0
        for _ in 1..<max(n, 1) {
            let p = project(Coordinate(try readDouble(little), try readDouble(little)))
            offset += 8 * (dims - 2)
            let b = Coordinate(p.x - o.x, p.y - o.y)
            sum += a.x * b.y - b.x * a.y
            a = b
        }
        return n >= 3 ? sum / 2 : 0
    }
}
