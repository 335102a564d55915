extension WKB {
    /// Whether a WKB (Multi)Polygon or (Multi)LineString meets a closed box, read without
    /// building the geometry; nil for other types (and EWKB), which callers leave to GEOS. An
    /// items page asks this of every feature on its box's edge: parsing each into GEOS to ask
    /// the same was a tenth of a page. Comparisons and one cross product per box corner, so
    /// edges that touch the box exactly (along it, or at a corner) are found as GEOS finds them.
    public static func intersects(_ box: BoundingBox, _ wkb: UnsafeRawBufferPointer) throws -> Bool? {
        var reader = WKBReader(buffer: wkb)
        return try reader.meets(box, depth: 0)
    }
}

extension WKBReader {
    mutating func meets(_ box: BoundingBox, depth: Int) throws -> Bool? {
        let begin = offset
        guard depth <= 1, let (little, type, dims) = try readISOHeader() else { return nil }
        switch type {
        case 2:
            return try lineMeets(box, little, dims: dims)
        case 3:
            // An edge meets the box, or the box lies inside the polygon (a corner in it: not in
            // a hole, since no edge, holes' included, meets the box).
            let rings = try readCount(little, minItemBytes: 4)
            var met = false
            for _ in 0..<rings where try lineMeets(box, little, dims: dims) { met = true }
            if met { return true }
            let end = offset
            offset = begin
            let corner = try locate(Coordinate(box.minX, box.minY), depth: 1)
            offset = end
            return corner.map { $0 != .exterior }
        case 5, 6:
            guard depth == 0 else { return nil }
            let parts = try readCount(little, minItemBytes: 9)
            var met = false
            for _ in 0..<parts {
                // Every part is read to the end (the reader moves on), even after a hit.
                guard let part = try meets(box, depth: depth + 1) else { return nil }
                met = met || part
            }
            return met
        default:
            return nil
        }
    }

    /// Whether a line string (or ring) of the reader meets the box; reads it to its end.
    mutating func lineMeets(_ box: BoundingBox, _ little: Bool, dims: Int) throws -> Bool {
        let n = try readCount(little, minItemBytes: 8 * dims)
        guard n > 0 else { return false }
        var met = false
        var a = Coordinate(try readDouble(little), try readDouble(little))
        offset += 8 * (dims - 2)
        if n == 1 { met = box.contains(a) }
        for _ in 1..<max(n, 1) {
            let b = Coordinate(try readDouble(little), try readDouble(little))
            offset += 8 * (dims - 2)
            if !met { met = Self.segment(a, b, meets: box) }
            a = b
        }
        return met
    }

    /// A segment meets a closed box when their boxes overlap and the box's corners are not all
    /// strictly on one side of the segment's line (the separating axes of the two).
    static func segment(_ a: Coordinate, _ b: Coordinate, meets box: BoundingBox) -> Bool {
        guard max(a.x, b.x) >= box.minX, min(a.x, b.x) <= box.maxX, max(a.y, b.y) >= box.minY, min(a.y, b.y) <= box.maxY else { return false }
        func side(_ x: Double, _ y: Double) -> Double { (b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y) }
        let s0 = side(box.minX, box.minY), s1 = side(box.maxX, box.minY), s2 = side(box.maxX, box.maxY), s3 = side(box.minX, box.maxY)
        return !((s0 > 0 && s1 > 0 && s2 > 0 && s3 > 0) || (s0 < 0 && s1 < 0 && s2 < 0 && s3 < 0))
    }
}

/// Decides whether WKB geometries meet one closed rectangle: from their bytes where
/// `WKB.intersects` can (polygons and lines, nearly every feature), by GEOS for the rest
/// (points, collections), its context made only when first needed.
public final class RectangleTest {
    public let rectangle: BoundingBox
    private var geos: (context: GeosContext, area: PreparedGeometry)?

    public init(_ rectangle: BoundingBox) {
        self.rectangle = rectangle
    }

    public func meets(_ wkb: UnsafeRawBufferPointer) throws -> Bool {
        guard let bounds = try WKB.boundingBox(wkb), bounds.intersects(rectangle) else { return false }
        if let met = try WKB.intersects(rectangle, wkb) { return met }
        if geos == nil {
            let context = try GeosContext()
            geos = (context, try context.geometry(rectangle.polygon).prepared())
        }
        guard let geos else { return false }
        return try geos.area.intersects(geos.context.geometry(wkb: wkb))
    }
}
