import Backends
@testable import GeoPackage
import Features
import Foundation
import Geometry
import GRDB
import Store
import TestSupport

/// Small parcels on a grid in District 1's longitude/latitude, with the canonical fields.
enum StoreFixtures {
    static func parcel(_ i: Int, ward: String = "26734", landUse: String = "ODT", owner: String? = nil) -> Feature {
        let col = Double(i % 10), row = Double(i / 10)
        let x = 106.70 + col * 0.0002, y = 10.78 + row * 0.0002
        let ring = [Coordinate(x, y), Coordinate(x + 0.00018, y), Coordinate(x + 0.00018, y + 0.00018),
                    Coordinate(x, y + 0.00018), Coordinate(x, y)]
        var props: [String: JSONValue] = [
            "ward_code": .string(ward), "sheet": .integer(12), "number": .integer(Int64(i + 1)),
            "land_use": .string(landUse), "declared_area_m2": .number(390.5), "SoHieu": .string("TĐ-\(i)"),
        ]
        if let owner { props["owner"] = .string(owner) }
        return Feature(id: "\(ward)-12-\(i + 1)", geometry: .polygon([ring]), properties: props)
    }

    /// A GeoPackage store in a new file (for the GeoPackage-only tests).
    static func store() throws -> (GeoPackageStore, URL) {
        let dir = try SharedData.temporaryDirectory("store")
        let url = dir.appendingPathComponent("test.gpkg")
        return (try GeoPackageStore(path: url.path), url)
    }

    /// A new, empty store of `backend`, opened as `--db` opens it.
    static func make(_ backend: Backend, _ label: String = "store") throws -> TestStore {
        let location = try backend.freshLocation(label)
        return TestStore(backend: backend, location: location, store: try StoreLocation(location).open(create: true))
    }

    static func request(_ mode: WriteMode, layer: String = "parcels") -> BatchRequest {
        BatchRequest(layer: layer, mode: mode, source: "test", actor: "tests")
    }

    struct Boom: Error {}
}

/// A store of one backend on a database of its own, and what the tests do beside it.
struct TestStore: Sendable {
    let backend: Backend
    /// The `--db` value: a file path or a `postgresql://` URL.
    let location: String
    let store: any LandMapStore

    /// How long another store instance on the same database may take to see a commit: at once
    /// on a GeoPackage (SQLite's `data_version` is read on every call); on PostgreSQL, after its
    /// NOTIFY, which SPEC §7 wants within 1 s (`Tools/cluster-lag` measures that): tests wait up to
    /// 10 s, as the whole suite shares two cores and a test only asserts that it is seen.
    var coherence: Duration { backend == .geoPackage ? .zero : .seconds(10) }

    /// Another store instance on the same database: another process, another server.
    func another() throws -> any LandMapStore {
        try StoreLocation(location).open()
    }

    /// SQL run on the database by hand, as a tool outside LandMap would (the same text on both:
    /// layers are tables with their canonical fields as columns).
    func execute(_ sql: String) throws {
        switch backend {
        case .geoPackage:
            var configuration = Configuration()
            configuration.prepareDatabase { db in SpatialFunctions.register(db) }  // the R-tree triggers call them
            try DatabaseQueue(path: location, configuration: configuration).write { db in try db.execute(sql: sql) }
        case .postGIS: try TestPostgres.psql(location, sql)
        }
    }

    /// True once `condition` holds, polling until `coherence` has passed (once when it is zero).
    func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let end = ContinuousClock.now + coherence
        while true {
            if try condition() { return true }
            if ContinuousClock.now >= end { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
