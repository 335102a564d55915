@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Testing
import Store
import TestSupport

/// What the store records per layer at write, so that clients learn a layer's fields, geometry
/// kind and drawable zooms without any feature being read.
@Suite struct LayerFiguresTests {
    static func point(_ id: String, _ properties: [String: JSONValue]) -> Feature {
        Feature(id: id, geometry: .point(Coordinate(106.7, 10.7)), properties: properties)
    }

    static func square(_ id: String, side: Double, _ properties: [String: JSONValue] = [:]) -> Feature {
        let ring = [Coordinate(0, 0), Coordinate(side, 0), Coordinate(side, side), Coordinate(0, side), Coordinate(0, 0)]
        return Feature(id: id, geometry: .polygon([ring]), properties: properties)
    }

    @Test func sourceFieldsAreTrackedWithMergedTypes() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(Self.point("a", ["levels": 1, "name": "A", "note": .null]))
            try w.put(Self.point("b", ["levels": .number(2.5), "open": .bool(true)]))
        }
        #expect(try store.sourceFields(of: "shops") == ["levels": .number, "name": .string, "open": .boolean])
        _ = try store.write(StoreFixtures.request(.upsert, layer: "shops")) { w in
            try w.put(Self.point("c", ["open": "yes", "hours": "7-22"]))
        }
        #expect(try store.sourceFields(of: "shops") == ["levels": .number, "name": .string, "open": .string, "hours": .string])
        #expect(try store.layer("shops")?.sourceFields["hours"] == .string)
        // A replace makes the layer only what the batch holds.
        _ = try store.write(StoreFixtures.request(.replace, layer: "shops")) { w in try w.put(Self.point("d", ["floors": 3])) }
        #expect(try store.sourceFields(of: "shops") == ["floors": .integer])
        // Canonical fields are columns, not source fields.
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1)) }
        #expect(try store.sourceFields(of: "parcels") == ["SoHieu": .string])
    }

    @Test func geometryTypeAndLargestPolygonAreDeclared() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(Self.square("s", side: 1))
            try w.put(Self.square("t", side: 0.5))
        }
        func declared() throws -> String? {
            try DatabaseQueue(path: url.path).read { db in
                try String.fetchOne(db, sql: "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'shops'")
            }
        }
        #expect(try declared() == "POLYGON")
        let area = try #require(try store.layer("shops")?.largestArea)
        // A 1° square on the equator is nearly (1/360)² of the Mercator world.
        #expect(abs(area / (1.0 / 360 / 360) - 1) < 0.001, "\(area)")
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in try w.put(Self.point("p", [:])) }
        #expect(try declared() == "GEOMETRY")
        #expect(try store.layer("shops")?.declaredGeometryType == "GEOMETRY")
    }

    /// A file made before the figures were kept gains them, from its data, when opened.
    @Test func olderFilesGainTheirFiguresOnOpen() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(Self.square("s", side: 1, ["levels": 2, "name": "S"]))
            try w.put(Self.point("p", ["amenity": "cafe", "levels": .number(1.5)]))
        }
        try DatabaseQueue(path: url.path).write { db in
            try db.execute(sql: "ALTER TABLE landmap_layers DROP COLUMN source_fields")
            try db.execute(sql: "ALTER TABLE landmap_layers DROP COLUMN largest_area")
        }
        let reopened = try GeoPackageStore(path: url.path)
        #expect(try reopened.sourceFields(of: "shops") == ["levels": .number, "name": .string, "amenity": .string])
        #expect(try reopened.layer("shops")?.largestArea.map { $0 > 0 } == true)
    }
}
