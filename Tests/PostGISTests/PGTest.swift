import Features
import Foundation
import Geometry
@testable import PostGIS
import Store

/// A fresh database per test on the cluster `LANDMAP_TEST_PG` names (a URL to its `postgres`
/// database); tests are skipped, saying so, when it is not set.
enum PGTest {
    static let server: PostgresURL? = ProcessInfo.processInfo.environment["LANDMAP_TEST_PG"].flatMap { try? PostgresURL($0) }
    static var available: Bool { server != nil }
    /// A streaming replica of `server` (`Tools/postgres run` starts one).
    static let replica: PostgresURL? = ProcessInfo.processInfo.environment["LANDMAP_TEST_PG_REPLICA"].flatMap { try? PostgresURL($0) }

    /// Creates `t_<random>`, runs `body` with its URL, drops it (with any connection left).
    static func withDatabase<T>(_ body: (PostgresURL) throws -> T) throws -> T {
        guard let server else { throw Skip() }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try PostgresAdmin.execute(server, ["CREATE DATABASE \(name)"])
        defer { try? PostgresAdmin.execute(server, ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)"]) }
        return try body(server.with(database: name))
    }

    struct Skip: Error, CustomStringConvertible {
        var description: String { "set LANDMAP_TEST_PG to a PostgreSQL URL (…/postgres) to run the PostGIS tests" }
    }

    /// Small parcels on a grid in District 1 (as StoreTests' fixtures).
    static func parcel(_ i: Int, ward: String = "26734", landUse: String = "ODT", owner: String? = nil, number: Int? = nil) -> Feature {
        let col = Double(i % 10), row = Double(i / 10)
        let x = 106.70 + col * 0.0002, y = 10.78 + row * 0.0002
        let ring = [Coordinate(x, y), Coordinate(x + 0.00018, y), Coordinate(x + 0.00018, y + 0.00018),
                    Coordinate(x, y + 0.00018), Coordinate(x, y)]
        var props: [String: JSONValue] = [
            "ward_code": .string(ward), "sheet": .integer(12), "number": .integer(Int64(number ?? i + 1)),
            "land_use": .string(landUse), "declared_area_m2": .number(390.5), "SoHieu": .string("TĐ-\(i)"),
        ]
        if let owner { props["owner"] = .string(owner) }
        return Feature(id: "\(ward)-12-\(i + 1)", geometry: .polygon([ring]), properties: props)
    }

    static func request(_ mode: WriteMode, layer: String = "parcels", actor: String = "tests") -> BatchRequest {
        BatchRequest(layer: layer, mode: mode, source: "test", actor: actor)
    }

    struct Boom: Error {}
}
