import Foundation
import Geometry
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport

/// GDAL's OGC API – Features driver, a real client, against a live server on a free port.
/// Runs when gdal-bin is installed (CI installs it).
@Suite(.enabled(if: SharedData.which("ogrinfo") != nil && SharedData.which("ogr2ogr") != nil,
                Comment(rawValue: "skipped: gdal-bin (ogrinfo, ogr2ogr) not installed")))
struct GDALClientTests {
    @Test func gdalReadsCountExtentAndEveryFeatureThroughPaging() async throws {
        let state = try ServerFixture.shared.get()
        let info = try #require(try state.store.layer("parcels"))
        let extent = try #require(info.extent)
        #expect(info.featureCount > 1_000)  // so that copying it needs several pages
        let out = try SharedData.temporaryDirectory("oapif").appendingPathComponent("copy.gpkg").path
        let app = Application(router: LandMapServer.router(state), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let (summary, copy) = try await app.test(.live) { client in
            let port = try #require(client.port)
            let url = "OAPIF:http://127.0.0.1:\(port)"
            let summary = try SharedData.run(try #require(SharedData.which("ogrinfo")), ["-so", url, "parcels"])
            let copy = try SharedData.run(try #require(SharedData.which("ogr2ogr")), ["-f", "GPKG", out, url, "parcels"])
            return (summary, copy)
        }
        #expect(summary.status == 0, "\(summary.output)")
        #expect(summary.output.contains("Feature Count: \(info.featureCount)"), "\(summary.output)")
        let expected = String(format: "Extent: (%.6f, %.6f) - (%.6f, %.6f)", extent.minX, extent.minY, extent.maxX, extent.maxY)
        #expect(summary.output.contains(expected), "expected \(expected) in \(summary.output)")
        #expect(copy.status == 0, "\(copy.output)")
        let counted = try SharedData.run(try #require(SharedData.which("ogrinfo")), ["-so", out, "parcels"])
        #expect(counted.output.contains("Feature Count: \(info.featureCount)"), "\(counted.output)")
        #expect(!counted.output.contains("owner: ") && !counted.output.contains("owner_id: "), "private fields must not reach anonymous clients")
    }
}
