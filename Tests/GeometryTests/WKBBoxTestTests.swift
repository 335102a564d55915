import Testing
@testable import Geometry

/// `WKB.intersects(box, wkb)` decides which features on an items page's edge match its box,
/// and so `numberMatched`: it must agree with GEOS's `intersects` everywhere, on exact touches
/// above all (a box edge along a parcel edge, a box corner on a vertex, a box in a hole).
@Suite struct WKBBoxTestTests {
    static let shapes = [
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (3 3, 7 3, 7 7, 3 7, 3 3))",
        "MULTIPOLYGON (((0 0, 4 0, 4 4, 0 4, 0 0)), ((4 4, 8 4, 6 9, 4 4)))",
        "POLYGON ((1 1, 9 2, 5 9, 1 1))",
        "LINESTRING (0 0, 3 5, 9 1)",
        "MULTILINESTRING ((0 9, 9 9), (2 0, 2 3))",
        "POLYGON Z ((0 0 1, 6 0 1, 6 6 2, 0 6 2, 0 0 1))",
    ]

    @Test(arguments: shapes)
    func agreesWithGEOSOnBoxesThroughVerticesAndEdges(_ wkt: String) throws {
        let geometry = try WKT.decode(wkt)
        let geos = try GeosContext()
        let native = try geos.geometry(geometry)
        var seen = Set<Bool>()
        for byteOrder in [WKB.ByteOrder.littleEndian, .bigEndian] {
            let wkb = WKB.encode(geometry, byteOrder: byteOrder)
            // Boxes whose sides lie on whole and half units: along edges, through vertices, in
            // the hole, around everything.
            let steps = stride(from: -1.0, through: 11.0, by: 1.5).map { $0 }
            for x0 in steps {
                for y0 in steps {
                    for (w, h) in [(0.5, 0.5), (1.0, 3.0), (4.0, 1.0), (2.5, 2.5), (12.0, 12.0)] {
                        let box = BoundingBox(minX: x0, minY: y0, maxX: x0 + w, maxY: y0 + h)
                        let ours = try wkb.withUnsafeBytes { try WKB.intersects(box, $0) }
                        let theirs = try native.intersects(try geos.geometry(box.polygon))
                        #expect(ours == theirs, "\(wkt) and \(box)")
                        if let ours { seen.insert(ours) }
                    }
                }
            }
        }
        #expect(seen == [true, false])
    }

    @Test func otherTypesAreLeftToGEOS() throws {
        let box = BoundingBox(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let point = WKB.encode(try WKT.decode("POINT (0.5 0.5)"))
        #expect(try point.withUnsafeBytes { try WKB.intersects(box, $0) } == nil)
        let collection = WKB.encode(try WKT.decode("GEOMETRYCOLLECTION (POINT (0.5 0.5))"))
        #expect(try collection.withUnsafeBytes { try WKB.intersects(box, $0) } == nil)
        let truncated = Array(WKB.encode(try WKT.decode("POLYGON ((0 0, 2 0, 2 2, 0 0))")).prefix(30))
        #expect(throws: GeometryError.self) { try truncated.withUnsafeBytes { try WKB.intersects(box, $0) } }
    }
}
