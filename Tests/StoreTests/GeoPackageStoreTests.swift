@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Testing
import Store
import Synchronization
import TestSupport

/// What only the GeoPackage store has: the file itself (its R-tree, `gpkg_contents`, SQLite's
/// checks), foreign files, older files. Everything every backend does is in `StoreConformanceTests`.
@Suite struct GeoPackageStoreTests {
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

    /// An R-tree entry with no row behind it (a file edited outside LandMap) is no match of a
    /// box whose edge it crosses: the row is looked for, and its absence is not taken as inside.
    @Test func anIndexEntryWithoutItsRowMeetsNoBox() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) } }
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO rtree_parcels_geom VALUES (99999, 106.7000, 106.7005, 10.7800, 10.7805)")
        }
        let rectangle = BoundingBox(minX: 106.6999, minY: 10.7799, maxX: 106.7001, maxY: 10.7801)
        let keys = try store.reader().snapshot { snap in
            (try snap.keys(layer: "parcels", intersecting: rectangle), try snap.keys(layer: "parcels", meeting: rectangle))
        }
        #expect(keys.0.contains(99999))
        #expect(!keys.1.contains(99999) && keys.1.count == 1)
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

/// A layer's metadata is kept in `landmap_layers` (see `StoreConformanceTests` for the rest).
@Suite struct LayerMetadataTests {
    /// A file made before `metadata_json` existed gains the column when it is opened.
    @Test func olderFilesGainTheMetadataColumn() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1)) }
        try DatabaseQueue(path: url.path).write { db in try db.execute(sql: "ALTER TABLE landmap_layers DROP COLUMN metadata_json") }
        let reopened = try GeoPackageStore(path: url.path)
        try reopened.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "tests")
        #expect(try reopened.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
    }

    /// A file from before token scopes, audit units, batch proposers and proposals gains the
    /// columns (meaning none) and the table when opened, and keeps what it held.
    @Test func olderFilesGainScopesUnitsProposersAndProposalsOnOpen() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        _ = try store.addToken(key: "k1", name: "old", role: "reader", hash: [UInt8](repeating: 1, count: 32), actor: "tests")
        try DatabaseQueue(path: url.path).write { db in
            try db.execute(sql: "DROP TABLE landmap_changes")
            try db.execute(sql: "ALTER TABLE landmap_tokens DROP COLUMN scope_json")
            try db.execute(sql: "ALTER TABLE landmap_audit DROP COLUMN unit")
            try db.execute(sql: "ALTER TABLE landmap_batches DROP COLUMN proposer")
        }
        #expect(throws: StoreError.self) { try GeoPackageStore(path: url.path, readOnly: true) }
        let reopened = try GeoPackageStore(path: url.path)
        #expect(try reopened.token(key: "k1")?.scope == .unlimited)
        #expect(try reopened.auditLog(AuditQuery(limit: 10)).map(\.unit) == ["", ""])
        #expect(try reopened.batches(ids: [1])[1]?.proposer == nil)
        let change = try reopened.addChange(layer: "parcels", kind: "create", proposer: "token:old", unit: "x", summary: "s", content: "{}")
        #expect(try reopened.change(id: change.id)?.status == .pending)
        #expect(try reopened.verifyAuditChain().isWhole)
        #expect(try GeoPackageStore(path: url.path, readOnly: true).changes(layer: nil, status: nil, limit: 5).count == 1)
    }

    /// The search index's common words: those in more than `CommonWords.threshold` documents,
    /// each with the documents holding it, as a count over the documents themselves says.
    @Test func commonWordsAreCountedFromTheIndex() throws {
        let (store, _) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<150 {
                var f = StoreFixtures.parcel(i, owner: "")
                f.properties["address"] = .string(i < 120 ? "\(i) Lê Lợi" : "\(i) Lê Duẩn")
                try w.put(f)
            }
        }
        let counts = try GeoPackageStore.commonWords(store.pool)
        #expect(counts["le"] == 150)
        #expect(counts["loi"] == 120)
        #expect(counts["duan"] == nil)
        let brute = try store.pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT count(*) FROM landmap_search_doc WHERE ' ' || body || ' ' LIKE '% loi %'")
        }
        #expect(counts["loi"] == brute)

        // Read in the background at a search, once, then again only when the index has changed
        // by a tenth.
        final class Reads: Sendable { let count = Mutex(0) }
        let words = CommonWords(), reads = Reads()
        func refresh(_ documents: Int64) {
            words.refresh(documents: documents) { reads.count.withLock { $0 += 1 }; return ["le": documents] }
        }
        refresh(1_000)
        var seen = false
        for _ in 0..<500 where !seen {
            seen = words.documents(holding: "le") == 1_000
            if !seen { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(seen)
        refresh(1_050)
        #expect(reads.count.withLock { $0 } == 1)
        #expect(words.documents(holding: "le") == 1_000)
        refresh(1_200)
        seen = false
        for _ in 0..<500 where !seen {
            seen = words.documents(holding: "le") == 1_200
            if !seen { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(seen)
        #expect(reads.count.withLock { $0 } == 2)
    }
}
