@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Testing
import Store
import TestSupport

@Suite struct GeoPackageStoreTests {
    @Test func writesAndReadsBackFeatures() throws {
        let (store, _) = try StoreFixtures.store()
        let summary = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<30 { try w.put(StoreFixtures.parcel(i, owner: "Nguyễn Văn \(i)")) }
        }
        #expect(summary.inserted == 30)
        #expect(summary.dataVersion == 1)
        let f = try #require(try store.feature(layer: "parcels", id: "26734-12-5", asOf: nil))
        #expect(f.properties["sheet"] == .integer(12))
        #expect(f.properties["number"] == .integer(5))
        #expect(f.properties["owner"] == "Nguyễn Văn 4")
        #expect(f.properties["SoHieu"] == "TĐ-4")  // a source field kept in `properties`
        // Polygons are stored as multipolygons in the built-in areal layers.
        #expect(f.geometry == StoreFixtures.parcel(4).geometry?.promotedToMulti)

        let info = try #require(try store.layer("parcels"))
        #expect(info.featureCount == 30)
        #expect(info.geometryTypes == ["MULTIPOLYGON"])
        #expect(info.dataVersion == 1)
        let extent = try #require(info.extent)
        #expect(extent.minX == 106.70 && extent.minY == 10.78)
        #expect(abs(extent.maxX - (106.70 + 9 * 0.0002 + 0.00018)) < 1e-12)

        // The R-tree answers a box: the first row of the grid only.
        let box = BoundingBox(minX: 106.6999, minY: 10.7799, maxX: 106.8, maxY: 10.78015)
        let hits = try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 100, offset: 0)
        #expect(hits.map(\.id).sorted() == (1...10).map { "26734-12-\($0)" }.sorted())
        let page = try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 4, offset: 8)
        #expect(page.count == 2)
    }

    @Test func upsertKeepsEveryVersionAndAnswersAsOfADate() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<5 { try w.put(StoreFixtures.parcel(i)) }
        }
        let before = Date()
        Thread.sleep(forTimeInterval: 0.01)
        let second = try store.write(StoreFixtures.request(.upsert)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))  // changed
            try w.put(StoreFixtures.parcel(1))  // unchanged
            try w.put(StoreFixtures.parcel(7))  // new
        }
        #expect(second.updated == 1 && second.unchanged == 1 && second.inserted == 1)
        #expect(second.dataVersion == 2)

        let versions = try store.history(layer: "parcels", id: "26734-12-1")
        #expect(versions.map(\.version) == [1, 2])
        #expect(versions[0].feature.properties["land_use"] == "ODT")
        #expect(versions[1].feature.properties["land_use"] == "TMD")
        #expect(versions[0].validTo == versions[1].validFrom)
        #expect(versions[1].validTo == nil)

        #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: before)?.properties["land_use"] == "ODT")
        #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: nil)?.properties["land_use"] == "TMD")
        #expect(try store.feature(layer: "parcels", id: "26734-12-8", asOf: before) == nil)  // did not exist yet
        let all = BoundingBox(minX: 100, minY: 0, maxX: 110, maxY: 20)
        let then = try store.features(layer: "parcels", intersecting: all, asOf: before, limit: 100, offset: 0)
        #expect(then.count == 5)
        #expect(then.first { $0.id == "26734-12-1" }?.properties["land_use"] == "ODT")
    }

    @Test func replaceDeletesWhatTheBatchDoesNotNameAndKeepsIt() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<5 { try w.put(StoreFixtures.parcel(i)) }
        }
        let s = try store.write(StoreFixtures.request(.replace)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        #expect(s.deleted == 2 && s.unchanged == 3)
        #expect(try store.layer("parcels")?.featureCount == 3)
        let gone = try store.history(layer: "parcels", id: "26734-12-5")
        #expect(gone.count == 1 && gone[0].endedByDeletion)
        #expect(try store.layers(containing: "26734-12-5") == ["parcels"])
    }

    @Test func duplicateIDsFailTheWholeBatch() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(throws: StoreError.duplicateID(layer: "parcels", id: "26734-12-1")) {
            try store.write(StoreFixtures.request(.append)) { w in
                try w.put(StoreFixtures.parcel(1))
                try w.put(StoreFixtures.parcel(0))
            }
        }
        #expect(throws: StoreError.duplicateID(layer: "parcels", id: "26734-12-3")) {
            try store.write(StoreFixtures.request(.replace)) { w in
                try w.put(StoreFixtures.parcel(2))
                try w.put(StoreFixtures.parcel(2))
            }
        }
        #expect(try store.layer("parcels")?.featureCount == 1)
    }

    /// The foundation issue's all-or-nothing check: fail in the middle of a batch and compare
    /// counts, data version, batches and history before and after.
    @Test func aBatchThatFailsHalfWayLeavesTheFileAsItWas() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<20 { try w.put(StoreFixtures.parcel(i)) }
        }
        func snapshot() throws -> [String] {
            try store.pool.read { db in
                try ["SELECT count(*) FROM parcels", "SELECT count(*) FROM rtree_parcels_geom",
                     "SELECT data_version FROM landmap_layers WHERE name = 'parcels'",
                     "SELECT count(*) FROM landmap_batches", "SELECT count(*) FROM landmap_history",
                     "SELECT group_concat(id || ':' || land_use, ',') FROM (SELECT id, land_use FROM parcels ORDER BY fid)",
                     "SELECT min_x || ',' || max_y || ',' || last_change FROM gpkg_contents WHERE table_name = 'parcels'"]
                    .map { try String.fetchOne(db, sql: $0) ?? "NULL" }
            }
        }
        let before = try snapshot()
        #expect(throws: StoreFixtures.Boom.self) {
            try store.write(StoreFixtures.request(.upsert)) { w in
                for i in 0..<10 { try w.put(StoreFixtures.parcel(i, landUse: "SKC")) }  // updates
                for i in 100..<150 { try w.put(StoreFixtures.parcel(i)) }  // inserts
                _ = try w.delete(id: "26734-12-20")
                throw StoreFixtures.Boom()
            }
        }
        #expect(try snapshot() == before)
        // And from a fresh connection, as another process would see it.
        let reopened = try GeoPackageStore(path: url.path)
        #expect(try reopened.layer("parcels")?.featureCount == 20)
        #expect(try reopened.layer("parcels")?.dataVersion == 1)
        let integrity = try reopened.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == "ok")
    }

    @Test func customLayersTakeAnyGeometryAndBuiltInsOnlyPolygons() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append, layer: "bridges")) { w in
            try w.put(Feature(id: "b1", geometry: .lineString([Coordinate(106.7, 10.7), Coordinate(106.71, 10.71)]), properties: ["TenDuong": "Cầu Sài Gòn"]))
            try w.put(Feature(id: "b2", geometry: .point(Coordinate(106.72, 10.72))))
        }
        #expect(try store.layer("bridges")?.geometryTypes == ["LINESTRING", "POINT"])
        #expect(throws: StoreError.self) {
            try store.write(StoreFixtures.request(.append)) { w in
                try w.put(Feature(id: "p", geometry: .point(Coordinate(106.7, 10.7))))
            }
        }
        #expect(throws: StoreError.invalidLayerName("Bad Name")) {
            try store.write(StoreFixtures.request(.append, layer: "Bad Name")) { _ in }
        }
        // The schema of a custom layer survives reopening.
        let reopened = try GeoPackageStore(path: url.path)
        #expect(try reopened.feature(layer: "bridges", id: "b1", asOf: nil)?.properties["TenDuong"] == "Cầu Sài Gòn")
        #expect(throws: StoreError.unknownLayer("roads")) { try reopened.feature(layer: "roads", id: "x", asOf: nil) }
    }

    @Test func badCanonicalValuesAreRefusedNamingTheField() throws {
        let (store, _) = try StoreFixtures.store()
        var f = StoreFixtures.parcel(0)
        f.properties["sheet"] = "12a"
        #expect(throws: StoreError.invalidFeature(layer: "parcels", id: f.id, detail: "field 'sheet' must be a whole number, not '12a'")) {
            try store.write(StoreFixtures.request(.append)) { w in try w.put(f) }
        }
        // Numbers written as text, and Vietnamese decimal commas, are accepted.
        f.properties["sheet"] = " 12 "
        f.properties["declared_area_m2"] = "390,5"
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(f) }
        let back = try store.feature(layer: "parcels", id: f.id, asOf: nil)
        #expect(back?.properties["sheet"] == .integer(12))
        #expect(back?.properties["declared_area_m2"] == .number(390.5))
    }

    @Test func aForeignSQLiteFileIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("foreign")
        let path = dir.appendingPathComponent("other.sqlite").path
        let q = try DatabaseQueue(path: path)
        try q.write { db in try db.execute(sql: "CREATE TABLE accounts (id INTEGER)") }
        #expect(throws: StoreError.self) { try GeoPackageStore(path: path) }
        let notSQLite = dir.appendingPathComponent("notes.gpkg")
        try Data("hello, this is not a database at all, just text........................................................".utf8).write(to: notSQLite)
        #expect(throws: StoreError.self) { try GeoPackageStore(path: notSQLite.path) }
    }
}

/// Data versions are read through a watch that rereads only when SQLite says another connection
/// committed: a write by this store or by another process must show on the very next call.
@Suite struct DataVersionWatchTests {
    @Test func aWriteFromAnyConnectionIsSeenAtOnce() throws {
        let (store, url) = try StoreFixtures.store()
        #expect(try store.dataVersions()["parcels"] == nil)
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(try store.dataVersions()["parcels"] == 1)
        #expect(try store.dataVersions()["parcels"] == 1)  // from the watch's memory
        // Another store on the same file stands for another process (its own connections).
        let other = try GeoPackageStore(path: url.path, create: false)
        _ = try other.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(1)) }
        #expect(try store.dataVersions()["parcels"] == 2)
        _ = try other.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            try w.put(Feature(id: "Z1", geometry: StoreFixtures.parcel(2).geometry, properties: ["zone_code": "NNO", "land_use": "ODT"]))
        }
        #expect(try store.dataVersions() == ["parcels": 2, "zoning": 1])
        // The snapshot a lookup reads agrees.
        #expect(try store.reader().snapshot { try $0.dataVersions() } == ["parcels": 2, "zoning": 1])
    }
}

/// A layer's metadata (SPEC §8's `landmap layer set`): kept in `landmap_layers`, seen at once
/// by every store open on the file, and a new data version when it changes.
@Suite struct LayerMetadataTests {
    @Test func privateFieldsAreStoredAndSeenByOtherConnections() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1, owner: "Nguyễn Văn A")) }
        let other = try GeoPackageStore(path: url.path)
        #expect(try other.schema(of: "parcels")?.isPrivate("SoHieu") == false)  // cached by the other store now
        let before = try #require(try store.dataVersions()["parcels"])

        try store.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "tests")
        #expect(try store.dataVersions()["parcels"] == before + 1)
        #expect(try other.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
        #expect(try other.schema(of: "parcels")?.isPrivate("sohieu") == true)
        #expect(try other.layer("parcels")?.schema.isPrivate("SoHieu") == true)
        #expect(try GeoPackageStore(path: url.path).schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
        #expect(try store.auditLog(limit: 10, actor: nil, action: "layer.set").first?.target == "parcels")

        try store.setMetadata(.empty, of: "parcels", actor: "tests")
        #expect(try other.schema(of: "parcels")?.isPrivate("SoHieu") == false)
        #expect(throws: StoreError.unknownLayer("roads")) { try store.setMetadata(.empty, of: "roads", actor: "tests") }
    }

    /// A file made before `metadata_json` existed gains the column when it is opened.
    @Test func olderFilesGainTheMetadataColumn() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1)) }
        try DatabaseQueue(path: url.path).write { db in try db.execute(sql: "ALTER TABLE landmap_layers DROP COLUMN metadata_json") }
        let reopened = try GeoPackageStore(path: url.path)
        try reopened.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "tests")
        #expect(try reopened.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
    }
}
