import Features
import Foundation
import GeoPackage
import Geometry
@testable import PostGIS
import Store
import Testing
import TestSupport

/// Measurements, not checks: run with LANDMAP_PG_BENCH=1 (and LANDMAP_TEST_PG) to print a
/// 10 000-feature batch's time and snapshot lookups per second, PostGIS beside GeoPackage.
@Suite(.enabled(if: PGTest.available && ProcessInfo.processInfo.environment["LANDMAP_PG_BENCH"] != nil, "set LANDMAP_PG_BENCH=1 to measure"))
struct PostGISBenchmarkTests {
    static func parcel(_ i: Int) -> Feature {
        let col = Double(i % 100), row = Double(i / 100)
        let x = 106.70 + col * 0.0002, y = 10.78 + row * 0.0002
        let ring = [Coordinate(x, y), Coordinate(x + 0.00018, y), Coordinate(x + 0.00018, y + 0.00018),
                    Coordinate(x, y + 0.00018), Coordinate(x, y)]
        return Feature(id: "p\(i)", geometry: .polygon([ring]), properties: [
            "ward_code": "26734", "sheet": .integer(Int64(i / 1000)), "number": .integer(Int64(i % 1000)),
            "land_use": "ODT", "declared_area_m2": .number(390.5), "SoHieu": .string("TĐ-\(i)"),
        ])
    }

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test func batchAndLookupTimes() throws {
        try PGTest.withDatabase { url in
            let dir = try SharedData.temporaryDirectory("pg-bench")
            defer { try? FileManager.default.removeItem(at: dir) }
            let stores: [(String, any FeatureStore)] = [
                ("GeoPackage", try GeoPackageStore(path: dir.appendingPathComponent("b.gpkg").path)),
                ("PostGIS", try PostGISStore(url: url)),
            ]
            let n = 10_000
            for (name, store) in stores {
                let append = try seconds { _ = try store.write(PGTest.request(.append)) { w in for i in 0..<n { try w.put(Self.parcel(i)) } } }
                let same = try seconds { _ = try store.write(PGTest.request(.upsert)) { w in for i in 0..<n { try w.put(Self.parcel(i)) } } }
                var changed = 0.0
                changed = try seconds {
                    _ = try store.write(PGTest.request(.upsert)) { w in
                        for i in 0..<n { var f = Self.parcel(i); f.properties["land_use"] = "TMD"; try w.put(f) }
                    }
                }
                let reader = try store.reader()
                let lookups = 3000
                var found = 0
                let lookup = try seconds {
                    for k in 0..<lookups {
                        let i = (k * 7919) % n
                        let x = 106.70 + Double(i % 100) * 0.0002 + 0.00009, y = 10.78 + Double(i / 100) * 0.0002 + 0.00009
                        let box = BoundingBox(minX: x, minY: y, maxX: x, maxY: y)
                        try reader.snapshot { snap in
                            _ = try snap.dataVersions()
                            var best: Int64?
                            try snap.forEachWKB(layer: "parcels", intersecting: box) { key, _ in best = key }
                            if let best, try snap.feature(layer: "parcels", key: best) != nil { found += 1 }
                        }
                    }
                }
                let versions = try seconds { for _ in 0..<10_000 { _ = try store.dataVersions() } }
                print("BENCH \(name): append \(n): \(String(format: "%.2f", append)) s; upsert unchanged: \(String(format: "%.2f", same)) s; "
                    + "upsert changed: \(String(format: "%.2f", changed)) s; lookups (versions + candidates + feature): "
                    + "\(Int(Double(lookups) / lookup))/s (\(found) found); dataVersions(): \(Int(10_000 / versions))/s")
            }
        }
    }
}

@Suite(.enabled(if: PGTest.available && ProcessInfo.processInfo.environment["LANDMAP_PG_BENCH"] != nil, "set LANDMAP_PG_BENCH=1 to measure"))
struct PostGISRoundTripTests {
    @Test func roundTrips() throws {
        try PGTest.withDatabase { url in
            let store = try PostGISStore(url: url)
            try store.pool.with { s in
                let n = 2000
                var start = ContinuousClock.now
                for _ in 0..<n { try s.query("SELECT 1") }
                let plain = ContinuousClock.now - start
                start = ContinuousClock.now
                let prepared = try s.connection.prepare(query: "SELECT 1").wait()
                for _ in 0..<n { _ = try prepared.execute([]).wait() }
                let named = ContinuousClock.now - start
                start = ContinuousClock.now
                var futures = [EventLoopFuture<PostgresQueryResult>]()
                for _ in 0..<n { futures.append(s.connection.query("SELECT 1", logger: s.logger)) }
                for f in futures { _ = try f.wait() }
                let pipelined = ContinuousClock.now - start
                print("BENCH round trip: unnamed \(plain / n), prepared \(named / n), pipelined \(pipelined / n)")
            }
        }
    }
}

import NIOCore
import PostgresNIO
