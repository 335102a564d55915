@testable import GeoPackage
import Foundation
import Geometry
import Testing
import Store

@Suite struct GeoPackageBinaryTests {
    @Test func roundTripWithEnvelope() throws {
        let g = Geometry.multiPolygon([[[Coordinate(1, 2), Coordinate(3, 2), Coordinate(3, 5), Coordinate(1, 2)]]])
        let blob = Data(GeoPackageBinary.encode(g))
        #expect(blob.prefix(4) == Data([0x47, 0x50, 0x00, 0x03]))
        #expect(try GeoPackageBinary.decode(blob) == g)
        #expect(try GeoPackageBinary.envelope(blob) == BoundingBox(minX: 1, minY: 2, maxX: 3, maxY: 5))
        #expect(try !GeoPackageBinary.isEmpty(blob))
    }

    @Test func emptyGeometriesCarryTheEmptyFlag() throws {
        let blob = Data(GeoPackageBinary.encode(.point(nil)))
        #expect(blob[3] == 0x11)
        #expect(try GeoPackageBinary.isEmpty(blob))
        #expect(try GeoPackageBinary.envelope(blob) == nil)
        #expect(try GeoPackageBinary.decode(blob) == .point(nil))
    }

    /// A blob written by GDAL for a point: no envelope, header then WKB.
    @Test func readsABlobWithoutEnvelope() throws {
        let wkb = WKB.encode(.point(Coordinate(106.7, 10.78)))
        let blob = Data([0x47, 0x50, 0, 0x01, 0xE6, 0x10, 0, 0] + wkb)
        #expect(try GeoPackageBinary.envelope(blob) == BoundingBox(minX: 106.7, minY: 10.78, maxX: 106.7, maxY: 10.78))
    }

    @Test func garbageIsAnError() {
        #expect(throws: GeometryError.self) { try GeoPackageBinary.decode(Data([1, 2, 3])) }
        #expect(throws: GeometryError.self) { try GeoPackageBinary.decode(Data([0x47, 0x50, 0, 0x03, 0, 0, 0, 0, 1])) }
    }
}
