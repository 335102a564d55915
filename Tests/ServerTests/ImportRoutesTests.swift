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
    /// This process's upload folders still there once the uploads of other suites running at
    /// the same time (they share the process id) have had up to `seconds` to finish: a folder a
    /// test left behind stays, one another suite is using goes away.
    static func uploadsLeft(settling seconds: Double = 30) async -> [String] {
        func now() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)) ?? []).filter { $0.hasPrefix("\(ImportRoutes.prefix)\(getpid())-") }
        }
        let end = Date().addingTimeInterval(seconds)
        var left = now()
        while !left.isEmpty, Date() < end {
            try? await Task.sleep(for: .milliseconds(200))
            left = now()
        }
        return left
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

    /// A CAD sheet uploaded with its layout: the same join as `landmap import --shapes --label --set`.
    @Test func sheetUploadsJoinLabelsToShapes() async throws {
        let server = try EditableServer.make("http-sheet", backend: .geoPackage)
        let sheet = SharedData.packageRoot.appendingPathComponent("Tests/ImportTests/Fixtures/sheets/to56.dgn")
        let body = ByteBuffer(bytes: try Data(contentsOf: sheet))
        try await server.test { client in
            let layout = "shapes=10&label=number=13&label=land_use=14&label=address=16&set=ward_code=27484"
            try await client.execute(uri: "/imports?layer=sheet_test&crs=vn2000&filename=to56.dgn&skip_invalid=true&\(layout)", method: .post,
                                     headers: bearer(server.editor), body: body) { r in
                #expect(r.status == .created, "\(r.text.prefix(600))")
                let report = r.json.value
                #expect(report?["read"]?.doubleValue == 21 && report?["written"]?["inserted"]?.doubleValue == 20, "\(r.text.prefix(600))")
                #expect(report?["files"]?.arrayValue?.first?["levels"]?.arrayValue?.count == 7)
                let kinds = report?["findings"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
                #expect(["conflicting_labels", "stray_label", "missing_label", "nested_shape"].allSatisfy(kinds.contains), "\(kinds)")
            }
            // A layer of its own has no parcel key: ids are the file's name and element.
            try await client.execute(uri: "/collections/sheet_test/items/to56-1", method: .get, headers: bearer(server.editor)) { r in
                #expect(r.status == .ok, "\(r.text.prefix(300))")
                let p = r.json.value?["properties"]
                #expect(p?["address"]?.stringValue == "209 Lê Văn Lương, phường Phú Thuận" && p?["number"]?.stringValue == "1", "\(r.text.prefix(300))")
            }
            // Labels without shapes, and a label that is not FIELD=LEVEL: 400 saying what to send.
            for (query, says) in [("label=number=13", "label needs shapes"), ("shapes=10&label=number", "FIELD=LEVEL")] {
                try await client.execute(uri: "/imports?layer=sheet_test&crs=vn2000&filename=to56.dgn&\(query)", method: .post,
                                         headers: bearer(server.editor), body: body) { r in
                    #expect(r.status == .badRequest && r.text.contains(says), "\(query): \(r.text.prefix(300))")
                }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func uploadsImportAllOrNothing(_ backend: Backend) async throws {
        let server = try EditableServer.make("http-import", backend: backend)
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
        #expect(await Self.uploadsLeft().isEmpty)
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
        #expect(await Self.uploadsLeft().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.geojson"))
    }

    /// `count` square parcels of ward 26734 on sheet `sheet`, in a row of their own near (x, y).
    static func parcels(count: Int, sheet: Int, x: Double, y: Double) -> String {
        let features = (0..<count).map { i -> String in
            let x0 = x + Double(i % 100) * 0.0002, y0 = y + Double(i / 100) * 0.0002
            let ring = [[x0, y0], [x0 + 0.00018, y0], [x0 + 0.00018, y0 + 0.00018], [x0, y0 + 0.00018], [x0, y0]].map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
            return #"{"type":"Feature","properties":{"MaXa":"26734","SoTo":\#(sheet),"SoThua":\#(i + 1),"LoaiDat":"ODT"},"geometry":{"type":"Polygon","coordinates":[[\#(ring)]]}}"#
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }

    static func vrt(source: String) -> String {
        #"<OGRVRTDataSource><OGRVRTLayer name="stolen"><SrcDataSource>\#(source)</SrcDataSource><SrcLayer>parcels</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"#
    }

    /// Issue 15: an upload naming the live database (a VRT, a symlink in a zip), a URL or a VRT
    /// in a zip is refused (422, naming the file and the cause) and GDAL never opens the database;
    /// afterwards a CLI import in another process and an HTTP import run together and every
    /// insert they report is there, with `integrity_check` ok.
    @Test(.enabled(if: SharedData.product("landmap") != nil && SharedData.which("sqlite3") != nil,
                   Comment(rawValue: "skipped: the landmap executable or sqlite3 is missing")))
    func uploadsThatNameOtherFilesAreRefusedAndTheDatabaseStaysWhole() async throws {
        let server = try EditableServer.make("live-db")
        let db = server.state.store.localFile ?? ""
        let dir = try SharedData.temporaryDirectory("live-db-files")
        let vrtZip = dir.appendingPathComponent("vrt.zip"), linkZip = dir.appendingPathComponent("link.zip")
        try Self.zip(vrtZip, [("parcels.vrt", Self.vrt(source: db))])
        let script = """
            import sys, zipfile
            info = zipfile.ZipInfo("parcels.gpkg"); info.create_system = 3; info.external_attr = 0o120777 << 16
            with zipfile.ZipFile(sys.argv[1], "w") as z: z.writestr(info, sys.argv[2])
            """
        #expect(try SharedData.run("/usr/bin/python3", ["-c", script, linkZip.path, db]).status == 0)
        let refusals: [(String, Data, String)] = [
            ("evil.vrt", Data(Self.vrt(source: db).utf8), "evil.vrt: is a GDAL VRT"),
            ("evil.geojson", Data(Self.vrt(source: db).utf8), "evil.geojson: holds a GDAL VRT"),
            ("remote.vrt", Data(Self.vrt(source: "/vsicurl/http://127.0.0.1:9/x.gpkg").utf8), "remote.vrt: is a GDAL VRT"),
            ("vrt.zip", try Data(contentsOf: vrtZip), "vrt.zip: the zip archive holds a GDAL VRT ('parcels.vrt')"),
            ("link.zip", try Data(contentsOf: linkZip), "link.zip: the zip archive holds a symbolic link ('parcels.gpkg')"),
        ]
        try await server.test { client in
            for (name, body, message) in refusals {
                try await client.execute(uri: "/imports?layer=stolen&filename=\(name)", method: .post, headers: bearer(server.editor),
                                         body: ByteBuffer(bytes: body)) { r in
                    #expect(r.status == .unprocessableContent && r.headers[.contentType] == "application/problem+json", "\(name): \(r.status)")
                    #expect(r.text.contains(message), "\(name): \(r.text)")
                }
            }
        }
        #expect(try server.state.store.layer("stolen") == nil)
        // Each was counted and audited as unsafe for a security operator (SPEC §12).
        #expect(server.state.metrics.emitToString().contains("landmap_refusals_total{reason=\"unsafe\"} \(refusals.count)"))
        server.state.audit.flush()
        let audited = try server.state.store.auditLog(AuditQuery(limit: 20, action: "import.unsafe"))
        #expect(Set(audited.map { $0.detail.prefix(while: { $0 != ":" }) }) == Set(refusals.map { Substring($0.0) }), "\(audited.map(\.detail))")
        #expect(audited.allSatisfy { $0.actor == "token:test-editor" && $0.target == "stolen" })

        func sql(_ query: String) throws -> String {
            try SharedData.run("/usr/bin/sqlite3", [db, query]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let before = Int(try sql("SELECT count(*) FROM parcels")) ?? -1
        let cliFile = dir.appendingPathComponent("cli.geojson"), httpBody = Self.parcels(count: 6_000, sheet: 902, x: 106.62, y: 10.95)
        try Data(Self.parcels(count: 6_000, sheet: 901, x: 106.62, y: 10.90).utf8).write(to: cliFile)
        let cli = Process()
        cli.executableURL = URL(fileURLWithPath: try #require(SharedData.product("landmap")))
        cli.arguments = ["import", cliFile.path, "--layer", "parcels", "--db", db]
        let output = Pipe()
        cli.standardOutput = output
        cli.standardError = output
        try cli.run()
        let httpInserted = try await server.test { client in
            try await client.execute(uri: "/imports?layer=parcels&filename=http.geojson", method: .post, headers: bearer(server.editor),
                                     body: ByteBuffer(string: httpBody)) { r in
                #expect(r.status == .created, "\(r.text.prefix(400))")
                return r.json.value?["written"]?["inserted"]?.doubleValue ?? -1
            }
        }
        let cliText = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        cli.waitUntilExit()
        #expect(cli.terminationStatus == 0 && cliText.contains("6000 inserted"), "\(cliText.suffix(400))")
        #expect(httpInserted == 6_000)
        let check = try sql("PRAGMA integrity_check"), cliRows = try sql("SELECT count(*) FROM parcels WHERE sheet = 901"),
            httpRows = try sql("SELECT count(*) FROM parcels WHERE sheet = 902")
        #expect(check == "ok", "\(check.prefix(400))")
        #expect(cliRows == "6000" && httpRows == "6000", "the CLI's 6000 inserts: \(cliRows) present; the HTTP import's 6000: \(httpRows)")
        #expect(try sql("SELECT count(*) FROM parcels") == "\(before + 12_000)")
        #expect(try sql("SELECT count(*) FROM rtree_parcels_geom") == "\(before + 12_000)")
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
