extension WKB {
    /// The bounding box of a WKB geometry (ISO or EWKB, either byte order), read without
    /// building the geometry; nil when it has no coordinates. The same box as decoding and
    /// asking `Geometry.boundingBox`: an items page measures every candidate this way and
    /// decodes only the few it returns.
    public static func boundingBox(_ wkb: UnsafeRawBufferPointer) throws -> BoundingBox? {
        var reader = WKBReader(buffer: wkb)
        var box: BoundingBox?
        try reader.bounds(&box, depth: 0)
        return box
    }
}

extension WKBReader {
    /// Widens `box` by every coordinate of the next geometry, with `readGeometry`'s checks.
    mutating func bounds(_ box: inout BoundingBox?, depth: Int) throws {
        let (little, type, dims) = try readHeader(depth: depth)
        func add(_ x: Double, _ y: Double) {
            if box == nil { box = BoundingBox(minX: x, minY: y, maxX: x, maxY: y) } else { box?.expand(toInclude: Coordinate(x, y)) }
        }
        func coordinates() throws {
            let n = try readCount(little, minItemBytes: 8 * dims)
            for _ in 0..<n {
                let x = try readDouble(little), y = try readDouble(little)
                offset += 8 * (dims - 2)
                add(x, y)
            }
        }
        switch type % 1000 {
        case 1:
            let x = try readDouble(little), y = try readDouble(little)
            try need(8 * (dims - 2))
            offset += 8 * (dims - 2)
            if !(x.isNaN && y.isNaN) { add(x, y) }  // POINT EMPTY
        case 2:
            try coordinates()
        case 3:
            let rings = try readCount(little, minItemBytes: 4)
            for _ in 0..<rings { try coordinates() }
        case 4, 5, 6, 7:
            let n = try readCount(little, minItemBytes: 5)
            for _ in 0..<n { try bounds(&box, depth: depth + 1) }
        default:
            throw GeometryError("WKB geometry type \(type) is not supported")
        }
    }
}
