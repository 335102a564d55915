@testable import GeoPackage
import Features
import Foundation
import Geometry
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

    static func store() throws -> (GeoPackageStore, URL) {
        let dir = try SharedData.temporaryDirectory("store")
        let url = dir.appendingPathComponent("test.gpkg")
        return (try GeoPackageStore(path: url.path), url)
    }

    static func request(_ mode: WriteMode, layer: String = "parcels") -> BatchRequest {
        BatchRequest(layer: layer, mode: mode, source: "test", actor: "tests")
    }

    struct Boom: Error {}
}
