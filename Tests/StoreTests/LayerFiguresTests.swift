@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Testing
import Store
import TestSupport

/// The layer figures as the GeoPackage file itself declares them (the figures every backend
/// keeps are in `StoreConformanceTests`).
@Suite struct LayerFiguresTests {
    /// GeoPackage's `gpkg_geometry_columns` names the geometry type the layer truly holds.
    @Test func theFileDeclaresTheGeometryTypeTheLayerHolds() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(StoreConformanceTests.square("s", side: 1))
            try w.put(StoreConformanceTests.square("t", side: 0.5))
        }
        func declared() throws -> String? {
            try DatabaseQueue(path: url.path).read { db in
                try String.fetchOne(db, sql: "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'shops'")
            }
        }
        #expect(try declared() == "POLYGON")
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in try w.put(StoreConformanceTests.point("p", [:])) }
        #expect(try declared() == "GEOMETRY")
        #expect(try store.layer("shops")?.declaredGeometryType == "GEOMETRY")
    }

    /// A file made before the figures were kept gains them, from its data, when opened.
    @Test func olderFilesGainTheirFiguresOnOpen() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(StoreConformanceTests.square("s", side: 1, ["levels": 2, "name": "S"]))
            try w.put(StoreConformanceTests.point("p", ["amenity": "cafe", "levels": .number(1.5)]))
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
