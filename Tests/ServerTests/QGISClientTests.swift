import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import TestSupport

/// QGIS 3.22 (Debian's, headless) against a live server: its OGC API – Features provider reads
/// the whole parcels layer through the next links, and its vector tile layer opens our tiles.
/// QGIS 3.22 filters a layer on its own side (server-side CQL2 came with 3.28): GDAL's and
/// OWSLib's tests check filters that reach the server.
@Suite(.serialized, .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/qgis/core/__init__.py"),
                             Comment(rawValue: "skipped: python3-qgis not installed (Tools/setup.sh installs it)")))
struct QGISClientTests {
    static let script = """
        import os, sys
        from qgis.core import QgsApplication, QgsVectorLayer, QgsVectorTileLayer
        app = QgsApplication([], False)
        app.initQgis()
        base = sys.argv[1]
        layer = QgsVectorLayer(f"url='{base}' typename='parcels' pagingEnabled='true'", "parcels", "OAPIF")
        ids = [f["id"] for f in layer.getFeatures()] if layer.isValid() else []
        fields = sorted(f.name() for f in layer.fields())
        odt = 0
        if layer.isValid():
            layer.setSubsetString("land_use = 'ODT'")
            odt = sum(1 for _ in layer.getFeatures())
        tiles = QgsVectorTileLayer(f"type=xyz&url={base}/tiles/parcels/%7Bz%7D/%7Bx%7D/%7By%7D.mvt&zmin=12&zmax=22", "tiles")
        print("valid", layer.isValid(), "read", len(ids), "distinct", len(set(ids)), "odt", odt,
              "tiles", tiles.isValid(), "fields", ",".join(fields), flush=True)
        # QGIS 3.22's teardown from Python can crash after the work is done; its answer is out.
        os._exit(0)
        """

    @Test func qgisReadsTheLayerThroughItsPagesAndOpensTheTiles() async throws {
        let state = try ServerFixture.shared.get()
        let info = try #require(try state.store.layer("parcels"))
        let odt = try state.store.count(layer: "parcels", matching: ["land_use": "ODT"], asOf: nil)
        #expect(info.featureCount > 1_000)  // several pages of QGIS's default 1 000
        let app = Application(router: LandMapServer.router(state), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let run = try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    continuation.resume(with: Result {
                        try SharedData.run("/usr/bin/python3", ["-c", Self.script, "http://127.0.0.1:\(port)"],
                                           environment: ["QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": nil])
                    })
                }
            }
        }
        #expect(run.status == 0, "\(run.output)")
        let line = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("valid ") }, "\(run.output)")
        let n = info.featureCount
        #expect(line.hasPrefix("valid True read \(n) distinct \(n) odt \(odt) tiles True fields "), "\(line)")
        #expect(!line.contains("owner"), "private fields must not reach anonymous clients: \(line)")
    }
}
