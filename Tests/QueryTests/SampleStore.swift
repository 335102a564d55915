import GeoPackage
import Foundation
import Import
import Store
import TestSupport

/// The sample in GeoData/ (wards, D7 zoning, generated parcels) imported once per test run.
enum SampleStore {
    static let shared: Result<GeoPackageStore, any Error> = Result {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("sample").appendingPathComponent("sample.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        return store
    }
}
