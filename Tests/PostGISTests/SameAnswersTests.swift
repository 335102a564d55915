import Features
import Foundation
import GeoPackage
import Geometry
@testable import PostGIS
import Store
import Testing
import TestSupport

/// The same batches written to a GeoPackage and to PostGIS give the same answers (timestamps
/// aside, since each store stamps its own batches).
@Suite(.enabled(if: PGTest.available, "set LANDMAP_TEST_PG to run"))
struct SameAnswersTests {
    /// Runs one batch on both stores; both summaries must agree.
    func both(_ stores: [any FeatureStore], _ request: BatchRequest, _ body: (any FeatureBatchWriter) throws -> Void) throws {
        let summaries = try stores.map { try $0.write(request, body) }
        #expect(summaries[0].inserted == summaries[1].inserted && summaries[0].updated == summaries[1].updated)
        #expect(summaries[0].unchanged == summaries[1].unchanged && summaries[0].deleted == summaries[1].deleted)
        #expect(summaries[0].dataVersion == summaries[1].dataVersion)
    }

    @Test func writesGiveTheSameAnswersAsGeoPackage() throws {
        try PGTest.withDatabase { url in
            let dir = try SharedData.temporaryDirectory("pg-same")
            defer { try? FileManager.default.removeItem(at: dir) }
            let gpkg = try GeoPackageStore(path: dir.appendingPathComponent("same.gpkg").path)
            let pg = try PostGISStore(url: url)
            let stores: [any FeatureStore] = [gpkg, pg]

            try both(stores, PGTest.request(.append)) { w in
                for i in 0..<40 { try w.put(PGTest.parcel(i, owner: i % 3 == 0 ? "Trần Thị \(i)" : nil)) }
                // Custom source fields of every JSON kind.
            }
            try both(stores, PGTest.request(.append, layer: "poi")) { w in
                try w.put(Feature(id: "p1", geometry: .point(Coordinate(106.7, 10.78)),
                                  properties: ["name": "Chợ Bến Thành", "stalls": 1500, "rating": .number(4.5), "open": .bool(true), "tags": ["market"], "x": .null]))
                try w.put(Feature(id: "p2", geometry: .lineString([Coordinate(106.7, 10.78), Coordinate(106.71, 10.79)]),
                                  properties: ["name": "Lê Lợi", "stalls": .number(12.0), "open": .bool(false), "level": "1"]))
                try w.put(Feature(id: "12", geometry: nil, properties: ["name": "no geometry", "stalls": 1]))
            }
            let middle = Date()
            Thread.sleep(forTimeInterval: 0.01)
            try both(stores, PGTest.request(.upsert)) { w in
                for i in 0..<10 { try w.put(PGTest.parcel(i, landUse: i % 2 == 0 ? "TMD" : "ODT")) }  // half unchanged
                try w.delete(id: "26734-12-40")
                #expect(try w.delete(id: "missing") == false)
            }
            try both(stores, PGTest.request(.upsert, layer: "poi")) { w in
                try w.put(Feature(id: "p2", geometry: .lineString([Coordinate(106.7, 10.78), Coordinate(106.71, 10.79)]),
                                  properties: ["name": "Lê Lợi", "stalls": 12, "open": .bool(false), "level": "1"]))  // 12.0 → 12: unchanged
            }
            try both(stores, PGTest.request(.replace, layer: "parcels")) { w in
                for i in 0..<30 { try w.put(PGTest.parcel(i, landUse: "TMD")) }
                let near = try w.geometries(intersecting: BoundingBox(minX: 106.7, minY: 10.78, maxX: 106.7003, maxY: 10.7801)) { _ in true }
                #expect(near.count == 2)
            }

            // Layers, minus the instants.
            let layers = try stores.map { store in try store.layers().map { info -> LayerInfo in var i = info; i.lastChange = nil; return i } }
            #expect(layers[0] == layers[1])
            #expect(try gpkg.dataVersions() == pg.dataVersions())
            #expect(try gpkg.sourceFields(of: "poi") == pg.sourceFields(of: "poi"))

            // Boxes, pages, as-of.
            let box = BoundingBox(minX: 106.6, minY: 10.7, maxX: 106.8, maxY: 10.8)
            for layer in ["parcels", "poi"] {
                for (limit, offset) in [(100, 0), (7, 3), (5, 28)] {
                    for asOf in [nil, middle, Date()] {
                        let a = try gpkg.features(layer: layer, intersecting: box, asOf: asOf, limit: limit, offset: offset)
                        let b = try pg.features(layer: layer, intersecting: box, asOf: asOf, limit: limit, offset: offset)
                        #expect(a == b, "\(layer) \(limit)/\(offset) as of \(String(describing: asOf))")
                    }
                }
                var all = [[Feature]](repeating: [], count: 2)
                for (n, store) in stores.enumerated() { try store.forEachFeature(layer: layer, asOf: middle) { all[n].append($0) } }
                #expect(all[0] == all[1] && !all[0].isEmpty)
            }

            // Filters: canonical columns coerced, `id` as text, JSON properties as SQLite compares them.
            let filters: [[String: JSONValue]] = [
                ["land_use": "TMD"], ["sheet": 12, "number": 3], ["sheet": "12"], ["number": .number(3.0)], ["declared_area_m2": "390,5"],
                ["SoHieu": "TĐ-4"], ["owner": "Trần Thị 3"], ["id": "26734-12-7"], [:],
                ["name": "Lê Lợi"], ["stalls": 1500], ["stalls": .number(12.0)], ["stalls": 1], ["stalls": .bool(true)], ["open": .bool(true)], ["open": 0],
                ["rating": .number(4.5)], ["level": 1], ["level": "1"], ["id": 12], ["x": .null], ["tags": "[\"market\"]"],
            ]
            for filter in filters {
                let layer = filter.keys.contains { ["name", "stalls", "open", "rating", "level", "x", "tags"].contains($0) } || filter["id"] == 12 ? "poi" : "parcels"
                for asOf in [nil, middle] {
                    let a = try gpkg.features(layer: layer, matching: filter, asOf: asOf, limit: 50, offset: 0)
                    let b = try pg.features(layer: layer, matching: filter, asOf: asOf, limit: 50, offset: 0)
                    #expect(a == b, "\(filter) as of \(String(describing: asOf))")
                    #expect(try gpkg.count(layer: layer, matching: filter, asOf: asOf) == pg.count(layer: layer, matching: filter, asOf: asOf), "\(filter)")
                }
            }
            #expect(throws: StoreError.self) { try pg.features(layer: "parcels", matching: ["sheet": "twelve"], asOf: nil, limit: 5, offset: 0) }

            // History and revisions, minus the instants.
            for id in ["26734-12-1", "26734-12-2", "26734-12-35", "26734-12-40", "nope"] {
                let a = try gpkg.history(layer: "parcels", id: id), b = try pg.history(layer: "parcels", id: id)
                #expect(a.map(\.feature) == b.map(\.feature) && a.map(\.version) == b.map(\.version), "\(id)")
                #expect(a.map(\.endedByDeletion) == b.map(\.endedByDeletion) && a.map { $0.validTo == nil } == b.map { $0.validTo == nil })
                #expect(try gpkg.revision(layer: "parcels", id: id)?.version == pg.revision(layer: "parcels", id: id)?.version)
                #expect(try gpkg.feature(layer: "parcels", id: id, asOf: middle) == pg.feature(layer: "parcels", id: id, asOf: middle))
                #expect(try gpkg.layers(containing: id) == pg.layers(containing: id))
            }
            #expect(throws: StoreError.unknownLayer("nope")) { try pg.history(layer: "nope", id: "x") }

            // Metadata: a new data version, audited.
            try pg.setMetadata(LayerMetadata(privateFields: ["SoHieu"]), of: "parcels", actor: "cli:steward")
            #expect(try pg.schema(of: "parcels")?.metadata.privateFields == ["SoHieu"])
            #expect(try pg.dataVersions()["parcels"] == (try gpkg.dataVersions()["parcels"] ?? 0) + 1)
            #expect(try pg.auditLog(limit: 1, actor: nil, action: nil).first?.action == "layer.set")
            #expect(throws: StoreError.unknownLayer("nope")) { try pg.setMetadata(.empty, of: "nope", actor: "x") }
        }
    }

    @Test func layerNamesAreCheckedAndForeignTablesLeftAlone() throws {
        try PGTest.withDatabase { url in
            let pg = try PostGISStore(url: url)
            #expect(throws: StoreError.invalidLayerName("Robert'); DROP TABLE x;--")) {
                try pg.createLayer(.custom("Robert'); DROP TABLE x;--"))
            }
            try PostgresAdmin.execute(url, ["CREATE TABLE roads (x int)"])
            #expect(throws: PostGISError.foreignTable(database: url.database, table: "roads")) { try pg.createLayer(.custom("roads")) }
            try pg.createLayer(.zoning)
            try pg.createLayer(.zoning)  // a no-op
            #expect(try pg.layers().map(\.schema.name) == ["zoning"])
            _ = try pg.write(PGTest.request(.append, layer: "zoning")) { w in
                try w.put(Feature(id: "z1", geometry: PGTest.parcel(0).geometry, properties: ["zone_code": "A1", "approved_on": "05/03/2024"]))
            }
            #expect(try pg.feature(layer: "zoning", id: "z1", asOf: nil)?.properties["approved_on"] == "2024-03-05")
            #expect(try pg.count(layer: "zoning", matching: ["approved_on": "2024-03-05"], asOf: nil) == 1)
        }
    }
}
