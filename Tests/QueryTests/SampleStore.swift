import Foundation
import Geometry
import Import
import Projection
import Store
import TestSupport

/// The sample in GeoData/ (wards, D7 zoning, generated parcels) imported once per test run.
enum SampleStore {
    static let shared: Result<GeoPackageStore, any Error> = Result { try make() }

    static func make() throws -> GeoPackageStore {
        let dir = try SharedData.temporaryDirectory("sample")
        let store = try GeoPackageStore(path: dir.appendingPathComponent("sample.gpkg").path)
        let data = SharedData.packageRoot.appendingPathComponent("GeoData")
        var admin = ImportOptions(layer: "admin")
        admin.fix = true
        admin.mappings = ["province_code": "parent_code"]
        _ = try Importer(store: store).run([data.appendingPathComponent("admin/hcmc_wards_2025.geojson").path], admin)
        _ = try Importer(store: store).run([data.appendingPathComponent("zoning/d7_zoning_plots.shp").path], ImportOptions(layer: "zoning"))
        var parcels = ImportOptions(layer: "parcels")
        parcels.fix = true
        _ = try Importer(store: store).run([data.appendingPathComponent("parcels/d7_parcels.geojson").path], parcels)
        return store
    }
}

/// SplitMix64, so the random points are the same on every run.
struct SeededRandom {
    var state: UInt64
    mutating func unit() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
