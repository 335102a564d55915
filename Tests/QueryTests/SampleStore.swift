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

