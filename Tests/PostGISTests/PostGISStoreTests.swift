import Features
import Foundation
import Geometry
@testable import PostGIS
import Store
import Synchronization
import Testing
import TestSupport

@Suite(.enabled(if: PGTest.available, "set LANDMAP_TEST_PG to run"))
struct PostGISStoreTests {
    @Test func writesAndReadsBackFeatures() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            let summary = try store.write(PGTest.request(.append)) { w in
                for i in 0..<30 { try w.put(PGTest.parcel(i, owner: "Nguyễn Văn \(i)")) }
            }
            #expect(summary.inserted == 30 && summary.dataVersion == 1)
            let f = try #require(try store.feature(layer: "parcels", id: "26734-12-5", asOf: nil))
            #expect(f.properties["sheet"] == .integer(12) && f.properties["number"] == .integer(5))
            #expect(f.properties["owner"] == "Nguyễn Văn 4" && f.properties["SoHieu"] == "TĐ-4")
            #expect(f.geometry == PGTest.parcel(4).geometry?.promotedToMulti)
            let info = try #require(try store.layer("parcels"))
            #expect(info.featureCount == 30 && info.geometryTypes == ["MULTIPOLYGON"] && info.dataVersion == 1)
            let extent = try #require(info.extent)
            #expect(extent.minX == 106.70 && extent.minY == 10.78)
            #expect(extent.maxX == 106.70 + 9 * 0.0002 + 0.00018)
            let box = BoundingBox(minX: 106.6999, minY: 10.7799, maxX: 106.8, maxY: 10.78015)
            let hits = try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 100, offset: 0)
            #expect(hits.map(\.id).sorted() == (1...10).map { "26734-12-\($0)" }.sorted())
            #expect(try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 4, offset: 8).count == 2)
            // The table is an ordinary PostGIS layer.
            let type = try store.pool.with { s in
                try s.query("SELECT type FROM geometry_columns WHERE f_table_name = 'parcels'").scalar(String.self)
            }
            #expect(type == "MULTIPOLYGON")
        }
    }

    @Test func anErrorMidBatchWritesNothing() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            _ = try store.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(0)) }
            #expect(throws: PGTest.Boom.self) {
                _ = try store.write(PGTest.request(.upsert)) { w in
                    for i in 0..<20 { try w.put(PGTest.parcel(i, landUse: "TMD")) }
                    try w.delete(id: "26734-12-1")
                    throw PGTest.Boom()
                }
            }
            #expect(try store.layer("parcels")?.featureCount == 1)
            #expect(try store.dataVersions()["parcels"] == 1)
            #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: nil)?.properties["land_use"] == "ODT")
            #expect(try store.history(layer: "parcels", id: "26734-12-1").count == 1)
            // A server-side failure (a wrong geometry type for the column) rolls back too.
            #expect(throws: StoreError.self) {
                _ = try store.write(PGTest.request(.append)) { w in
                    try w.put(PGTest.parcel(5))
                    try w.put(Feature(id: "line", geometry: .lineString([Coordinate(106.7, 10.7), Coordinate(106.8, 10.8)])))
                }
            }
            #expect(try store.layer("parcels")?.featureCount == 1)
            let batches = try store.pool.with { s in try s.query("SELECT count(*) FROM landmap_batches").scalar(Int64.self) }
            #expect(batches == 1)
        }
    }

    @Test func duplicateIdsAndKeysAreRefusedBeforeWriting() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            _ = try store.write(PGTest.request(.append)) { w in for i in 0..<3 { try w.put(PGTest.parcel(i)) } }
            #expect(throws: StoreError.duplicateID(layer: "parcels", id: "26734-12-1")) {
                _ = try store.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(0)) }
            }
            // Same key (ward, sheet, number 2) under another id.
            var clash = PGTest.parcel(7, number: 2)
            clash.id = "other"
            #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "other", key: "ward_code 26734, sheet 12, number 2", holder: "26734-12-2")) {
                _ = try store.write(PGTest.request(.upsert)) { w in try w.put(clash) }
            }
            // A caller may skip the refused feature and go on, as with SQLite.
            let s = try store.write(PGTest.request(.upsert)) { w in
                do { try w.put(clash) } catch is StoreError {}
                try w.put(PGTest.parcel(9))
            }
            #expect(s.inserted == 1)
            // Replace: a key held by a row the batch has not named yet does not count.
            let r = try store.write(PGTest.request(.replace)) { w in
                try w.put(clash)
                try w.put(PGTest.parcel(0))
            }
            #expect(r.inserted == 1 && r.unchanged == 1 && r.deleted == 3)
            #expect(try store.duplicateKeys(limit: 10).isEmpty)
        }
    }

    /// `b` learns of `a`'s commits as another process would: through LISTEN/NOTIFY (without it,
    /// `b`'s cache would be trusted until the next notification and never see them). How soon is
    /// `Tools/cluster-lag`'s to measure; under the whole suite the wait is bounded at 10 s.
    @Test func aBatchThroughOneStoreIsSeenByAnother() throws {
        try PGTest.withDatabase { url in
            let a = try PostGISStore(url: url)
            let b = try PostGISStore(url: url, maxConnections: 4, connectTimeout: .seconds(5), sharesInvalidation: false)
            #expect(try b.dataVersions().isEmpty)
            _ = try a.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(0)) }
            var seen: Duration?
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(10) {
                if try b.dataVersions()["parcels"] == 1 { seen = ContinuousClock.now - start; break }
                Thread.sleep(forTimeInterval: 0.005)
            }
            #expect(seen != nil)
            // Answers come from the cache between commits: many calls, no drift.
            for _ in 0..<1000 { #expect(try b.dataVersions()["parcels"] == 1) }
            _ = try a.write(PGTest.request(.upsert)) { w in try w.put(PGTest.parcel(0, landUse: "TMD")) }
            let again = ContinuousClock.now
            while try b.dataVersions()["parcels"] != 2, ContinuousClock.now - again < .seconds(10) { Thread.sleep(forTimeInterval: 0.005) }
            #expect(try b.dataVersions()["parcels"] == 2)
            #expect(try b.schema(of: "parcels")?.name == "parcels")
        }
    }

    @Test func dataVersionsStayFreshWhenTheListenerDies() throws {
        try PGTest.withDatabase { url in
            let a = try PostGISStore(url: url)
            let b = try PostGISStore(url: url, maxConnections: 4, connectTimeout: .seconds(5), sharesInvalidation: false)
            _ = try b.dataVersions()
            // Every other session of this database goes: b's listener and pooled connections too.
            try PostgresAdmin.execute(url, ["SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"])
            Thread.sleep(forTimeInterval: 0.1)
            _ = try a.write(PGTest.request(.append)) { w in try w.put(PGTest.parcel(0)) }
            let start = ContinuousClock.now
            while try b.dataVersions()["parcels"] != 1, ContinuousClock.now - start < .seconds(10) { Thread.sleep(forTimeInterval: 0.01) }
            #expect(try b.dataVersions()["parcels"] == 1)
            // The broken pooled connections were dropped, not handed out.
            #expect(try b.feature(layer: "parcels", id: "26734-12-1", asOf: nil) != nil)
            // The listener came back: a later write is seen too.
            Thread.sleep(forTimeInterval: 1.1)
            _ = try b.dataVersions()
            _ = try a.write(PGTest.request(.upsert)) { w in try w.put(PGTest.parcel(0, landUse: "TMD")) }
            let again = ContinuousClock.now
            while try b.dataVersions()["parcels"] != 2, ContinuousClock.now - again < .seconds(10) { Thread.sleep(forTimeInterval: 0.01) }
            #expect(try b.dataVersions()["parcels"] == 2)
        }
    }

    /// Stores of one process (a test, or two servers in one) agree at once, as GeoPackage's do.
    @Test func storesOfOneProcessSeeEachOthersCommitsAtOnce() throws {
        try PGTest.withDatabase { url in
            let a = try PostGISStore(url: url)
            let b = try PostGISStore(url: url)
            #expect(try b.dataVersions().isEmpty)
            for n in 1...20 {
                _ = try a.write(PGTest.request(.upsert)) { w in try w.put(PGTest.parcel(0, landUse: "L\(n)")) }
                #expect(try b.dataVersions()["parcels"] == Int64(n))
            }
            try a.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "x")
            #expect(try b.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
        }
    }

    @Test func twoConcurrentWritersBothLandWithoutGaps() throws {
        try PGTest.withDatabase { url in
            let a = try PostGISStore(url: url)
            let b = try PostGISStore(url: url)
            _ = try a.write(PGTest.request(.append)) { w in for i in 0..<5 { try w.put(PGTest.parcel(i)) } }
            let rounds = 15
            let failures = Mutex<[String]>([])
            let group = DispatchGroup()
            for (n, store) in [(0, a), (1, b)] {
                DispatchQueue.global().async(group: group) {
                    for r in 0..<rounds {
                        do {
                            _ = try store.write(PGTest.request(.upsert, actor: "writer\(n)")) { w in
                                for i in 0..<5 { try w.put(PGTest.parcel(i, landUse: "W\(n)R\(r)")) }
                            }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
            group.wait()
            #expect(failures.withLock { $0 }.isEmpty)
            for i in 0..<5 {
                let versions = try a.history(layer: "parcels", id: "26734-12-\(i + 1)")
                #expect(versions.map(\.version) == Array(1...(2 * rounds + 1)))
                // Each version began when the one before it ended: none lost, none overlapping.
                for (older, newer) in zip(versions, versions.dropFirst()) {
                    #expect(older.validTo == newer.validFrom)
                    #expect(older.validFrom < newer.validFrom)
                }
            }
            #expect(try a.dataVersions()["parcels"] == Int64(2 * rounds + 1))
        }
    }

    @Test func tokensAndAudit() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            let t = try store.addToken(key: "3f9c1a7e20b4", name: "gis-team", role: "editor", hash: [1, 2, 3, 255], actor: "cli:root")
            #expect(try store.token(key: "3f9c1a7e20b4") == t)
            try store.markUsed(tokenID: t.id, at: Date(timeIntervalSince1970: 1_700_000_000.123))
            #expect(try store.tokens().first?.lastUsed == Date(timeIntervalSince1970: 1_700_000_000.123))
            let revoked = try #require(try store.revokeToken("gis-team", actor: "cli:root"))
            #expect(revoked.revoked != nil)
            #expect(try store.revokeToken("gis-team", actor: "cli:root") == nil)
            try store.audit(actor: "token:x", action: "auth.refused", target: "/x", detail: "")
            let log = try store.auditLog(limit: 10, actor: nil, action: nil)
            #expect(log.map(\.action) == ["auth.refused", "token.revoke", "token.create"])
            #expect(try store.auditLog(limit: 10, actor: "cli:root", action: "token.create").count == 1)
            #expect(throws: PostGISError.self) { try store.backup(to: "/tmp/x.gpkg") }
        }
    }

    @Test func snapshotsAnswerLikeTheStore() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            _ = try store.write(PGTest.request(.append)) { w in for i in 0..<30 { try w.put(PGTest.parcel(i)) } }
            let reader = try store.reader()
            let box = BoundingBox(minX: 106.6999, minY: 10.7799, maxX: 106.8, maxY: 10.78015)
            try reader.snapshot { snap in
                #expect(try snap.dataVersions() == ["parcels": 1])
                let keys = try snap.keys(layer: "parcels", intersecting: box)
                #expect(keys.count == 10)
                var wkbKeys = [Int64]()
                try snap.forEachWKB(layer: "parcels", intersecting: box) { key, bytes in
                    wkbKeys.append(key)
                    let g = try WKB.decode(Array(bytes))
                    #expect(g.typeName == "MULTIPOLYGON")
                }
                #expect(wkbKeys.sorted() == keys.sorted())
                let boxes = try #require(try snap.boxes(layer: "parcels", limit: 100))
                #expect(boxes.count == 30)
                #expect(try snap.boxes(layer: "parcels", limit: 29) == nil)
                let first = try #require(try snap.feature(layer: "parcels", key: keys.min() ?? 0))
                let byID = try store.feature(layer: "parcels", id: first.id, asOf: nil)
                #expect(first == byID)
                let b0 = try #require(boxes.first { $0.key == keys.min() })
                #expect(b0.box == first.geometry?.boundingBox)
            }
            // Many snapshots on one reader: prepared statements reused, nothing left open.
            for _ in 0..<200 {
                _ = try reader.snapshot { snap in try snap.keys(layer: "parcels", intersecting: box) }
            }
            #expect(throws: (any Error).self) { try reader.snapshot { snap in try snap.keys(layer: "nope", intersecting: box) } }
            #expect(try reader.snapshot { snap in try snap.keys(layer: "parcels", intersecting: box).count } == 10)
        }
    }
}

