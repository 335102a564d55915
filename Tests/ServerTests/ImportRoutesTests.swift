import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Store
import Testing
import TestSupport

/// `POST /imports`: the CLI's import pipeline over HTTP, all or nothing, with its limits.
@Suite(.serialized) struct ImportRoutesTests {
    /// Upload folders this test process left (another server on the machine may have its own).
    static func uploadsLeft() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? []).filter { $0.hasPrefix("\(ImportRoutes.prefix)\(getpid())-") }
    }

    /// Makes zips with Python's zipfile: (entry name, size of zeros or literal text).
    static func zip(_ url: URL, _ entries: [(String, String)]) throws {
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for name, source in zip(sys.argv[2::2], sys.argv[3::2]):
                    if source.startswith("zeros:"):
                        with z.open(name, "w", force_zip64=True) as f:
                            for _ in range(int(source[6:]) // 1048576): f.write(bytes(1048576))
                    elif source.startswith("file:"):
                        z.write(source[5:], name)
                    else:
                        z.writestr(name, source)
            """
        let result = try SharedData.run("/usr/bin/python3", ["-c", script, url.path] + entries.flatMap { [$0.0, $0.1] })
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func uploadsImportAllOrNothing() async throws {
        let server = try EditableServer.make("http-import")
        let dir = try SharedData.temporaryDirectory("upfiles")
        let zoning = SharedData.packageRoot.appendingPathComponent("GeoData/zoning")
        let shapefile = dir.appendingPathComponent("d7_zoning.zip")
        try Self.zip(shapefile, ["shp", "shx", "dbf", "prj"].map { ("plots/d7_zoning_plots.\($0)", "file:" + zoning.appendingPathComponent("d7_zoning_plots.\($0)").path) })
        let before = try #require(try server.state.store.layer("zoning")).featureCount
        try await server.test { client in
            // A zipped Shapefile as a multipart form: every feature unchanged (upsert of the same data).
            let boundary = "----landmap-test-boundary"
            var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n".utf8)
            form += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d7_zoning.zip\"\r\nContent-Type: application/zip\r\n\r\n".utf8)
            form += try Data(contentsOf: shapefile)
            form += Data("\r\n--\(boundary)--\r\n".utf8)
            try await client.execute(uri: "/imports?layer=zoning&mode=upsert", method: .post,
                                     headers: bearer(server.editor) + [.contentType: "multipart/form-data; boundary=\(boundary)"],
                                     body: ByteBuffer(bytes: form)) { r in
                #expect(r.status == .created, "\(r.text.prefix(400))")
                let report = r.json.value
                #expect(report?["read"]?.doubleValue == Double(before) && report?["written"]?["unchanged"]?.doubleValue == Double(before))
                #expect(report?["files"]?.arrayValue?.first?["path"]?.stringValue == "d7_zoning.zip/plots/d7_zoning_plots.shp")
            }
            // A raw GeoJSON body with one invalid parcel: 422, the report, nothing written.
            let geojson = """
                {"type":"FeatureCollection","features":[
                 {"type":"Feature","properties":{"ward_code":"27484","sheet":777,"number":1,"land_use":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[106.76,10.72],[106.7601,10.72],[106.7601,10.7201],[106.76,10.7201],[106.76,10.72]]]}},
                 {"type":"Feature","properties":{"ward_code":"27484","sheet":777,"number":2,"land_use":"ODT"},"geometry":{"type":"Polygon","coordinates":[[[106.76,10.72],[106.7602,10.7202],[106.7602,10.72],[106.76,10.7202],[106.76,10.72]]]}}]}
                """
            let parcels = try #require(try server.state.store.layer("parcels")).featureCount
            try await client.execute(uri: "/imports?layer=parcels&filename=new.geojson", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: geojson)) { r in
                #expect(r.status == .unprocessableContent && r.headers[.contentType] == "application/problem+json")
                #expect(r.json.value?["report"]?["errors"]?.doubleValue == 1 && r.text.lowercased().contains("self-intersection"), "\(r.text.prefix(1500))")
            }
            #expect(try server.state.store.layer("parcels")?.featureCount == parcels)
            // The same with fix: both written, as CLI --fix would.
            try await client.execute(uri: "/imports?layer=parcels&fix=true", method: .post, headers: bearer(server.editor), body: ByteBuffer(string: geojson)) { r in
                #expect(r.status == .created && r.json.value?["written"]?["inserted"]?.doubleValue == 2, "\(r.text.prefix(300))")
            }
            #expect(try server.state.store.history(layer: "parcels", id: "27484-777-2").first?.feature.properties["land_use"] == "ODT")
            // Parameters are checked before the body is read.
            for (uri, status) in [("/imports", HTTPResponse.Status.badRequest), ("/imports?layer=Bad-Name", .badRequest),
                                  ("/imports?layer=parcels&mode=merge", .badRequest), ("/imports?layer=parcels&crs=EPSG:99999", .badRequest)] {
                try await client.execute(uri: uri, method: .post, headers: bearer(server.editor), body: ByteBuffer(string: geojson)) { r in
                    #expect(r.status == status, "\(uri): \(r.status)")
                }
            }
        }
        #expect(Self.uploadsLeft().isEmpty)
        let writes = try server.state.store.auditLog(limit: 10, actor: "token:test-editor", action: nil).map(\.action)
        #expect(writes.contains("write"))
    }

    @Test func hostileUploadsAreRefused() async throws {
        let server = try EditableServer.make("hostile") { $0.maxBodyBytes = 4 << 20 }
        let dir = try SharedData.temporaryDirectory("hostile-files")
        let slip = dir.appendingPathComponent("slip.zip"), bomb = dir.appendingPathComponent("bomb.zip")
        try Self.zip(slip, [("../../../tmp/evil.geojson", #"{"type":"FeatureCollection","features":[]}"#)])
        try Self.zip(bomb, [("big.geojson", "zeros:\(100 << 20)")])
        let bombSize = try Data(contentsOf: bomb).count
        #expect(bombSize < 1 << 20)  // 100 MiB of zeros packs to about 100 KiB
        let parcels = try #require(try server.state.store.layer("parcels")).featureCount
        try await server.test { client in
            try await client.execute(uri: "/imports?layer=parcels", method: .post, headers: bearer(server.editor) + [.contentType: "application/zip"],
                                     body: ByteBuffer(bytes: try Data(contentsOf: slip))) { r in
                #expect(r.status == .unprocessableContent && r.text.contains("outside"), "\(r.text)")
            }
            try await client.execute(uri: "/imports?layer=parcels", method: .post, headers: bearer(server.editor) + [.contentType: "application/zip"],
                                     body: ByteBuffer(bytes: try Data(contentsOf: bomb))) { r in
                #expect(r.status == .unprocessableContent && r.text.contains("zip bomb"), "\(r.text)")
            }
            // Over the body limit: 413, whatever the content.
            try await client.execute(uri: "/imports?layer=parcels", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 5 << 20))) { r in
                #expect(r.status == .contentTooLarge, "\(r.status)")
            }
            // Garbage: a clear error, not a crash.
            try await client.execute(uri: "/imports?layer=parcels", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) })) { r in
                #expect([.badRequest, .unprocessableContent].contains(r.status) && r.headers[.contentType] == "application/problem+json", "\(r.status) \(r.text)")
            }
        }
        #expect(try server.state.store.layer("parcels")?.featureCount == parcels)
        #expect(Self.uploadsLeft().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.geojson"))
    }

    @Test func uploadFoldersOfDeadServersAreRemovedAtStart() throws {
        // A process that has ended: its pid names no running process (until reused, long after).
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let tmp = FileManager.default.temporaryDirectory
        let dead = tmp.appendingPathComponent("\(ImportRoutes.prefix)\(ended.processIdentifier)-\(UUID().uuidString)")
        let mine = tmp.appendingPathComponent("\(ImportRoutes.prefix)\(getpid())-\(UUID().uuidString)")
        for dir in [dead, mine] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: dir.appendingPathComponent("body").path, contents: Data("x".utf8))
        }
        defer { try? FileManager.default.removeItem(at: mine) }
        ImportRoutes.removeAbandonedUploads()
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(FileManager.default.fileExists(atPath: mine.path))  // a live server's upload in progress stays
    }
}
