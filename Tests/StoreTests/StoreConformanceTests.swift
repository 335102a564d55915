import Backends
import Features
import Foundation
import Geometry
import Store
import Synchronization
import Testing
import TestSupport

/// The one store conformance suite (SPEC §7): what every backend must do, written once against
/// `any LandMapStore` and run on each `Backend`. What only one backend has (the GeoPackage
/// file's R-tree, GDAL's view of it, WAL checkpoints, migrations of older files) is tested
/// beside that backend instead.
@Suite struct StoreConformanceTests {
    /// A store's data versions for a failure message.
    static func versions(_ store: any LandMapStore) -> String {
        (try? store.dataVersions()).map { "\($0)" } ?? "(no answer)"
    }

    // MARK: Writes and reads

    @Test(arguments: Backend.allCases)
    func writesAndReadsBackFeatures(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let summary = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<30 { try w.put(StoreFixtures.parcel(i, owner: "Nguyễn Văn \(i)")) }
        }
        #expect(summary.inserted == 30 && summary.updated == 0 && summary.unchanged == 0 && summary.deleted == 0)
        #expect(summary.dataVersion == 1)
        let f = try #require(try store.feature(layer: "parcels", id: "26734-12-5", asOf: nil))
        #expect(f.properties["sheet"] == .integer(12))
        #expect(f.properties["number"] == .integer(5))
        #expect(f.properties["owner"] == "Nguyễn Văn 4")
        #expect(f.properties["SoHieu"] == "TĐ-4")  // a source field kept in `properties`
        #expect(f.properties["declared_area_m2"] == .number(390.5))
        // Polygons are stored as multipolygons in the built-in areal layers.
        #expect(f.geometry == StoreFixtures.parcel(4).geometry?.promotedToMulti)
        #expect(try store.feature(layer: "parcels", id: "no-such", asOf: nil) == nil)

        let info = try #require(try store.layer("parcels"))
        #expect(info.featureCount == 30)
        #expect(info.geometryTypes == ["MULTIPOLYGON"])
        #expect(info.dataVersion == 1)
        #expect(info.lastChange != nil)
        let extent = try #require(info.extent)
        #expect(extent.minX == 106.70 && extent.minY == 10.78)
        #expect(abs(extent.maxX - (106.70 + 9 * 0.0002 + 0.00018)) < 1e-12)
        #expect(abs(extent.maxY - (10.78 + 2 * 0.0002 + 0.00018)) < 1e-12)
        #expect(try store.layers().map(\.schema.name) == ["parcels"])
        #expect(try store.layer("roads") == nil && store.schema(of: "roads") == nil)

        // A box: the first row of the grid only; pages of it in a stable order.
        let box = BoundingBox(minX: 106.6999, minY: 10.7799, maxX: 106.8, maxY: 10.78015)
        let hits = try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 100, offset: 0)
        #expect(hits.map(\.id).sorted() == (1...10).map { "26734-12-\($0)" }.sorted())
        let page = try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 4, offset: 8)
        #expect(page.count == 2)
        var paged = [String]()
        for offset in stride(from: 0, to: 10, by: 3) {
            paged += try store.features(layer: "parcels", intersecting: box, asOf: nil, limit: 3, offset: offset).map(\.id)
        }
        #expect(paged == hits.map(\.id))
        #expect(try store.features(layer: "parcels", intersecting: BoundingBox(minX: 0, minY: 0, maxX: 1, maxY: 1), asOf: nil, limit: 10, offset: 0).isEmpty)

        // Every feature once, from one snapshot.
        var streamed = [String]()
        try store.forEachFeature(layer: "parcels", asOf: nil) { streamed.append($0.id) }
        #expect(streamed.sorted() == (1...30).map { "26734-12-\($0)" }.sorted())
    }

    /// The keys meeting a rectangle are GEOS's answer over every feature, edges touching
    /// included; a page's features come by key in the order asked, a missing key left out.
    @Test(arguments: Backend.allCases)
    func keysMeetingARectangleAreTheBruteForceAnswer(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<30 { try w.put(StoreFixtures.parcel(i)) }
            // A triangle whose box reaches over the rectangles' corners while the triangle does not.
            var triangle = StoreFixtures.parcel(30)
            triangle.geometry = .polygon([[Coordinate(106.7041, 10.7801), Coordinate(106.7049, 10.7801), Coordinate(106.7049, 10.7809), Coordinate(106.7041, 10.7801)]])
            try w.put(triangle)
        }
        let rectangles = [
            BoundingBox(minX: 106.7003, minY: 10.7801, maxX: 106.7011, maxY: 10.7803),   // across several squares
            BoundingBox(minX: 106.70 + 0.00018, minY: 10.7801, maxX: 106.700195, maxY: 10.78015), // touching square 0's right edge only
            BoundingBox(minX: 106.700185, minY: 10.7801, maxX: 106.700195, maxY: 10.7802), // in the gap between two squares
            BoundingBox(minX: 106.70005, minY: 10.78005, maxX: 106.70010, maxY: 10.78010), // inside one square, no corner of it inside
            BoundingBox(minX: 106.7042, minY: 10.7807, maxX: 106.7043, maxY: 10.7808),    // in the triangle's box, beside the triangle
            BoundingBox(minX: 106.69, minY: 10.77, maxX: 106.71, maxY: 10.79),            // everything
        ]
        let geos = try GeosContext()
        try store.reader().snapshot { snap in
            let everywhere = BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90)
            let all = try snap.keys(layer: "parcels", intersecting: everywhere).sorted()
            #expect(all.count == 31)
            let features = try snap.features(layer: "parcels", keys: all)
            #expect(features.map(\.id) == (try all.map { try #require(try snap.feature(layer: "parcels", key: $0)).id }))
            for rectangle in rectangles {
                let area = try geos.geometry(rectangle.polygon)
                var expected = [Int64]()
                for (key, f) in zip(all, features) where try area.intersects(geos.geometry(try #require(f.geometry))) { expected.append(key) }
                #expect(try snap.keys(layer: "parcels", meeting: rectangle) == expected, "\(backend) \(rectangle)")
            }
            #expect(try snap.keys(layer: "parcels", meeting: rectangles[1]).count == 1)
            #expect(try snap.keys(layer: "parcels", meeting: rectangles[2]).isEmpty)
            #expect(try snap.keys(layer: "parcels", meeting: rectangles[3]).count == 1)
            #expect(try snap.keys(layer: "parcels", meeting: rectangles[4]).isEmpty)
            // The WKB of chosen keys: each feature's own, a key no feature has left out.
            var wkbs = [Int64: BoundingBox]()
            try snap.forEachWKB(layer: "parcels", keys: [all[3], all[30], (all.last ?? 0) + 1000]) { key, wkb in wkbs[key] = try WKB.boundingBox(wkb) }
            #expect(wkbs == [all[3]: try #require(features[3].geometry?.boundingBox), all[30]: try #require(features[30].geometry?.boundingBox)])
            // Asked in another order, with a key no feature has: that order, the stranger left out.
            let asked = [all[7], all[2], (all.last ?? 0) + 1000, all[5]]
            #expect(try snap.features(layer: "parcels", keys: asked).map(\.id) == [features[7].id, features[2].id, features[5].id])
        }
    }

    /// A box's keys stopped part way (the request's time limit passed) leave the reader whole:
    /// its next snapshot reads the present, not the state the stopped one began in.
    @Test(arguments: Backend.allCases)
    func keysStoppedPartWayLeaveTheReaderReadingThePresent(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in for i in 0..<5_000 { try w.put(StoreFixtures.parcel(i)) } }
        let everywhere = BoundingBox(minX: 106, minY: 10, maxX: 107, maxY: 11)
        let reader = try store.reader()
        // GeoPackage steps through the candidates and stops at the time limit; PostGIS asks once.
        let stopped = Result {
            try Deadline.$current.withValue(ContinuousClock.now - .seconds(1)) {
                try reader.snapshot { snap in try snap.keys(layer: "parcels", meeting: everywhere).count }
            }
        }
        if backend == .geoPackage { #expect(throws: DeadlinePassed.self) { try stopped.get() } }
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(5_000)) }
        #expect(try reader.snapshot { snap in try snap.keys(layer: "parcels", meeting: everywhere).count } == 5_001)
    }

    @Test(arguments: Backend.allCases)
    func propertyFiltersAndCounts(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<12 {
                var f = StoreFixtures.parcel(i, landUse: i % 3 == 0 ? "TMD" : "ODT")
                f.properties["so \"hieu\" \\cu"] = .string("H-\(i)")  // a name no JSON path can spell
                try w.put(f)
            }
        }
        func ids(_ filters: [String: JSONValue], limit: Int = 100, offset: Int = 0) throws -> [String] {
            try store.features(layer: "parcels", matching: filters, asOf: nil, limit: limit, offset: offset).map(\.id)
        }
        // Canonical fields (typed columns), the id, and a source field kept in `properties`.
        #expect(try ids(["land_use": "TMD"]).sorted() == ["26734-12-1", "26734-12-10", "26734-12-4", "26734-12-7"])
        #expect(try store.count(layer: "parcels", matching: ["land_use": "TMD"], asOf: nil) == 4)
        #expect(try store.count(layer: "parcels", matching: ["land_use": "ODT"], asOf: nil) == 8)
        #expect(try ids(["number": .integer(5)]) == ["26734-12-5"])
        #expect(try ids(["ward_code": "26734", "sheet": .integer(12), "number": .integer(12)]) == ["26734-12-12"])
        #expect(try ids(["id": "26734-12-3"]) == ["26734-12-3"])
        #expect(try ids(["SoHieu": "TĐ-6"]) == ["26734-12-7"])
        #expect(try ids(["so \"hieu\" \\cu": "H-2"]) == ["26734-12-3"])
        #expect(try ids(["land_use": "TMD", "number": .integer(4)]) == ["26734-12-4"])
        #expect(try ids(["land_use": "SKC"]).isEmpty)
        #expect(try store.count(layer: "parcels", matching: ["land_use": "SKC"], asOf: nil) == 0)
        #expect(try store.count(layer: "parcels", matching: [:], asOf: nil) == 12)
        // Pages of a filter: stable, disjoint, complete.
        let all = try ids(["land_use": "ODT"])
        #expect(all.count == 8 && Set(all).count == 8)
        #expect(try ids(["land_use": "ODT"], limit: 5, offset: 0) + ids(["land_use": "ODT"], limit: 5, offset: 5) == all)
        #expect(throws: StoreError.unknownLayer("roads")) { try store.count(layer: "roads", matching: [:], asOf: nil) }
    }

    /// An id deleted and made again, three times over (a replace import alternating two files
    /// does this): its versions go on numbering, so every state keeps a history row of its own.
    @Test(arguments: Backend.allCases)
    func aRecreatedIdGoesOnNumberingItsVersions(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let id = StoreFixtures.parcel(0).id
        for round in 0..<3 {
            _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0, landUse: round % 2 == 0 ? "ODT" : "TMD")) }
            _ = try store.write(StoreFixtures.request(.upsert)) { w in _ = try w.delete(id: id) }
        }
        // Deleted and made again inside one batch, too.
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        _ = try store.write(StoreFixtures.request(.upsert)) { w in
            let deleted = try w.delete(id: id)
            #expect(deleted)
            try w.put(StoreFixtures.parcel(0, landUse: "SKC"))
        }
        let history = try store.history(layer: "parcels", id: id)
        #expect(history.map(\.version) == [1, 2, 3, 4, 5], "\(history.map(\.version))")
        #expect(history.map(\.endedByDeletion) == [true, true, true, true, false])
        #expect(history.last?.feature.properties["land_use"] == "SKC")
        #expect(try store.revision(layer: "parcels", id: id)?.version == 5)
    }

    @Test(arguments: Backend.allCases)
    func upsertKeepsEveryVersionAndAnswersAsOfADate(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let first = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<5 { try w.put(StoreFixtures.parcel(i)) }
        }
        Thread.sleep(forTimeInterval: 0.01)
        let before = Date()
        Thread.sleep(forTimeInterval: 0.01)
        let second = try store.write(StoreFixtures.request(.upsert)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))  // changed
            try w.put(StoreFixtures.parcel(1))  // unchanged
            try w.put(StoreFixtures.parcel(7))  // new
        }
        #expect(second.updated == 1 && second.unchanged == 1 && second.inserted == 1)
        #expect(second.dataVersion == 2)
        #expect(second.batchID != first.batchID)
        #expect(try store.dataVersions()["parcels"] == 2)

        let versions = try store.history(layer: "parcels", id: "26734-12-1")
        #expect(versions.map(\.version) == [1, 2])
        #expect(versions.map(\.batchID) == [first.batchID, second.batchID])
        #expect(versions[0].feature.properties["land_use"] == "ODT")
        #expect(versions[1].feature.properties["land_use"] == "TMD")
        #expect(versions[0].validTo == versions[1].validFrom)
        #expect(versions[1].validTo == nil)
        #expect(versions[0].validFrom < before && versions[1].validFrom > before)
        #expect(!versions[0].endedByDeletion && !versions[1].endedByDeletion)
        #expect(try store.history(layer: "parcels", id: "26734-12-2").map(\.version) == [1])  // unchanged: no new version
        #expect(try store.history(layer: "parcels", id: "no-such").isEmpty)

        #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: before)?.properties["land_use"] == "ODT")
        #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: nil)?.properties["land_use"] == "TMD")
        #expect(try store.feature(layer: "parcels", id: "26734-12-8", asOf: before) == nil)  // did not exist yet
        #expect(try store.feature(layer: "parcels", id: "26734-12-8", asOf: Date())?.properties["land_use"] == "ODT")
        let all = BoundingBox(minX: 100, minY: 0, maxX: 110, maxY: 20)
        let then = try store.features(layer: "parcels", intersecting: all, asOf: before, limit: 100, offset: 0)
        #expect(then.count == 5)
        #expect(then.first { $0.id == "26734-12-1" }?.properties["land_use"] == "ODT")
        #expect(try store.features(layer: "parcels", intersecting: all, asOf: nil, limit: 100, offset: 0).count == 6)
        // Filters and counts as of the date.
        #expect(try store.count(layer: "parcels", matching: ["land_use": "TMD"], asOf: before) == 0)
        #expect(try store.count(layer: "parcels", matching: ["land_use": "TMD"], asOf: nil) == 1)
        #expect(try store.features(layer: "parcels", matching: ["land_use": "ODT"], asOf: before, limit: 10, offset: 0).count == 5)
        var streamed = [String: JSONValue?]()
        try store.forEachFeature(layer: "parcels", asOf: before) { streamed[$0.id] = $0.properties["land_use"] }
        #expect(streamed.count == 5 && streamed["26734-12-1"] == "ODT")
        // Before anything was written: nothing.
        let dawn = Date(timeIntervalSince1970: 0)
        #expect(try store.features(layer: "parcels", intersecting: all, asOf: dawn, limit: 100, offset: 0).isEmpty)
        #expect(try store.feature(layer: "parcels", id: "26734-12-1", asOf: dawn) == nil)
    }

    @Test(arguments: Backend.allCases)
    func replaceDeletesWhatTheBatchDoesNotNameAndKeepsIt(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<5 { try w.put(StoreFixtures.parcel(i)) }
        }
        let s = try store.write(StoreFixtures.request(.replace)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        #expect(s.deleted == 2 && s.unchanged == 3 && s.inserted == 0 && s.updated == 0)
        #expect(s.dataVersion == 2)
        #expect(try store.layer("parcels")?.featureCount == 3)
        let gone = try store.history(layer: "parcels", id: "26734-12-5")
        #expect(gone.count == 1 && gone[0].endedByDeletion && gone[0].validTo != nil)
        #expect(try store.feature(layer: "parcels", id: "26734-12-5", asOf: nil) == nil)
        #expect(try store.layers(containing: "26734-12-5") == ["parcels"])
        // A batch that changes nothing keeps the data version.
        let same = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(same.unchanged == 1 && same.dataVersion == 2)
        #expect(try store.dataVersions()["parcels"] == 2)
        // Deleting inside a batch: true for a present feature, false for an absent one.
        var answers = [Bool]()
        let deleted = try store.write(StoreFixtures.request(.upsert)) { w in
            answers = [try w.delete(id: "26734-12-1"), try w.delete(id: "26734-12-5")]
        }
        #expect(answers == [true, false])
        #expect(deleted.deleted == 1 && deleted.dataVersion == 3)
        #expect(try store.history(layer: "parcels", id: "26734-12-1").last?.endedByDeletion == true)
    }

    @Test(arguments: Backend.allCases)
    func layersContainingAnId(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        _ = try store.write(StoreFixtures.request(.append, layer: "notes")) { w in
            try w.put(Feature(id: "26734-12-1", geometry: .point(Coordinate(106.7, 10.78))))
            try w.put(Feature(id: "n2", geometry: .point(Coordinate(106.7, 10.78))))
        }
        _ = try store.write(StoreFixtures.request(.upsert, layer: "notes")) { w in try w.delete(id: "n2") }
        #expect(try store.layers(containing: "26734-12-1") == ["notes", "parcels"])
        #expect(try store.layers(containing: "n2") == ["notes"])  // deleted: in the history
        #expect(try store.layers(containing: "nowhere").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func revisionsNameThePresentVersion(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let id = "26734-12-1"
        #expect(throws: StoreError.unknownLayer("parcels")) { try store.revision(layer: "parcels", id: id) }  // nothing written yet
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(try store.revision(layer: "parcels", id: "26734-12-99") == nil)
        let v1 = try #require(try store.revision(layer: "parcels", id: id))
        #expect(v1.version == 1 && v1.tag.hasPrefix("v1."))
        let history = try store.history(layer: "parcels", id: id)
        let started = try #require(Timestamp.date(v1.validFrom))
        #expect(abs(started.timeIntervalSince(history[0].validFrom)) < 0.002)
        // Unchanged: the same revision. Changed: the next one, and the batch saw the old one.
        _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(try store.revision(layer: "parcels", id: id) == v1)
        Thread.sleep(forTimeInterval: 0.01)
        var seen = [FeatureRevision?]()
        _ = try store.write(StoreFixtures.request(.upsert)) { w in
            seen.append(try w.revision(id: id))
            seen.append(try w.revision(id: "26734-12-99"))
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))
            seen.append(try w.revision(id: id))  // as this batch has left it
        }
        #expect(seen.count == 3 && seen.first == v1 && seen.dropFirst().first == .some(nil) && seen.last??.version == 2)
        let v2 = try #require(try store.revision(layer: "parcels", id: id))
        #expect(v2.version == 2 && v2.tag.hasPrefix("v2.") && v2.tag != v1.tag)
        // Deleted: none. Created again: the numbering goes on (version 3), with a tag of its own.
        _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.delete(id: id) }
        #expect(try store.revision(layer: "parcels", id: id) == nil)
        Thread.sleep(forTimeInterval: 0.01)
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        let again = try #require(try store.revision(layer: "parcels", id: id))
        #expect(again.version == 3 && again.tag != v1.tag && again.tag != v2.tag && again.validFrom > v2.validFrom)
        #expect(throws: StoreError.unknownLayer("roads")) { try store.revision(layer: "roads", id: id) }
    }

    @Test(arguments: Backend.allCases)
    func duplicateIDsFailTheWholeBatch(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
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
        #expect(throws: StoreError.duplicateID(layer: "parcels", id: "26734-12-4")) {
            try store.write(StoreFixtures.request(.upsert)) { w in
                try w.put(StoreFixtures.parcel(3))
                try w.put(StoreFixtures.parcel(3, landUse: "TMD"))
            }
        }
        #expect(try store.layer("parcels")?.featureCount == 1)
        #expect(try store.dataVersions()["parcels"] == 1)
    }

    /// The foundation issue's all-or-nothing check, through the protocol: fail in the middle of
    /// a batch, for any reason, and compare what every read says before and after.
    @Test(arguments: Backend.allCases)
    func aBatchThatFailsHalfWayChangesNothing(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<20 { try w.put(StoreFixtures.parcel(i)) }
        }
        func snapshot(_ store: any LandMapStore) throws -> [String] {
            let info = try #require(try store.layer("parcels"))
            var rows = [String]()
            try store.forEachFeature(layer: "parcels", asOf: nil) { f in
                rows.append("\(f.id):\(f.properties["land_use"]?.stringValue ?? "-")")
            }
            let histories = try (0..<160).map { try store.history(layer: "parcels", id: "26734-12-\($0 + 1)").count }
            return ["\(info.featureCount)", "\(info.dataVersion)", "\(String(describing: info.extent))", "\(String(describing: info.lastChange))",
                    "\(info.geometryTypes)", "\(info.sourceFields)", "\(try store.dataVersions())", rows.sorted().joined(separator: ","),
                    "\(histories)", "\(try store.count(layer: "parcels", matching: ["land_use": "SKC"], asOf: nil))",
                    "\(try store.layers().map(\.schema.name))"]
        }
        let before = try snapshot(store)
        #expect(throws: StoreFixtures.Boom.self) {
            try store.write(StoreFixtures.request(.upsert)) { w in
                for i in 0..<10 { try w.put(StoreFixtures.parcel(i, landUse: "SKC")) }  // updates
                for i in 100..<150 { try w.put(StoreFixtures.parcel(i)) }  // inserts
                _ = try w.delete(id: "26734-12-20")
                throw StoreFixtures.Boom()
            }
        }
        #expect(try snapshot(store) == before)
        // The store's own errors half-way through roll back as well.
        #expect(throws: StoreError.duplicateID(layer: "parcels", id: "26734-12-101")) {
            try store.write(StoreFixtures.request(.append)) { w in
                for i in 100..<150 { try w.put(StoreFixtures.parcel(i)) }
                try w.put(StoreFixtures.parcel(100))
            }
        }
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "other", key: "ward_code 26734, sheet 12, number 1", holder: "26734-12-1")) {
            try store.write(StoreFixtures.request(.upsert)) { w in
                for i in 0..<10 { try w.put(StoreFixtures.parcel(i, landUse: "SKC")) }
                var f = StoreFixtures.parcel(0)
                f.id = "other"
                try w.put(f)
            }
        }
        #expect(throws: StoreError.self) {
            try store.write(StoreFixtures.request(.replace)) { w in
                for i in 0..<5 { try w.put(StoreFixtures.parcel(i, landUse: "SKC")) }
                try w.put(Feature(id: "p", geometry: .point(Coordinate(106.7, 10.7))))  // not a polygon
            }
        }
        #expect(throws: StoreError.self) {
            try store.write(StoreFixtures.request(.upsert)) { w in
                try w.put(StoreFixtures.parcel(120))
                var f = StoreFixtures.parcel(121)
                f.properties["sheet"] = "12a"
                try w.put(f)
            }
        }
        #expect(try snapshot(store) == before)
        // And from another store instance, as another process would see it.
        let reopened = try t.another()
        #expect(try snapshot(reopened) == before)
        #expect(try reopened.layer("parcels")?.featureCount == 20)
        #expect(try reopened.layer("parcels")?.dataVersion == 1)
        #expect(reopened.integrityCheck(limit: 10).isOK)
        // A new layer whose first batch fails is not left behind.
        #expect(throws: StoreFixtures.Boom.self) {
            try store.write(StoreFixtures.request(.append, layer: "bridges")) { w in
                try w.put(Feature(id: "b1", geometry: .point(Coordinate(106.72, 10.72))))
                throw StoreFixtures.Boom()
            }
        }
        #expect(try store.layer("bridges")?.featureCount ?? 0 == 0)
        #expect(try store.layers(containing: "b1").isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func customLayersTakeAnyGeometryAndBuiltInsOnlyPolygons(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        _ = try store.write(StoreFixtures.request(.append, layer: "bridges")) { w in
            try w.put(Feature(id: "b1", geometry: .lineString([Coordinate(106.7, 10.7), Coordinate(106.71, 10.71)]), properties: ["TenDuong": "Cầu Sài Gòn"]))
            try w.put(Feature(id: "b2", geometry: .point(Coordinate(106.72, 10.72))))
        }
        #expect(try store.layer("bridges")?.geometryTypes == ["LINESTRING", "POINT"])
        #expect(try store.feature(layer: "bridges", id: "b2", asOf: nil)?.geometry == .point(Coordinate(106.72, 10.72)))
        #expect(throws: StoreError.self) {
            try store.write(StoreFixtures.request(.append)) { w in
                try w.put(Feature(id: "p", geometry: .point(Coordinate(106.7, 10.7))))
            }
        }
        #expect(throws: StoreError.invalidLayerName("Bad Name")) {
            try store.write(StoreFixtures.request(.append, layer: "Bad Name")) { _ in }
        }
        // The schema of a custom layer survives reopening.
        let reopened = try t.another()
        #expect(try reopened.feature(layer: "bridges", id: "b1", asOf: nil)?.properties["TenDuong"] == "Cầu Sài Gòn")
        #expect(throws: StoreError.unknownLayer("roads")) { try reopened.feature(layer: "roads", id: "x", asOf: nil) }
        #expect(try reopened.schema(of: "bridges")?.name == "bridges")
    }

    @Test(arguments: Backend.allCases)
    func badCanonicalValuesAreRefusedNamingTheField(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
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

    // MARK: Data versions and several store instances

    /// A write by this store or by another instance on the same database shows in the data
    /// versions: at once for this one, within `coherence` for the other.
    @Test(arguments: Backend.allCases)
    func aWriteFromAnyInstanceIsSeen(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        #expect(try store.dataVersions()["parcels"] == nil)
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        #expect(try store.dataVersions()["parcels"] == 1)
        #expect(try store.dataVersions()["parcels"] == 1)  // from memory, if the backend keeps it
        // Another store on the same database stands for another process (its own connections).
        let other = try t.another()
        _ = try other.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(1)) }
        #expect(try t.eventually { try store.dataVersions()["parcels"] == 2 }, "\(Self.versions(store))")
        _ = try other.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            try w.put(Feature(id: "Z1", geometry: StoreFixtures.parcel(2).geometry, properties: ["zone_code": "NNO", "land_use": "ODT"]))
        }
        #expect(try t.eventually { try store.dataVersions() == ["parcels": 2, "zoning": 1] }, "\(Self.versions(store))")
        // The snapshot a lookup reads agrees.
        #expect(try store.reader().snapshot { try $0.dataVersions() } == ["parcels": 2, "zoning": 1])
        #expect(try other.dataVersions() == ["parcels": 2, "zoning": 1])
    }

    /// Two store instances on one database (two GeoPackageStores on one file, two PostGISStores
    /// on one database): a batch committed through one shows in the other's data versions,
    /// features and revisions without a restart, both ways: at once on GeoPackage, within the
    /// fixture's `coherence` on PostgreSQL (SPEC §7's second is `Tools/cluster-lag`'s to measure).
    @Test(arguments: Backend.allCases)
    func twoInstancesSeeEachOthersCommits(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let a = t.store, b = try t.another()
        _ = try a.write(StoreFixtures.request(.append)) { w in for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) } }
        // b read everything once, so whatever it keeps in memory is warm.
        #expect(try t.eventually { try b.dataVersions()["parcels"] == 1 })
        #expect(try t.eventually { try b.revision(layer: "parcels", id: "26734-12-1") != nil })
        let before = try #require(try b.revision(layer: "parcels", id: "26734-12-1"))
        _ = try b.reader().snapshot { try $0.dataVersions() }

        let summary = try a.write(StoreFixtures.request(.upsert)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))
            try w.put(StoreFixtures.parcel(5))
        }
        #expect(summary.dataVersion == 2)
        #expect(try t.eventually { try b.dataVersions()["parcels"] == 2 }, "b's data versions: \(Self.versions(b))")
        #expect(try t.eventually { try b.feature(layer: "parcels", id: "26734-12-1", asOf: nil)?.properties["land_use"] == "TMD" })
        #expect(try t.eventually { try b.feature(layer: "parcels", id: "26734-12-6", asOf: nil) != nil })
        #expect(try t.eventually { try b.revision(layer: "parcels", id: "26734-12-1") == a.revision(layer: "parcels", id: "26734-12-1") })
        #expect(try b.revision(layer: "parcels", id: "26734-12-1") != before)
        #expect(try t.eventually { try b.reader().snapshot { try $0.dataVersions() }["parcels"] == 2 })

        // And the other way round, a layer a has never seen.
        _ = try b.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            try w.put(Feature(id: "Z1", geometry: StoreFixtures.parcel(2).geometry, properties: ["zone_code": "NNO", "land_use": "ODT"]))
        }
        #expect(try t.eventually { try a.dataVersions() == ["parcels": 2, "zoning": 1] }, "a's data versions: \(Self.versions(a))")
        #expect(try t.eventually { try a.feature(layer: "zoning", id: "Z1", asOf: nil)?.properties["zone_code"] == "NNO" })
        #expect(try t.eventually { try a.revision(layer: "zoning", id: "Z1")?.version == 1 })
    }

    /// Two writers (two threads, two store instances) upsert the same ids into one layer: every
    /// batch lands, whole, one after the other; each feature has versions 1…n without gaps and
    /// every batch's value in its history; nothing is lost.
    @Test(arguments: Backend.allCases)
    func twoConcurrentWritersLoseNothing(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let stores = [t.store, try t.another()]
        let ids = 0..<20, rounds = 4
        _ = try stores[0].write(StoreFixtures.request(.append)) { w in for i in ids { try w.put(StoreFixtures.parcel(i)) } }
        let results = Mutex<[Result<BatchSummary, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            for round in 0..<rounds {
                let result = Result {
                    try stores[writer].write(BatchRequest(layer: "parcels", mode: .upsert, source: "writer-\(writer)", actor: "tests")) { w in
                        for i in ids {
                            var f = StoreFixtures.parcel(i)
                            f.properties["declared_area_m2"] = .number(Double(1000 * (writer + 1) + round))
                            try w.put(f)
                        }
                    }
                }
                results.withLock { $0.append(result) }
            }
        }
        let summaries = results.withLock { $0 }
        #expect(summaries.count == 2 * rounds)
        for result in summaries {
            switch result {
            case .success(let s): #expect(s.updated == ids.count && s.inserted == 0, "\(s)")
            case .failure(let error): Issue.record("a concurrent batch failed: \(error)")
            }
        }
        let batches = 1 + 2 * rounds
        #expect(try t.eventually { try t.store.dataVersions()["parcels"] == Int64(batches) }, "\(Self.versions(t.store))")
        #expect(Set(summaries.compactMap { try? $0.get().dataVersion }) == Set((2...Int64(batches)).map { $0 }))
        #expect(try t.store.layer("parcels")?.featureCount == ids.count)
        var expectedValues: Set<Double> = [390.5]
        for writer in 0..<2 {
            for round in 0..<rounds { expectedValues.insert(Double(1000 * (writer + 1) + round)) }
        }
        for i in ids {
            let history = try t.store.history(layer: "parcels", id: "26734-12-\(i + 1)")
            #expect(history.map(\.version) == Array(1...batches), "\(i): \(history.map(\.version))")
            #expect(Set(history.compactMap { $0.feature.properties["declared_area_m2"]?.doubleValue }) == expectedValues, "\(i)")
            #expect(zip(history, history.dropFirst()).allSatisfy { $0.validTo == $1.validFrom && $0.validFrom <= $1.validFrom }, "\(i)")
            #expect(history.last?.validTo == nil)
            #expect(try t.store.revision(layer: "parcels", id: "26734-12-\(i + 1)")?.version == batches)
        }
    }

    // MARK: Layer metadata and figures

    /// `schemas(of:)` (what a request naming several layers asks, once) answers as
    /// `dataVersions()` and `schema(of:)` do one by one: unknown and repeated names left out, all
    /// layers for nil, and a metadata change by another instance seen, not a cached schema.
    @Test(arguments: Backend.allCases)
    func schemasOfSeveralLayersAgreeWithOneByOne(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1)) }
        _ = try store.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            try w.put(Feature(id: "Z1", geometry: StoreFixtures.parcel(2).geometry, properties: ["zone_code": "NNO", "land_use": "ODT"]))
        }
        let some = try store.schemas(of: ["zoning", "roads", "parcels", "zoning"])
        #expect(Set(some.schemas.keys) == ["parcels", "zoning"])
        #expect(some.versions == (try store.dataVersions()).filter { ["parcels", "zoning"].contains($0.key) })
        #expect(some.schemas["parcels"]?.name == "parcels" && some.schemas["zoning"]?.name == "zoning")
        let all = try store.schemas(of: nil)
        #expect(all.versions == (try store.dataVersions()))
        #expect(Set(all.schemas.keys) == Set(try store.dataVersions().keys))

        let other = try t.another()
        #expect(try other.schemas(of: ["parcels"]).schemas["parcels"]?.isPrivate("SoHieu") == false)  // now cached there
        try store.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "tests")
        #expect(try t.eventually { try other.schemas(of: ["parcels"]).schemas["parcels"]?.isPrivate("SoHieu") == true })
        #expect(try other.schemas(of: ["parcels"]).versions["parcels"] == store.dataVersions()["parcels"])
    }

    /// A layer's metadata (SPEC §8's `landmap layer set`): stored, seen by every store instance
    /// on the database, and a new data version when it changes.
    @Test(arguments: Backend.allCases)
    func privateFieldsAreStoredAndSeenByOtherInstances(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(1, owner: "Nguyễn Văn A")) }
        let other = try t.another()
        #expect(try other.schema(of: "parcels")?.isPrivate("SoHieu") == false)  // cached by the other store now
        let before = try #require(try store.dataVersions()["parcels"])

        try store.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "tests")
        #expect(try store.dataVersions()["parcels"] == before + 1)
        #expect(try store.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
        #expect(try t.eventually { try other.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"] })
        #expect(try other.schema(of: "parcels")?.isPrivate("sohieu") == true)
        #expect(try other.layer("parcels")?.schema.isPrivate("SoHieu") == true)
        #expect(try t.eventually { try other.dataVersions()["parcels"] == before + 1 })
        #expect(try t.another().schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
        let entry = try #require(try store.auditLog(limit: 10, actor: nil, action: "layer.set").first)
        #expect(entry.target == "parcels" && entry.actor == "tests")

        try store.setMetadata(.empty, of: "parcels", actor: "tests")
        #expect(try t.eventually { try other.schema(of: "parcels")?.isPrivate("SoHieu") == false })
        #expect(try store.dataVersions()["parcels"] == before + 2)
        #expect(throws: StoreError.unknownLayer("roads")) { try store.setMetadata(.empty, of: "roads", actor: "tests") }
    }

    static func point(_ id: String, _ properties: [String: JSONValue]) -> Feature {
        Feature(id: id, geometry: .point(Coordinate(106.7, 10.7)), properties: properties)
    }

    static func square(_ id: String, side: Double, _ properties: [String: JSONValue] = [:]) -> Feature {
        let ring = [Coordinate(0, 0), Coordinate(side, 0), Coordinate(side, side), Coordinate(0, side), Coordinate(0, 0)]
        return Feature(id: id, geometry: .polygon([ring]), properties: properties)
    }

    /// What the store records per layer at write, so that clients learn a layer's fields,
    /// geometry kind and drawable zooms without any feature being read.
    @Test(arguments: Backend.allCases)
    func sourceFieldsAreTrackedWithMergedTypes(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
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
        // Property values come back with their JSON types.
        let c = try store.history(layer: "shops", id: "c").first?.feature.properties
        #expect(c?["open"] == "yes" && c?["hours"] == "7-22")
        let a = try store.history(layer: "shops", id: "a").first?.feature.properties
        #expect(a?["levels"] == .integer(1) && a?["name"] == "A")
        #expect(try store.history(layer: "shops", id: "b").first?.feature.properties["open"] == .bool(true))
    }

    @Test(arguments: Backend.allCases)
    func geometryTypeAndLargestPolygonAreDeclared(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in
            try w.put(Self.square("s", side: 1))
            try w.put(Self.square("t", side: 0.5))
        }
        #expect(try store.layer("shops")?.declaredGeometryType == "POLYGON")
        let area = try #require(try store.layer("shops")?.largestArea)
        // A 1° square on the equator is nearly (1/360)² of the Mercator world.
        #expect(abs(area / (1.0 / 360 / 360) - 1) < 0.001, "\(area)")
        let extent = try #require(try store.layer("shops")?.extent)
        #expect(extent == BoundingBox(minX: 0, minY: 0, maxX: 1, maxY: 1))
        _ = try store.write(StoreFixtures.request(.append, layer: "shops")) { w in try w.put(Self.point("p", [:])) }
        #expect(try store.layer("shops")?.declaredGeometryType == "GEOMETRY")
        #expect(try store.layer("shops")?.geometryTypes == ["POINT", "POLYGON"])
        #expect(try store.layer("shops")?.extent == BoundingBox(minX: 0, minY: 0, maxX: 106.7, maxY: 10.7))
        // No polygon at all: no largest area.
        _ = try store.write(StoreFixtures.request(.append, layer: "points")) { w in try w.put(Self.point("q", [:])) }
        #expect(try store.layer("points")?.largestArea == nil)
        #expect(try store.layer("points")?.declaredGeometryType == "POINT")
    }

    // MARK: Unique keys

    /// Parcel `i` of the fixture grid under another id, with the cadastral key of parcel `keyOf`.
    static func parcel(_ i: Int, id: String, keyOf: Int) -> Feature {
        var f = StoreFixtures.parcel(i)
        f.id = id
        f.properties["number"] = .integer(Int64(keyOf + 1))
        return f
    }

    static func count(_ store: any LandMapStore, number: Int) throws -> Int {
        try store.count(layer: "parcels", matching: ["ward_code": "26734", "sheet": .integer(12), "number": .integer(Int64(number))], asOf: nil)
    }

    /// A ward, sheet and number name one present parcel, whatever the write mode.
    @Test(arguments: Backend.allCases)
    func appendAndUpsertRefuseAKeyAnotherParcelHas(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        // A new id with parcel 26734-12-1's key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "new-1", key: "ward_code 26734, sheet 12, number 1", holder: "26734-12-1")) {
            _ = try store.write(StoreFixtures.request(.append)) { w in try w.put(Self.parcel(5, id: "new-1", keyOf: 0)) }
        }
        // An existing parcel rewritten with another's key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "26734-12-2", key: "ward_code 26734, sheet 12, number 1", holder: "26734-12-1")) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(Self.parcel(1, id: "26734-12-2", keyOf: 0)) }
        }
        // Two new features with one key in the same batch: the second is refused.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "b", key: "ward_code 26734, sheet 12, number 9", holder: "a")) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in
                try w.put(Self.parcel(7, id: "a", keyOf: 8))
                try w.put(Self.parcel(8, id: "b", keyOf: 8))
            }
        }
        #expect(try Self.count(store, number: 1) == 1)
        #expect(try store.layer("parcels")?.featureCount == 3)
        // Rewriting a parcel with its own key, and a feature missing part of its key, are fine.
        let summary = try store.write(StoreFixtures.request(.upsert)) { w in
            try w.put(StoreFixtures.parcel(0, landUse: "TMD"))
            var unkeyed = StoreFixtures.parcel(6)
            unkeyed.properties["number"] = nil
            try w.put(unkeyed)
        }
        #expect(summary.updated == 1 && summary.inserted == 1)
    }

    @Test(arguments: Backend.allCases)
    func aReplaceMayHandAKeyOnToAnotherId(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<3 { try w.put(StoreFixtures.parcel(i)) }
        }
        // A re-survey: parcel 1's key now belongs to a new id; the old row is not in the batch.
        let summary = try store.write(StoreFixtures.request(.replace)) { w in
            try w.put(Self.parcel(0, id: "resurvey-1", keyOf: 0))
            try w.put(StoreFixtures.parcel(1))
            try w.put(StoreFixtures.parcel(2))
        }
        #expect(summary.inserted == 1 && summary.deleted == 1)
        #expect(try store.features(layer: "parcels", matching: ["number": .integer(1)], asOf: nil, limit: 10, offset: 0).map(\.id) == ["resurvey-1"])
        // But two features of one replace batch may not share a key.
        #expect(throws: StoreError.duplicateKey(layer: "parcels", id: "26734-12-3", key: "ward_code 26734, sheet 12, number 2", holder: "26734-12-2")) {
            _ = try store.write(StoreFixtures.request(.replace)) { w in
                try w.put(StoreFixtures.parcel(1))
                try w.put(Self.parcel(2, id: "26734-12-3", keyOf: 1))
            }
        }
        #expect(try store.layer("parcels")?.featureCount == 3)
    }

    /// A database written before keys were checked (here: changed by hand): its duplicates are
    /// reported, not fatal, and a write that keeps one is refused until it is fixed.
    @Test(arguments: Backend.allCases)
    func duplicatesAlreadyInTheDatabaseAreReported(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<4 { try w.put(StoreFixtures.parcel(i)) }
        }
        #expect(try store.duplicateKeys(limit: 10).isEmpty)
        #expect(store.integrityCheck(limit: 10).duplicateKeys.isEmpty)
        try t.execute("UPDATE parcels SET number = 1 WHERE id IN ('26734-12-2', '26734-12-3')")
        let expected = [DuplicateKey(layer: "parcels", key: "ward_code 26734, sheet 12, number 1", ids: ["26734-12-1", "26734-12-2", "26734-12-3"])]
        #expect(try store.duplicateKeys(limit: 10) == expected)
        let check = store.integrityCheck(limit: 10)
        #expect(check.isOK, "\(check.problems)")
        #expect(check.duplicateKeys == expected)
        #expect(throws: StoreError.self) {
            _ = try store.write(StoreFixtures.request(.upsert)) { w in try w.put(Self.parcel(1, id: "26734-12-2", keyOf: 0)) }
        }
    }

    @Test(arguments: Backend.allCases)
    func zonesMayShareACode(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let summary = try store.write(StoreFixtures.request(.append, layer: "zoning")) { w in
            for i in 0..<2 {
                var f = StoreFixtures.parcel(i)
                f.properties = ["zone_code": "A1", "land_use": "ODT"]
                try w.put(f)
            }
        }
        #expect(summary.inserted == 2)
    }

    // MARK: Tokens and audit (AccessStore)

    @Test(arguments: Backend.allCases)
    func tokensAreStoredFoundAndRevoked(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        #expect(try store.tokens().isEmpty && store.token(key: "k1") == nil)
        let hash = (0..<32).map { UInt8($0 * 7 % 256) }
        let started = Date().addingTimeInterval(-1)
        let a = try store.addToken(key: "k1", name: "qgis-office", role: "editor", hash: hash, actor: "cli:test")
        #expect(a.key == "k1" && a.name == "qgis-office" && a.role == "editor" && a.hash == hash)
        #expect(a.revoked == nil && a.lastUsed == nil && a.created > started && a.created < Date().addingTimeInterval(1))
        #expect(a.expires == nil && a.rateLimit == nil && a.lastAddress == nil)
        let b = try store.addToken(key: "k2", name: "viewer", role: "reader", hash: Array(repeating: 0, count: 32), actor: "cli:test")
        #expect(a.id != b.id)
        #expect(try store.tokens().map(\.key) == ["k1", "k2"])
        let found = try #require(try store.token(key: "k1"))
        #expect(found.id == a.id && found.hash == hash && found.role == "editor" && found.name == "qgis-office")
        #expect(abs(found.created.timeIntervalSince(a.created)) < 0.002)
        // Another instance on the database knows it.
        #expect(try t.another().token(key: "k1")?.hash == hash)

        let used = Date()
        try store.markUsed(tokenID: a.id, at: used)
        #expect(try store.token(key: "k1")?.lastUsed.map { abs($0.timeIntervalSince(used)) < 0.002 } == true)
        // The last address is kept, replaced by the next one, and kept by a use without one.
        try store.markUsed(tokenID: a.id, at: used, address: "203.0.113.9")
        #expect(try store.token(key: "k1")?.lastAddress == "203.0.113.9")
        try store.markUsed(tokenID: a.id, at: used, address: "2001:db8::1")
        try store.markUsed(tokenID: a.id, at: used.addingTimeInterval(1))
        #expect(try store.token(key: "k1")?.lastAddress == "2001:db8::1" && t.another().token(key: "k1")?.lastAddress == "2001:db8::1")

        // Expiry and the token's own limit, as made and as read back.
        let expires = Date(timeIntervalSince1970: 1_900_000_000.25)
        let c = try store.addToken(key: "k3", name: "app", role: "reader", scope: .unlimited, terms: TokenTerms(expires: expires, rateLimit: 90),
                                   hash: Array(repeating: 3, count: 32), actor: "cli:test")
        let stored = try #require(try t.another().token(key: "k3"))
        #expect(c.expires == expires && stored.expires.map { abs($0.timeIntervalSince(expires)) < 0.002 } == true)
        #expect(c.rateLimit == 90 && stored.rateLimit == 90 && stored.lastAddress == nil)
        #expect(stored.isExpired(at: expires) && !stored.isExpired(at: expires.addingTimeInterval(-1)))
        #expect(try store.auditLog(limit: 1, actor: nil, action: "token.create").first?.detail == "app (reader; expires \(Timestamp.string(expires)); 90/min)")
        #expect(try store.revokeToken("app", actor: "cli:test")?.key == "k3")

        // Revoked by key, then by name; a second revocation finds nothing active.
        let revoked = try #require(try store.revokeToken("k1", actor: "cli:test"))
        #expect(revoked.key == "k1" && revoked.revoked != nil)
        #expect(try store.token(key: "k1")?.revoked != nil)
        #expect(try store.revokeToken("k1", actor: "cli:test") == nil)
        #expect(try store.revokeToken("qgis-office", actor: "cli:test") == nil)
        #expect(try store.revokeToken("viewer", actor: "cli:admin")?.key == "k2")
        #expect(try store.tokens().allSatisfy { $0.revoked != nil })
        #expect(try store.revokeToken("nobody", actor: "cli:test") == nil)
    }

    @Test(arguments: Backend.allCases)
    func theAuditLogIsNewestFirstAndFiltered(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        _ = try store.addToken(key: "k1", name: "t", role: "reader", hash: Array(repeating: 1, count: 32), actor: "cli:ana")
        try store.audit(actor: "token:t", action: "token.use", target: "k1", detail: "GET /collections")
        try store.audit(actor: "anonymous", action: "auth.refused", target: "/imports", detail: "no token")
        _ = try store.revokeToken("k1", actor: "cli:ana")
        try store.audit(actor: "cli:ana", action: "backup", target: "/tmp/x", detail: "Đã sao lưu")

        let log = try store.auditLog(limit: 100, actor: nil, action: nil)
        #expect(log.map(\.action) == ["backup", "token.revoke", "auth.refused", "token.use", "token.create"])
        #expect(log.first?.detail == "Đã sao lưu" && log.first?.target == "/tmp/x" && log.first?.actor == "cli:ana")
        #expect(log.last?.target == "k1" && log.last?.actor == "cli:ana")
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.id > $1.id && $0.at >= $1.at })
        #expect(log.allSatisfy { abs($0.at.timeIntervalSinceNow) < 60 })
        #expect(try store.auditLog(limit: 2, actor: nil, action: nil).map(\.action) == ["backup", "token.revoke"])
        #expect(try store.auditLog(limit: 100, actor: "cli:ana", action: nil).map(\.action) == ["backup", "token.revoke", "token.create"])
        #expect(try store.auditLog(limit: 100, actor: nil, action: "token.use").map(\.actor) == ["token:t"])
        #expect(try store.auditLog(limit: 100, actor: "cli:ana", action: "token.revoke").count == 1)
        #expect(try store.auditLog(limit: 100, actor: "nobody", action: nil).isEmpty)
        #expect(try store.auditLog(limit: 0, actor: nil, action: nil).isEmpty)
    }

    // MARK: Stewardship: token scopes, audit units and queries, proposals (SPEC §8)

    @Test(arguments: Backend.allCases)
    func tokenScopesAreStoredAndADamagedOneThrows(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        let scope = TokenScope(unit: "so-tnmt", layers: ["parcels", "zoning"], wards: ["26734", "26737"])
        let made = try store.addToken(key: "k1", name: "steward", role: "editor", scope: scope, hash: Array(repeating: 3, count: 32), actor: "cli:test")
        #expect(made.scope == scope)
        #expect(try store.token(key: "k1")?.scope == scope)
        #expect(try t.another().token(key: "k1")?.scope == scope)
        // Only a unit; and the old call, with no limits.
        _ = try store.addToken(key: "k2", name: "ward", role: "contributor", scope: TokenScope(unit: "phuong-tan-phong"), hash: Array(repeating: 4, count: 32), actor: "cli:test")
        _ = try store.addToken(key: "k3", name: "viewer", role: "reader", hash: Array(repeating: 5, count: 32), actor: "cli:test")
        #expect(try store.tokens().map(\.scope) == [scope, TokenScope(unit: "phuong-tan-phong"), .unlimited])
        #expect(try store.token(key: "k2")?.scope.layers == nil)
        #expect(try store.revokeToken("k1", actor: "cli:test")?.scope == scope)

        // Damaged by hand: reading the token throws rather than handing out no limits.
        try t.execute("UPDATE landmap_tokens SET scope_json = 'not json' WHERE key = 'k2'")
        #expect(throws: (any Error).self) { try store.token(key: "k2") }
        try t.execute("UPDATE landmap_tokens SET scope_json = '[\"so-tnmt\"]' WHERE key = 'k2'")
        #expect(throws: (any Error).self) { try store.token(key: "k2") }
        #expect(throws: (any Error).self) { try store.tokens() }
        #expect(try store.token(key: "k3")?.scope == .unlimited)
    }

    @Test(arguments: Backend.allCases)
    func auditEntriesCarryTheirUnitAndAreQueried(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        try store.audit(actor: "cli:ana", action: "backup", target: "/tmp/x", detail: "")
        try store.audit(actor: "token:ward", unit: "phuong-tan-phong", action: "token.use", target: "parcels/26734-12-1", detail: "GET")
        try store.audit(actor: "token:ward", unit: "phuong-tan-phong", action: "token.use", target: "parcels_old/26734-12-1", detail: "GET")
        try store.audit(actor: "token:ward", unit: "phuong-tan-phong", action: "token.use", target: "parcels_old", detail: "GET")
        Thread.sleep(forTimeInterval: 0.01)
        let cut = Date()
        Thread.sleep(forTimeInterval: 0.01)
        _ = try store.write(BatchRequest(layer: "parcels", mode: .append, source: "test", actor: "token:steward", unit: "so-tnmt")) { w in
            try w.put(StoreFixtures.parcel(0))
        }
        let parcelsChange = try store.addChange(layer: "parcels", kind: "replace", proposer: "token:ward", unit: "phuong-tan-phong",
                                                summary: "replace 26734-12-1", content: "{}")
        let roadsChange = try store.addChange(layer: "roads", kind: "import", proposer: "token:ward", unit: "phuong-tan-phong",
                                              summary: "upload roads.zip", content: "{}")

        let all = try store.auditLog(AuditQuery(limit: 100))
        #expect(all.map(\.action) == ["change.propose", "change.propose", "write", "token.use", "token.use", "token.use", "backup"])
        #expect(all.map(\.unit) == ["phuong-tan-phong", "phuong-tan-phong", "so-tnmt", "phuong-tan-phong", "phuong-tan-phong", "phuong-tan-phong", ""])
        #expect(all[0].target == "change:\(roadsChange.id)" && all[0].detail == "upload roads.zip" && all[0].actor == "token:ward")
        #expect(all[2].target == "parcels" && all[2].actor == "token:steward" && !all[2].detail.contains("proposed by"))
        func query(_ q: AuditQuery) throws -> [String] { try store.auditLog(q).map { "\($0.action) \($0.target)" } }
        #expect(try query(AuditQuery(unit: "so-tnmt")) == ["write parcels"])
        #expect(try query(AuditQuery(unit: "")) == ["backup /tmp/x"])
        #expect(try query(AuditQuery(actor: "token:ward", action: "token.use", unit: "phuong-tan-phong")).count == 3)
        #expect(try query(AuditQuery(action: "change.propose")) == ["change.propose change:\(roadsChange.id)", "change.propose change:\(parcelsChange.id)"])
        // A layer: the layer itself, its features, its proposals; not a layer whose name it begins.
        #expect(try query(AuditQuery(layer: "parcels")) == ["change.propose change:\(parcelsChange.id)", "write parcels", "token.use parcels/26734-12-1"])
        #expect(try query(AuditQuery(layer: "parcels_old")) == ["token.use parcels_old", "token.use parcels_old/26734-12-1"])
        #expect(try query(AuditQuery(layer: "roads")) == ["change.propose change:\(roadsChange.id)"])
        #expect(try query(AuditQuery(layer: "zoning")).isEmpty)
        #expect(try query(AuditQuery(since: cut)) == ["change.propose change:\(roadsChange.id)", "change.propose change:\(parcelsChange.id)", "write parcels"])
        #expect(try query(AuditQuery(since: Date().addingTimeInterval(60))).isEmpty)
        #expect(try query(AuditQuery(limit: 1, layer: "parcels", since: cut)) == ["change.propose change:\(parcelsChange.id)"])
        #expect(try query(AuditQuery(limit: 0)).isEmpty)
    }

    @Test(arguments: Backend.allCases)
    func proposalsAreStoredListedAndRejectedOnce(_ backend: Backend) throws {
        let t = try StoreFixtures.make(backend)
        let store = t.store
        let content = #"{"features":[{"id":"26734-12-1"}],"note":"Đã đo lại"}"#
        let a = try store.addChange(layer: "parcels", kind: "replace", proposer: "token:ward", unit: "phuong-tan-phong", summary: "replace 26734-12-1", content: content)
        let b = try store.addChange(layer: "parcels", kind: "delete", proposer: "token:ward", unit: "phuong-tan-phong", summary: "delete 26734-12-2", content: "{}")
        let c = try store.addChange(layer: "zoning", kind: "import", proposer: "token:other", unit: "", summary: "upload z.zip", content: "{}")
        #expect(a.id < b.id && b.id < c.id)
        #expect(a.status == .pending && a.content == content && a.decidedBy == nil && a.batchID == nil)
        #expect(Timestamp.date(a.createdAt).map { abs($0.timeIntervalSinceNow) < 60 } == true)

        let listed = try store.changes(layer: nil, status: nil, limit: 10)
        #expect(listed.map(\.id) == [c.id, b.id, a.id])
        #expect(listed.allSatisfy { $0.content == nil })
        #expect(listed.last?.summary == "replace 26734-12-1" && listed.last?.proposer == "token:ward" && listed.last?.unit == "phuong-tan-phong")
        #expect(try store.changes(layer: "parcels", status: nil, limit: 10).map(\.id) == [b.id, a.id])
        #expect(try store.changes(layer: "parcels", status: .pending, limit: 1).map(\.id) == [b.id])
        #expect(try store.changes(layer: nil, status: .rejected, limit: 10).isEmpty)
        let one = try #require(try store.change(id: a.id))
        #expect(one == a)
        #expect(try store.change(id: c.id + 100) == nil)

        let rejected = try #require(try store.reject(id: a.id, by: "token:steward", unit: "so-tnmt", reason: "sai ranh thửa"))
        #expect(rejected.status == .rejected && rejected.decidedBy == "token:steward" && rejected.reason == "sai ranh thửa")
        #expect(rejected.decidedAt != nil && rejected.batchID == nil && rejected.content == content)
        #expect(try t.another().change(id: a.id)?.status == .rejected)
        #expect(try store.changes(layer: nil, status: .rejected, limit: 10).map(\.id) == [a.id])
        #expect(try store.changes(layer: nil, status: .pending, limit: 10).map(\.id) == [c.id, b.id])
        // Decided once only; no such proposal is nil.
        #expect(throws: StoreError.changeNotPending(id: a.id, status: "rejected")) {
            try store.reject(id: a.id, by: "token:other", unit: "", reason: "again")
        }
        #expect(try store.change(id: a.id)?.decidedBy == "token:steward")
        #expect(try store.reject(id: c.id + 100, by: "token:steward", unit: "", reason: "x") == nil)

        let log = try store.auditLog(AuditQuery(limit: 10))
        #expect(log.map(\.action) == ["change.reject", "change.propose", "change.propose", "change.propose"])
        #expect(log[0].target == "change:\(a.id)" && log[0].unit == "so-tnmt" && log[0].actor == "token:steward" && log[0].detail == "sai ranh thửa")
        #expect(log[3].target == "change:\(a.id)" && log[3].unit == "phuong-tan-phong" && log[3].detail == "replace 26734-12-1")
    }

    @Test(arguments: Backend.allCases)
    func approvingAProposalMarksItInsideTheBatchOnce(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let first = try store.write(StoreFixtures.request(.append)) { w in try w.put(StoreFixtures.parcel(0)) }
        let change = try store.addChange(layer: "parcels", kind: "replace", proposer: "token:ward", unit: "phuong-tan-phong",
                                         summary: "replace 26734-12-1", content: "{}")
        func approval(_ id: Int64) -> BatchRequest {
            BatchRequest(layer: "parcels", mode: .upsert, source: "change \(id)", actor: "token:steward", unit: "so-tnmt", proposer: "token:ward", approves: id)
        }
        let applied = try store.write(approval(change.id)) { w in try w.put(StoreFixtures.parcel(0, landUse: "TMD")) }
        #expect(applied.updated == 1)
        let approved = try #require(try store.change(id: change.id))
        #expect(approved.status == .approved && approved.decidedBy == "token:steward" && approved.batchID == applied.batchID)
        #expect(approved.decidedAt != nil && approved.reason == nil)

        let batches = try store.batches(ids: [applied.batchID, first.batchID, applied.batchID + 100])
        #expect(Set(batches.keys) == [first.batchID, applied.batchID])
        #expect(batches[applied.batchID]?.proposer == "token:ward" && batches[applied.batchID]?.actor == "token:steward")
        #expect(batches[applied.batchID]?.source == "change \(change.id)" && batches[applied.batchID]?.updated == 1)
        #expect(batches[first.batchID]?.proposer == nil && batches[first.batchID]?.inserted == 1)
        #expect(try store.batches(ids: []).isEmpty)

        let log = try store.auditLog(AuditQuery(limit: 2))
        #expect(Set(log.map(\.action)) == ["write", "change.approve"])
        #expect(log.allSatisfy { $0.unit == "so-tnmt" && $0.actor == "token:steward" })
        #expect(log.first { $0.action == "change.approve" }?.target == "change:\(change.id)")
        #expect(log.first { $0.action == "write" }?.detail.contains("proposed by token:ward") == true)

        // Approving it again fails the whole batch: nothing written, nothing audited.
        let version = try store.layer("parcels")?.dataVersion
        let revision = try store.revision(layer: "parcels", id: StoreFixtures.parcel(0).id)
        let entries = try store.auditLog(AuditQuery(limit: 100)).count
        #expect(throws: StoreError.changeNotPending(id: change.id, status: "approved")) {
            try store.write(approval(change.id)) { w in try w.put(StoreFixtures.parcel(0, landUse: "SKC")) }
        }
        #expect(try store.layer("parcels")?.dataVersion == version)
        #expect(try store.revision(layer: "parcels", id: StoreFixtures.parcel(0).id) == revision)
        #expect(try store.feature(layer: "parcels", id: StoreFixtures.parcel(0).id, asOf: nil)?.properties["land_use"] == "TMD")
        #expect(try store.batches(ids: [applied.batchID + 1]).isEmpty)
        #expect(try store.auditLog(AuditQuery(limit: 100)).count == entries)
        #expect(try store.change(id: change.id)?.batchID == applied.batchID)

        // A rejected proposal, or none, cannot be approved either.
        let other = try store.addChange(layer: "parcels", kind: "delete", proposer: "token:ward", unit: "", summary: "delete", content: "{}")
        _ = try store.reject(id: other.id, by: "token:steward", unit: "so-tnmt", reason: "no")
        #expect(throws: StoreError.changeNotPending(id: other.id, status: "rejected")) {
            try store.write(approval(other.id)) { w in _ = try w.delete(id: StoreFixtures.parcel(0).id) }
        }
        #expect(throws: StoreError.changeNotPending(id: other.id + 100, status: "unknown")) {
            try store.write(approval(other.id + 100)) { w in _ = try w.delete(id: StoreFixtures.parcel(0).id) }
        }
        #expect(try store.feature(layer: "parcels", id: StoreFixtures.parcel(0).id, asOf: nil) != nil)
        #expect(try store.layer("parcels")?.dataVersion == version)
    }
}

// MARK: Change feed (SPEC §9)

extension StoreConformanceTests {
    /// Writes the feed's story: inserts, a metadata change, an update with an insert, a batch
    /// that changes nothing, a delete, the deleted id made again.
    static func writeFeedStory(_ store: any LandMapStore) throws -> [String] {
        let ids = (0..<6).map { StoreFixtures.parcel($0).id }
        try store.write(StoreFixtures.request(.append)) { w in for i in 0..<5 { try w.put(StoreFixtures.parcel(i, owner: "Chủ \(i)")) } }  // 1
        var metadata = try #require(try store.schema(of: "parcels")).metadata
        metadata.title = "Thửa đất"
        try store.setMetadata(metadata, of: "parcels", actor: "tests")  // 2
        try store.write(StoreFixtures.request(.upsert)) { w in  // 3
            try w.put(StoreFixtures.parcel(1, landUse: "ONT", owner: "Chủ 1"))
            try w.put(StoreFixtures.parcel(2, owner: "Chủ 2"))
            try w.put(StoreFixtures.parcel(5))
        }
        try store.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(0, owner: "Chủ 0")) }  // unchanged: 3
        try store.write(StoreFixtures.request(.upsert)) { w in try w.delete(id: ids[3]) }  // 4
        try store.write(StoreFixtures.request(.upsert)) { w in try w.put(StoreFixtures.parcel(3, landUse: "TMD")) }  // 5
        return ids
    }

    static func allChanges(_ store: any LandMapStore, since: Int64 = 0, limit: Int) throws -> (changes: [FeatureChange], pages: Int, tos: [Int64]) {
        var out = [FeatureChange](), since = since, after: String?, pages = 0, tos = [Int64]()
        while true {
            let page = try store.changes(layer: "parcels", since: since, after: after, limit: limit)
            pages += 1
            out += page.changes
            tos.append(page.to)
            guard page.more else { break }
            since = page.to
            after = page.resumeAfter
        }
        return (out, pages, tos)
    }

    @Test(arguments: Backend.allCases)
    func changeFeedListsEveryChangeInOrder(_ backend: Backend) throws {
        let store = try StoreFixtures.make(backend).store
        let ids = try Self.writeFeedStory(store)
        #expect(try store.dataVersions()["parcels"] == 5)
        #expect(try store.batchRecords(layer: "parcels").map(\.dataVersion) == [1, 3, 3, 4, 5])

        let whole = try store.changes(layer: "parcels", since: 0, after: nil, limit: 100)
        #expect(whole.current == 5 && whole.oldest == 0 && whole.to == 5 && !whole.more)
        let ops = whole.changes.map { "\($0.dataVersion) \($0.op.rawValue) \($0.id) v\($0.version)" }
        let sorted = ids[0..<5].sorted()
        #expect(ops == sorted.map { "1 insert \($0) v1" } + ["3 update \(ids[1]) v2", "3 insert \(ids[5]) v1",
                                                           "4 delete \(ids[3]) v1", "5 insert \(ids[3]) v2"])
        let update = try #require(whole.changes.first { $0.op == .update })
        #expect(update.feature?.properties["land_use"] == "ONT" && update.feature?.properties["owner"] == "Chủ 1")
        #expect(whole.changes.first { $0.op == .delete }?.feature == nil)
        #expect(whole.changes.last?.feature?.properties["land_use"] == "TMD")

        // From a later version; nothing after the present one; outside the kept range: empty, saying why.
        #expect(try store.changes(layer: "parcels", since: 3, after: nil, limit: 100).changes.map(\.op) == [.delete, .insert])
        #expect(try store.changes(layer: "parcels", since: 1, after: nil, limit: 100).changes.count == 2 + 2)
        let none = try store.changes(layer: "parcels", since: 5, after: nil, limit: 100)
        #expect(none.changes.isEmpty && none.to == 5 && !none.more)
        let future = try store.changes(layer: "parcels", since: 9, after: nil, limit: 100)
        #expect(future.changes.isEmpty && future.current == 5)
        #expect(throws: StoreError.unknownLayer("roads")) { try store.changes(layer: "roads", since: 0, after: nil, limit: 10) }

        // Pages of any size, across and inside batches, end with the same list: nothing skipped or repeated.
        for limit in [1, 2, 3, 4, 7] {
            let paged = try Self.allChanges(store, limit: limit)
            #expect(paged.changes == whole.changes, "limit \(limit)")
            #expect(paged.tos.last == 5)
        }
        // A page ending inside batch 1 brings the reader to version 0 and resumes after its last id.
        let first = try store.changes(layer: "parcels", since: 0, after: nil, limit: 3)
        #expect(first.to == 0 && first.more && first.resumeAfter == sorted[2])
        // A page ending with batch 3 brings it to 3 (the metadata change at 2 is passed too).
        let upTo3 = try store.changes(layer: "parcels", since: 1, after: nil, limit: 2)
        #expect(upTo3.to == 3 && upTo3.more && upTo3.resumeAfter == nil)
    }

    @Test(arguments: Backend.allCases)
    func changeFeedSurvivesCopyAndUpgrade(_ backend: Backend) throws {
        let source = try StoreFixtures.make(backend, "feed-source")
        _ = try Self.writeFeedStory(source.store)
        try source.store.write(StoreFixtures.request(.append, layer: "roads")) { w in
            var f = StoreFixtures.parcel(0)
            f.id = "r1"
            try w.put(f)
        }
        let whole = try source.store.changes(layer: "parcels", since: 0, after: nil, limit: 100)

        // A copy carries each batch's data version: the same feed, on either backend.
        for target in Backend.allCases {
            let copy = try StoreFixtures.make(target, "feed-copy")
            try StoreCopy.copy(from: source.store, to: copy.store, layers: nil)
            #expect(try copy.store.batchRecords(layer: "parcels").map(\.dataVersion) == [1, 3, 3, 4, 5])
            #expect(try copy.store.changes(layer: "parcels", since: 0, after: nil, limit: 100) == whole, "\(backend) → \(target)")
        }

        // A database from before the column: rebuilt from the batches and the audit log where the
        // count adds up to the layer's data version; left unknown (answering only from now) where not.
        switch backend {
        case .geoPackage:
            try source.execute("""
                ALTER TABLE landmap_batches DROP COLUMN data_version; DROP TABLE landmap_search; DROP TABLE landmap_search_doc;
                UPDATE landmap_layers SET data_version = data_version + 1 WHERE name = 'roads'
                """)
        case .postGIS:
            try source.execute("""
                ALTER TABLE landmap_batches DROP COLUMN data_version; DROP INDEX landmap_history_batch, landmap_history_ended;
                ALTER TABLE landmap_audit DROP COLUMN prev_hash, DROP COLUMN hash;
                ALTER TABLE landmap_tokens DROP COLUMN expires_at, DROP COLUMN last_address, DROP COLUMN rate_limit; DROP TABLE landmap_search;
                DELETE FROM landmap_migrations WHERE version >= 3; UPDATE landmap_layers SET data_version = data_version + 1 WHERE name = 'roads'
                """)
        }
        if backend == .geoPackage {
            // A copy read from such a file opened read-only (not upgraded): its versions are unknown.
            let old = try StoreLocation(source.location).open(readOnly: true)
            let copy = try StoreFixtures.make(.geoPackage, "feed-old-copy")
            try StoreCopy.copy(from: old, to: copy.store, layers: nil)
            #expect(try copy.store.batchRecords(layer: "parcels").map(\.dataVersion) == [nil, nil, nil, nil, nil])
            let page = try copy.store.changes(layer: "parcels", since: 0, after: nil, limit: 10)
            #expect(page.oldest == 5 && page.current == 5 && page.changes.isEmpty)
        }
        let upgraded = try source.another()
        #expect(try upgraded.verifyAuditChain().isWhole)
        #expect(try upgraded.batchRecords(layer: "parcels").map(\.dataVersion) == [1, 3, 3, 4, 5])
        #expect(try upgraded.changes(layer: "parcels", since: 0, after: nil, limit: 100).changes == whole.changes)
        #expect(try upgraded.batchRecords(layer: "roads").map(\.dataVersion) == [nil])
        let roads = try upgraded.changes(layer: "roads", since: 0, after: nil, limit: 100)
        #expect(roads.oldest == 2 && roads.current == 2 && roads.changes.isEmpty)
        // New batches record it exactly; the feed answers from the oldest known version on.
        try upgraded.write(StoreFixtures.request(.upsert, layer: "roads")) { w in try w.delete(id: "r1") }
        let after = try upgraded.changes(layer: "roads", since: 2, after: nil, limit: 100)
        #expect(after.oldest == 2 && after.changes.map(\.op) == [.delete] && after.to == 3)
    }
}
