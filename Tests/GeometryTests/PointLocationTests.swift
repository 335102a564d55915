import Testing
@testable import Geometry

/// `WKB.locate` answers the parcel test of every lookup without GEOS, so it must agree with
/// GEOS's contains/covers everywhere, on the boundary above all.
@Suite struct PointLocationTests {
    // A square with a square hole, and two parts touching at a corner.
    static let withHole = "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (3 3, 7 3, 7 7, 3 7, 3 3))"
    static let multi = "MULTIPOLYGON (((0 0, 4 0, 4 4, 0 4, 0 0)), ((4 4, 8 4, 6 9, 4 4)))"

    func geosLocation(_ g: GeosGeometry, _ p: Coordinate, _ geos: GeosContext) throws -> PointLocation {
        let point = try geos.point(p)
        return try g.contains(point) ? .interior : g.covers(point) ? .boundary : .exterior
    }

    @Test(arguments: [withHole, multi])
    func agreesWithGEOSOnAGridThroughVerticesAndEdges(_ wkt: String) throws {
        let geometry = try WKT.decode(wkt)
        let geos = try GeosContext()
        let native = try geos.geometry(geometry)
        for byteOrder in [WKB.ByteOrder.littleEndian, .bigEndian] {
            let wkb = WKB.encode(geometry, byteOrder: byteOrder)
            var seen = Set<PointLocation>()
            // Half-unit steps land on every vertex and edge of these shapes, and between them.
            for i in -2...22 {
                for j in -2...22 {
                    let p = Coordinate(Double(i) / 2, Double(j) / 2)
                    let ours = try wkb.withUnsafeBytes { try WKB.locate(p, in: $0) }
                    #expect(ours == (try geosLocation(native, p, geos)), "at \(p.x) \(p.y)")
                    if let ours { seen.insert(ours) }
                }
            }
            #expect(seen == [.interior, .boundary, .exterior])
        }
    }

    @Test func otherTypesAreLeftToGEOS() throws {
        let line = WKB.encode(try WKT.decode("LINESTRING (0 0, 1 1)"))
        #expect(try line.withUnsafeBytes { try WKB.locate(Coordinate(0.5, 0.5), in: $0) } == nil)
        let truncated = Array(WKB.encode(try WKT.decode(Self.withHole)).prefix(20))
        #expect(throws: GeometryError.self) { try truncated.withUnsafeBytes { try WKB.locate(Coordinate(1, 1), in: $0) } }
    }
}

@Suite struct PackedBoxIndexTests {
    @Test func findsExactlyWhatABruteForceScanFinds() {
        var state: UInt64 = 20_261_124
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        let items: [(key: Int, box: BoundingBox)] = (0..<5_000).map { i in
            let x = next() * 100, y = next() * 100
            return (i, BoundingBox(minX: x, minY: y, maxX: x + next() * 3, maxY: y + next() * 3))
        }
        let index = PackedBoxIndex(items)
        #expect(index.count == 5_000)
        for _ in 0..<300 {
            let x = next() * 100, y = next() * 100, w = next() * 5
            let query = BoundingBox(minX: x, minY: y, maxX: x + w, maxY: y + w)
            var found = [Int]()
            index.forEach(intersecting: query) { found.append($0) }
            #expect(found.sorted() == items.filter { $0.box.intersects(query) }.map(\.key))
        }
        // A point query, and an index of nothing.
        let corner = Coordinate(items[7].box.minX, items[7].box.minY)
        var hits = [Int]()
        index.forEach(intersecting: BoundingBox(minX: corner.x, minY: corner.y, maxX: corner.x, maxY: corner.y)) { hits.append($0) }
        #expect(hits.contains(7))
        PackedBoxIndex<Int>([]).forEach(intersecting: BoundingBox(minX: 0, minY: 0, maxX: 1, maxY: 1)) { key in Issue.record("empty index found \(key)") }
    }
}

@Suite struct WKBAreaTests {
    /// The tile renderer sizes candidates by `WKB.planarArea`; it must be `planarArea` of the
    /// mapped geometry, holes and parts included, in either byte order.
    @Test func matchesThePlanarAreaOfTheMappedGeometry() throws {
        let map = { (c: Coordinate) in Coordinate(c.x * 3 + 1, 100 - c.y * 2) }
        for wkt in [PointLocationTests.withHole, PointLocationTests.multi, "POLYGON Z ((0 0 5, 4 0 5, 4 3 5, 0 0 5))"] {
            let g = try WKT.decode(wkt)
            for order in [WKB.ByteOrder.littleEndian, .bigEndian] {
                let area = try WKB.encode(g, byteOrder: order).withUnsafeBytes { try WKB.planarArea($0, projected: map) }
                #expect(area == g.mapCoordinates(map).planarArea, "\(wkt)")
            }
        }
        #expect(try WKB.encode(try WKT.decode("LINESTRING (0 0, 1 1)")).withUnsafeBytes { try WKB.planarArea($0, projected: map) } == nil)
    }
}
