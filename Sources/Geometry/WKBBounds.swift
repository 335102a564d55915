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
        guard depth <= WKB.maxDepth else { throw GeometryError("WKB nests collections deeper than \(WKB.maxDepth)") }
        let order = try readByte()
        guard order <= 1 else { throw GeometryError("WKB byte order \(order) at byte \(offset - 1) is neither 0 nor 1") }
        let little = order == 1
        var type = try readUInt32(little)
        var dims = 2
        if type & 0x8000_0000 != 0 { dims += 1 }
        if type & 0x4000_0000 != 0 { dims += 1 }
        if type & 0x2000_0000 != 0 { _ = try readUInt32(little) }
        type &= 0x0fff_ffff
        switch type / 1000 {
        case 0: break
        case 1, 2: dims += 1
        case 3: dims += 2
        default: throw GeometryError("WKB geometry type \(type) is unknown")
        }
        guard dims <= 4 else { throw GeometryError("WKB geometry type has more than 4 dimensions") }
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
