import Foundation
import Geometry
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport

/// GDAL's OGC API – Features driver, a real client, against a live server on a free port.
/// Runs when gdal-bin is installed (CI installs it).
/// One at a time, and each tool run off Swift's cooperative threads: a blocked thread per live
/// test left the servers none to answer on a 2-core machine.
@Suite(.serialized, .enabled(if: SharedData.which("ogrinfo") != nil && SharedData.which("ogr2ogr") != nil,
                             Comment(rawValue: "skipped: gdal-bin (ogrinfo, ogr2ogr) not installed")))
struct GDALClientTests {
    /// Runs a tool on a thread of its own, so that the live server keeps the cooperative pool.
    static func run(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let path = try #require(SharedData.which(tool))
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try SharedData.run(path, arguments) }) }
        }
    }

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
            let summary = try await Self.run("ogrinfo", ["-so", url, "parcels"])
            let copy = try await Self.run("ogr2ogr", ["-f", "GPKG", out, url, "parcels"])
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

    /// GDAL sends an attribute filter to the server (the collection's items path in `/api`
    /// names the property) instead of downloading the whole layer to filter it itself.
    @Test func gdalSendsAttributeFiltersToTheServer() async throws {
        let state = try ServerFixture.shared.get()
        let expected = try state.store.count(layer: "parcels", matching: ["land_use": "ODT"], asOf: nil)
        let app = Application(router: LandMapServer.router(state), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let run = try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await Self.run("ogrinfo", ["-so", "OAPIF:http://127.0.0.1:\(port)", "parcels", "-where", "land_use='ODT'", "--debug", "on"])
        }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("Feature Count: \(expected)"), "\(run.output)")
        let fetched = run.output.split(separator: "\n").filter { $0.contains("HTTP: Fetch(") && $0.contains("/collections/parcels/items") }
        #expect(fetched.contains { $0.contains("land_use=ODT") }, "the filter must reach the server: \(fetched)")
        #expect(!fetched.contains { $0.contains("/items?limit=") && !$0.contains("land_use=ODT") && $0.contains("offset=") },
                "no unfiltered page past the first (the one GDAL reads to learn the fields)")
    }

    /// OWSLib's OGC API – Features client passes a CQL2 text filter on to the server: the
    /// answer is the server's count of the filter, of features that all match it, however few
    /// were asked for (a client filtering on its side would have had to fetch every parcel).
    @Test func owslibSendsACQL2FilterToTheServer() async throws {
        let state = try ServerFixture.shared.get()
        let expected = try state.store.count(layer: "parcels", matching: ["land_use": "ODT"], asOf: nil)
        let script = """
            import sys
            from owslib.ogcapi.features import Features
            api = Features(sys.argv[1])
            page = api.collection_items("parcels", limit=3, filter="land_use = 'ODT' AND area_m2 > 0")
            uses = sorted({f["properties"]["land_use"] for f in page["features"]})
            print(page["numberMatched"], len(page["features"]), ",".join(uses))
            """
        let app = Application(router: LandMapServer.router(state), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let run = try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await Self.run("python3", ["-c", script, "http://127.0.0.1:\(port)"])
        }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(expected) 3 ODT", "\(run.output)")
    }

    /// GDAL builds its fields from the collection's schema: a custom layer's property that only
    /// later features carry is there, and filters on a custom field go to the server too.
    @Test func gdalSeesEveryFieldOfACustomLayerAndFiltersOnIt() async throws {
        let state = try ShopsFixture.shared.get()
        let app = Application(router: LandMapServer.router(state), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let run = try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await Self.run("ogrinfo", ["-so", "OAPIF:http://127.0.0.1:\(port)", "shops", "-where", "amenity='cafe'", "--debug", "on"])
        }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("opening_hours: String") && run.output.contains("levels: Integer"), "\(run.output)")
        #expect(run.output.contains("Feature Count: 10"), "\(run.output)")
        #expect(run.output.contains("amenity=cafe"), "the filter must reach the server")
    }

    /// The GeoPackage itself declares what GDAL and QGIS open: GEOMETRY for mixed points and
    /// polygons (QGIS then offers both), the one kind otherwise.
    @Test func theGeoPackageDeclaresTheTrueGeometryType() throws {
        let state = try ShopsFixture.shared.get()
        let shops = try SharedData.run(try #require(SharedData.which("ogrinfo")), ["-so", state.store.localFile ?? "", "shops"])
        #expect(shops.output.contains("Geometry: Unknown (any)"), "\(shops.output)")
        let stops = try SharedData.run(try #require(SharedData.which("ogrinfo")), ["-so", state.store.localFile ?? "", "stops"])
        #expect(stops.output.contains("Geometry: Point"), "\(stops.output)")
    }
}
