/// Where a point lies relative to an areal geometry (OGC's interior, boundary, exterior).
public enum PointLocation: Int, Comparable, Sendable {
    case exterior, boundary, interior

    public static func < (a: PointLocation, b: PointLocation) -> Bool { a.rawValue < b.rawValue }
}

extension WKB {
    /// Locates a point in a Polygon or MultiPolygon read straight from WKB, without building a
    /// geometry: the parcel test of a point lookup, run on every R-tree candidate. nil for any
    /// other geometry type. The boundary test is exact (a zero cross product), so a point on a
    /// shared edge is on the boundary of both parcels.
    public static func locate(_ p: Coordinate, in wkb: UnsafeRawBufferPointer) throws -> PointLocation? {
        var reader = WKBReader(buffer: wkb)
        return try reader.locate(p, depth: 0)
    }
}

extension WKBReader {
    mutating func locate(_ p: Coordinate, depth: Int) throws -> PointLocation? {
        guard depth <= 1, let (little, type, dims) = try readISOHeader() else { return nil }
        switch type {
        case 3:
            let rings = try readCount(little, minItemBytes: 4)
            var location = PointLocation.exterior
            for i in 0..<rings {
                let ring = try locateInRing(p, little, dims: dims)
                if i == 0 {
                    location = ring
                } else if location == .interior, ring != .exterior {
                    location = ring == .boundary ? .boundary : .exterior  // in a hole
                }
            }
            return location
        case 6 where depth == 0:
            let parts = try readCount(little, minItemBytes: 9)
            var best = PointLocation.exterior
            for _ in 0..<parts {
                guard let part = try locate(p, depth: depth + 1) else { return nil }
                best = max(best, part)
            }
            return best
        default:
            return nil
        }
    }

    /// The byte order, the geometry type without its dimension (1…7) and the number of
    /// ordinates per vertex, of an ISO WKB header; nil for EWKB flags or an unknown dimension,
    /// which the store never writes and the fast paths leave to the general decoder.
    mutating func readISOHeader() throws -> (little: Bool, type: UInt32, dims: Int)? {
        let order = try readByte()
        guard order <= 1 else { throw GeometryError("WKB byte order \(order) at byte \(offset - 1) is neither 0 nor 1") }
        let little = order == 1
        let type = try readUInt32(little)
        guard type & 0xe000_0000 == 0 else { return nil }
        switch type / 1000 {
        case 0: return (little, type % 1000, 2)
        case 1, 2: return (little, type % 1000, 3)
        case 3: return (little, type % 1000, 4)
        default: return nil
        }
    }

    /// Winding number of a closed ring around the point, or `.boundary` when it lies on an edge.
    mutating func locateInRing(_ p: Coordinate, _ little: Bool, dims: Int) throws -> PointLocation {
        let n = try readCount(little, minItemBytes: 8 * dims)
        guard n > 0 else { return .exterior }
        var winding = 0
        var onEdge = false
        var a = Coordinate(try readDouble(little), try readDouble(little))
        offset += 8 * (dims - 2)
        for _ in 1..<max(n, 1) {
            let b = Coordinate(try readDouble(little), try readDouble(little))
            offset += 8 * (dims - 2)
            if !onEdge {
                let cross = (b.x - a.x) * (p.y - a.y) - (p.x - a.x) * (b.y - a.y)
                if cross == 0, min(a.x, b.x) <= p.x, p.x <= max(a.x, b.x), min(a.y, b.y) <= p.y, p.y <= max(a.y, b.y) {
                    onEdge = true
                } else if a.y <= p.y {
                    if b.y > p.y, cross > 0 { winding += 1 }
                } else if b.y <= p.y, cross < 0 {
                    winding -= 1
                }
            }
            a = b
        }
        return onEdge ? .boundary : winding != 0 ? .interior : .exterior
    }
}
