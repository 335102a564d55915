@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Testing
import Store
import TestSupport

/// The database file as others see it: a copy of the file alone, GDAL's layer list.
@Suite struct DatabaseFileTests {
    static let ogrinfo = SharedData.which("ogrinfo")

    /// Copies only the `.gpkg` (no `-wal`, no `-shm`), as a person backing up the file would.
    static func copyFileAlone(_ url: URL) throws -> URL {
        let copy = try SharedData.temporaryDirectory("copy").appendingPathComponent("copy.gpkg")
        try FileManager.default.copyItem(at: url, to: copy)
        return copy
    }

    @Test func theFileAloneHoldsEveryCommittedBatch() throws {
        let (store, url) = try StoreFixtures.store()
        try withExtendedLifetime(store) {
            _ = try store.write(StoreFixtures.request(.append)) { w in
                for i in 0..<57 { try w.put(StoreFixtures.parcel(i)) }
            }
            _ = try store.write(StoreFixtures.request(.upsert)) { w in
                try w.put(StoreFixtures.parcel(3, landUse: "TMD"))
                try w.delete(id: "26734-12-10")
            }
            // The store is still open (its WAL not folded in by a close) while the file is copied.
            let copy = try Self.copyFileAlone(url)
            var config = Configuration()
            config.readonly = true
            let queue = try DatabaseQueue(path: copy.path, configuration: config)
            try queue.read { db in
                #expect(try String.fetchOne(db, sql: "PRAGMA quick_check") == "ok")
                #expect(try db.tableExists("parcels"), "the copy has no parcels table: the batch stayed in the WAL")
                guard try db.tableExists("parcels") else { return }
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM parcels") == 56)
                #expect(try String.fetchOne(db, sql: "SELECT land_use FROM parcels WHERE id = '26734-12-4'") == "TMD")
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM landmap_history") == 2)
            }
            try queue.close()
            if let ogrinfo = Self.ogrinfo {
                let (status, output) = try SharedData.run(ogrinfo, ["-so", copy.path, "parcels"])
                #expect(status == 0 && output.contains("Feature Count: 56"), "\(output)")
            }
        }
    }

    @Test func aCopyOfTheFileKnowsARevokedToken() throws {
        let (store, url) = try StoreFixtures.store()
        try withExtendedLifetime(store) {
            _ = try store.addToken(key: "k1", name: "t", role: "editor", hash: Array(repeating: 0, count: 32), actor: "tests")
            _ = try store.revokeToken("k1", actor: "tests")
            let copy = try Self.copyFileAlone(url)
            let revoked = try DatabaseQueue(path: copy.path).read { db in
                try db.tableExists("landmap_tokens") ? try String.fetchOne(db, sql: "SELECT revoked_at FROM landmap_tokens WHERE key = 'k1'") : nil
            }
            #expect(revoked != nil, "the copy has the token active, or not at all")
        }
    }

    @Test(.enabled(if: ogrinfo != nil, Comment(rawValue: "skipped: gdal-bin (ogrinfo) not installed")))
    func gdalListsOnlyTheFeatureLayers() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<5 { try w.put(StoreFixtures.parcel(i)) }
        }
        _ = try store.write(StoreFixtures.request(.append, layer: "bridges")) { w in
            try w.put(Feature(id: "b1", geometry: .lineString([Coordinate(106.7, 10.7), Coordinate(106.71, 10.71)])))
        }
        _ = try store.addToken(key: "k1", name: "t", role: "reader", hash: Array(repeating: 0, count: 32), actor: "tests")
        let ogrinfo = try #require(Self.ogrinfo)
        let (status, output) = try SharedData.run(ogrinfo, ["-q", url.path])
        #expect(status == 0, "\(output)")
        // "1: parcels (Multi Polygon)": the name after the number.
        let layers = output.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        #expect(layers.sorted() == ["bridges", "parcels"], "\(output)")
        // Reopening (as every start does) keeps exactly one declaration: GDAL wants one row.
        _ = try GeoPackageStore(path: url.path)
        let again = try SharedData.run(ogrinfo, ["-q", url.path])
        #expect(again.output == output)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gdal_aspatial'") } == 1)
    }

    @Test(.enabled(if: ogrinfo != nil, Comment(rawValue: "skipped: gdal-bin (ogrinfo) not installed")))
    func anOlderFileGainsTheDeclarationOnOpen() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        // A file written before the declaration existed.
        try store.pool.write { db in try db.execute(sql: "DELETE FROM gpkg_extensions WHERE extension_name = 'gdal_aspatial'") }
        try store.pool.close()
        #expect(try SharedData.run(try #require(Self.ogrinfo), ["-q", url.path]).output.contains("landmap_meta"))
        _ = try GeoPackageStore(path: url.path)
        let (_, output) = try SharedData.run(try #require(Self.ogrinfo), ["-q", url.path])
        #expect(!output.contains("landmap_") && output.contains("parcels"), "\(output)")
    }
}
