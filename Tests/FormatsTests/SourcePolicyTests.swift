import Features
import Foundation
import Geometry
import Testing
@testable import Formats
import TestSupport

/// What a file handed to `OGRReader` may make GDAL open (issue 15): only SPEC §3's drivers, only
/// local files, nothing that names another file, URL or database, and never a protected database.
@Suite struct SourcePolicyTests {
    static let zoning = SharedData.packageRoot.appendingPathComponent("GeoData/zoning")

    /// The reader's refusal for a path (nil when it opened), as text.
    static func refusal(_ path: String) -> String? {
        do {
            for source in try OGRReader.sources(path) { _ = try OGRReader(path: source) }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Makes a zip with Python's zipfile: (entry name, text), or a symlink entry for "symlink:TARGET".
    static func zip(_ url: URL, _ entries: [(String, String)]) throws {
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for name, source in zip(sys.argv[2::2], sys.argv[3::2]):
                    if source.startswith("symlink:"):
                        info = zipfile.ZipInfo(name)
                        info.create_system = 3
                        info.external_attr = 0o120777 << 16
                        z.writestr(info, source[8:])
                    elif source.startswith("file:"):
                        z.write(source[5:], name)
                    else:
                        z.writestr(name, source)
            """
        let result = try SharedData.run("/usr/bin/python3", ["-c", script, url.path] + entries.flatMap { [$0.0, $0.1] })
        #expect(result.status == 0, "\(result.output)")
    }

    static func vrt(source: String) -> String {
        #"<OGRVRTDataSource><OGRVRTLayer name="stolen"><SrcDataSource>\#(source)</SrcDataSource><SrcLayer>parcels</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"#
    }

    @Test func aVRTIsRefusedWhateverItsName() throws {
        let dir = try SharedData.temporaryDirectory("policy-vrt")
        let target = dir.appendingPathComponent("target.geojson")
        try Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[106.7,10.8]}}]}"#.utf8).write(to: target)
        let text = Self.vrt(source: target.path).replacingOccurrences(of: "<SrcLayer>parcels</SrcLayer>", with: "<SrcLayer>target</SrcLayer>")
        for name in ["evil.vrt", "evil.geojson", "evil.csv", "EVIL.VRT"] {
            let file = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: file)
            let refusal = Self.refusal(file.path)
            #expect(refusal?.contains("\(name): ") == true && refusal?.contains("VRT") == true, "\(name): \(refusal ?? "read")")
        }
        // A VRT pointing at a URL is refused before anything is fetched.
        let remote = dir.appendingPathComponent("remote.vrt")
        try Data(Self.vrt(source: "/vsicurl/http://127.0.0.1:9/x.geojson").utf8).write(to: remote)
        #expect(Self.refusal(remote.path)?.contains("VRT") == true)
    }

    @Test func virtualFileSystemsAndURLsAreRefused() {
        for name in ["/vsicurl/http://127.0.0.1:9/parcels.geojson", "/VSICURL/http://127.0.0.1:9/a.zip", "http://127.0.0.1:9/parcels.geojson",
                     "/vsizip//tmp/some.zip/a.shp", "/vsistdin/"] {
            let refusal = Self.refusal(name)
            #expect(refusal?.contains("virtual file system") == true || refusal?.contains("URL") == true, "\(name): \(refusal ?? "read")")
        }
    }

    @Test func onlySPECFormatsAreOpenedEvenWhenGDALCouldReadMore() throws {
        // KML is a format GDAL reads, but not one of SPEC §3's: the allow-list keeps it out.
        let dir = try SharedData.temporaryDirectory("policy-kml")
        let kml = dir.appendingPathComponent("places.kml")
        try Data(#"<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>a</name><Point><coordinates>106.7,10.8</coordinates></Point></Placemark></kml>"#.utf8).write(to: kml)
        let refusal = Self.refusal(kml.path)
        #expect(refusal?.contains("places.kml: not one of the formats LandMap reads") == true, "\(refusal ?? "read")")
        // A folder: GDAL would read every Shapefile in it.
        #expect(Self.refusal(Self.zoning.path)?.contains("not a regular file") == true)
    }

    @Test func aZipHoldingAVRTOrASymlinkIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-zip")
        let withVRT = dir.appendingPathComponent("vrt.zip")
        try Self.zip(withVRT, [("stolen.vrt", Self.vrt(source: "/etc/passwd"))])
        #expect(Self.refusal(withVRT.path) == "vrt.zip: the zip archive holds a GDAL VRT ('stolen.vrt'), which names other files, URLs or databases to read: refused")
        // A VRT named .geojson inside the zip: found by its content.
        let disguised = dir.appendingPathComponent("disguised.zip")
        try Self.zip(disguised, [("parcels.geojson", Self.vrt(source: "/etc/passwd"))])
        #expect(Self.refusal(disguised.path)?.contains("disguised.zip/parcels.geojson: holds a GDAL VRT") == true)
        let link = dir.appendingPathComponent("link.zip")
        try Self.zip(link, [("parcels.gpkg", "symlink:/var/lib/landmap/landmap.gpkg")])
        #expect(Self.refusal(link.path)?.contains("link.zip: the zip archive holds a symbolic link ('parcels.gpkg')") == true)
    }

    @Test func aProtectedDatabaseIsRefusedByAnyName() throws {
        let dir = try SharedData.temporaryDirectory("policy-live")
        // A Shapefile standing in for the live database (any file GDAL can read shows the point).
        for ext in ["shp", "shx", "dbf", "prj"] {
            try FileManager.default.copyItem(at: Self.zoning.appendingPathComponent("d7_zoning_plots.\(ext)"), to: dir.appendingPathComponent("live.\(ext)"))
        }
        let live = dir.appendingPathComponent("live.shp").path
        #expect(Self.refusal(live) == nil)
        SourcePolicy.protect(database: live)
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sub.appendingPathComponent("link.shp").path, withDestinationPath: live)
        try FileManager.default.linkItem(atPath: live, toPath: sub.appendingPathComponent("hard.shp").path)
        for name in [live, sub.path + "/../live.shp", sub.appendingPathComponent("link.shp").path, sub.appendingPathComponent("hard.shp").path] {
            #expect(Self.refusal(name)?.contains("LandMap's own database") == true, "\(name)")
        }
        // A file beside an innocent .shp that is the database under another name (here its .dbf).
        let other = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        for ext in ["shp", "shx"] {
            try FileManager.default.copyItem(at: Self.zoning.appendingPathComponent("d7_zoning_plots.\(ext)"), to: other.appendingPathComponent("x.\(ext)"))
        }
        SourcePolicy.protect(database: dir.appendingPathComponent("live.dbf").path)
        try FileManager.default.createSymbolicLink(atPath: other.appendingPathComponent("x.dbf").path, withDestinationPath: dir.appendingPathComponent("live.dbf").path)
        #expect(Self.refusal(other.appendingPathComponent("x.shp").path)?.contains("x.dbf beside it is LandMap's own database") == true)
        // A database beside a Shapefile of the same stem is no part of it: the Shapefile is read.
        try Data("SQLite format 3\0".utf8).write(to: other.appendingPathComponent("y.gpkg"))
        SourcePolicy.protect(database: other.appendingPathComponent("y.gpkg").path)
        for ext in ["shp", "shx", "dbf", "prj"] {
            try FileManager.default.copyItem(at: Self.zoning.appendingPathComponent("d7_zoning_plots.\(ext)"), to: other.appendingPathComponent("y.\(ext)"))
        }
        #expect(Self.refusal(other.appendingPathComponent("y.shp").path) == nil)
    }

    /// Even a `/vsicurl/` name given to GDAL directly fetches nothing: the process-wide
    /// configuration (`GDALLibrary`) lets /vsicurl/ open no name at all.
    @Test func gdalFetchesNoURLEvenWhenAskedDirectly() throws {
        let script = """
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    print("REQUEST", self.path, flush=True)
                    self.send_response(200); self.end_headers(); self.wfile.write(b'{"type":"FeatureCollection","features":[]}')
                do_HEAD = do_GET
                def log_message(self, *args): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", script]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        // SIGKILL: the child may inherit a mask that blocks SIGTERM.
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        var first = Data()
        while !first.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            first += chunk
        }
        let port = try #require(Int(String(decoding: first, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        _ = GDALLibrary.ready
        let url = "/vsicurl/http://127.0.0.1:\(port)/parcels.geojson"
        #expect(SourcePolicy.read(url, upTo: 100).isEmpty)
        #expect(OGRReader.open(url, rawShapefileText: false) == nil)
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        let rest = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!rest.contains("REQUEST"), "GDAL fetched: \(rest)")
    }

    @Test(.enabled(if: SharedData.which("sqlite3") != nil, Comment(rawValue: "skipped: sqlite3 is missing")))
    func sqliteTricksAreRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-gpkg")
        let wkt = #"GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],AXIS["latitude",north],AXIS["longitude",east],ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",4326]]"#
        let gpkg = dir.appendingPathComponent("sound.gpkg").path
        let w = try OGRFeatureWriter(path: gpkg, driver: "GPKG", layerName: "parcels", crsWKT: wkt, fields: [FieldDefinition("land_use", .text)])
        try w.write(Feature(id: "a", geometry: .point(Coordinate(106.7, 10.8)), properties: ["land_use": "ODT"]))
        try w.finish()
        #expect(Self.refusal(gpkg) == nil)
        // A virtual table in the schema: a SQLite module (GDAL's VirtualOGR) would read what it names.
        let tricked = dir.appendingPathComponent("tricked.gpkg").path
        try FileManager.default.copyItem(atPath: gpkg, toPath: tricked)
        let inject = try SharedData.run("/usr/bin/sqlite3", [tricked, "PRAGMA writable_schema=ON; INSERT INTO sqlite_master VALUES('table','evil','evil',0,'CREATE VIRTUAL TABLE evil USING VirtualOGR(''/etc/passwd'')');"])
        #expect(inject.status == 0, "\(inject.output)")
        #expect(Self.refusal(tricked)?.contains("tricked.gpkg: the GeoPackage holds a virtual table ('evil')") == true, "\(Self.refusal(tricked) ?? "read")")
        // A plain SQLite database is not a GeoPackage: GDAL's SQLite driver is not on the list.
        let plain = dir.appendingPathComponent("plain.sqlite").path
        #expect(try SharedData.run("/usr/bin/sqlite3", [plain, "CREATE TABLE t(a TEXT, WKT TEXT); INSERT INTO t VALUES ('x', 'POINT (1 2)');"]).status == 0)
        #expect(Self.refusal(plain)?.contains("plain.sqlite: not one of the formats LandMap reads") == true, "\(Self.refusal(plain) ?? "read")")
    }

    /// A virtual table dressed up as an R-tree index by a comment, a view, a generated column:
    /// refused by what SQLite would really run, not by what the text seems to say (review of issue 15).
    @Test func aGeoPackageSchemaThatRunsMoreThanATableScanIsRefused() {
        let rtree = #"CREATE VIRTUAL TABLE "rtree_pts_geom" USING rtree(id, minx, maxx, miny, maxy)"#
        #expect(OGRReader.schemaProblem(type: "table", name: "rtree_pts_geom", sql: rtree, rootPage: 0) == nil)
        let dressed = "CREATE VIRTUAL TABLE vt USING VirtualText('/etc/passwd','UTF-8',0,POINT,NONE,':') /* using rtree( */"
        #expect(OGRReader.schemaProblem(type: "table", name: "vt", sql: dressed, rootPage: 0)?.contains("virtual table ('vt')") == true)
        let named = #"CREATE VIRTUAL TABLE "rtree_x/*" USING VirtualText('/etc/passwd') */" USING rtree(id)"#
        #expect(OGRReader.schemaProblem(type: "table", name: "rtree_x/*", sql: named, rootPage: 0) != nil)
        let leading = "/**/CREATE VIRTUAL TABLE rtree_a_geom USING VirtualText('/etc/passwd')"
        #expect(OGRReader.schemaProblem(type: "table", name: "rtree_a_geom", sql: leading, rootPage: 0) != nil)
        #expect(OGRReader.schemaProblem(type: "view", name: "leak", sql: "CREATE VIEW leak AS SELECT * FROM pts", rootPage: 0)?.contains("a view ('leak')") == true)
        let generated = "CREATE TABLE t (fid INTEGER PRIMARY KEY, geom BLOB, secret TEXT GENERATED ALWAYS AS (readfile('/etc/passwd')))"
        #expect(OGRReader.schemaProblem(type: "table", name: "t", sql: generated, rootPage: 2)?.contains("generated column") == true)
        let short = "CREATE TABLE t (fid INTEGER PRIMARY KEY, secret TEXT AS (upper('x')))"
        #expect(OGRReader.schemaProblem(type: "table", name: "t", sql: short, rootPage: 2) != nil)
        let plain = #"CREATE TABLE "pts" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "geom" POINT, "generated_at" DATETIME, "as_of" TEXT)"#
        #expect(OGRReader.schemaProblem(type: "table", name: "pts", sql: plain, rootPage: 2) == nil)
    }

    /// A GeoJSON `crs` of type link or url (GeoJSON 2008) would make GDAL fetch its href: refused
    /// before GDAL reads the file, wherever the member stands and whatever the file is called.
    @Test func aGeoJSONWhoseCRSIsALinkIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-crs-link")
        let features = #""features":[{"type":"Feature","properties":{"url":"https://example.org","type":"link"},"geometry":{"type":"Point","coordinates":[106.7,10.8]}}]"#
        let cases = [
            ("link.geojson", #"{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"http://127.0.0.1:9/crs","type":"proj4"}},"# + features + "}"),
            ("url.json", #"{"type":"FeatureCollection","# + features + #","crs":{"properties":{"url":"http://127.0.0.1:9/x"},"type":"URL"}}"#),
        ]
        for (name, text) in cases {
            let file = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: file)
            #expect(Self.refusal(file.path)?.contains("\(name): declares its CRS as a") == true, "\(Self.refusal(file.path) ?? "read")")
        }
        // Properties named url or type link are data, not a CRS: the file is read.
        let fine = dir.appendingPathComponent("fine.geojson")
        try Data((#"{"type":"FeatureCollection","# + features + "}").utf8).write(to: fine)
        #expect(Self.refusal(fine.path) == nil)
    }

    /// A file whose `-wal` or `-shm` is the live database's: SQLite would map and write it.
    @Test func aDatabaseWhoseWALIsTheLiveOnesIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-wal")
        let live = dir.appendingPathComponent("live.gpkg")
        try Data("SQLite format 3\0".utf8).write(to: live)
        try Data("wal".utf8).write(to: dir.appendingPathComponent("live.gpkg-wal"))
        SourcePolicy.protect(database: live.path)
        let upload = dir.appendingPathComponent("upload.gpkg")
        try Data("SQLite format 3\0".utf8).write(to: upload)
        try FileManager.default.createSymbolicLink(atPath: upload.path + "-wal", withDestinationPath: live.path + "-wal")
        #expect(throws: FormatError.unsafe(file: upload.path, "its -wal file is LandMap's own database's: refused")) { try SourcePolicy.checkLocalFile(upload.path) }
    }

    @Test func aMapInfoSeamlessTableIsRefusedByItsFlag() throws {
        let dir = try SharedData.temporaryDirectory("policy-seamless")
        let tab = dir.appendingPathComponent("idx.tab")
        try Data(("!table\n!version 300\n!charset WindowsLatin1\n\nDefinition Table\n  Type NATIVE Charset \"WindowsLatin1\"\n  Fields 1\n    Table Char (254) ;\nbegin_metadata\n\"\\IsSeamless\" = \"TRUE\"\nend_metadata\n").utf8).write(to: tab)
        #expect(Self.refusal(tab.path)?.contains("idx.tab: is a MapInfo view or seamless table") == true, "\(Self.refusal(tab.path) ?? "read")")
    }

    @Test func anExportNeverWritesThroughAFileBesideItsOutput() throws {
        let dir = try SharedData.temporaryDirectory("policy-out")
        let live = dir.appendingPathComponent("live.gpkg")
        try Data("SQLite format 3\0 the live database".utf8).write(to: live)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("out.dbf").path, withDestinationPath: live.path)
        let wkt = #"GEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]],CS[ellipsoidal,2],AXIS["latitude",north],AXIS["longitude",east],ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",4326]]"#
        #expect(throws: FormatError(file: dir.appendingPathComponent("out.shp").path, "out.dbf exists already beside it and would be overwritten; remove it or choose another --out")) {
            try OGRFeatureWriter(path: dir.appendingPathComponent("out.shp").path, driver: "ESRI Shapefile", layerName: "out", crsWKT: wkt, fields: [])
        }
        #expect(try String(contentsOf: live, encoding: .utf8) == "SQLite format 3\0 the live database")
        #expect(throws: FormatError.self) { try OGRFeatureWriter(path: "/vsimem/out.gpkg", driver: "GPKG", layerName: "out", crsWKT: wkt, fields: []) }
    }

    @Test func aMapInfoViewIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-tab")
        let view = dir.appendingPathComponent("view.tab")
        try Data("!Table\n!Version 100\nOpen Table \"/var/lib/landmap/other\" Hide\nCreate View view As Select * From other\n".utf8).write(to: view)
        #expect(Self.refusal(view.path)?.contains("view.tab: is a MapInfo view or seamless table") == true)
    }

    @Test func aShapefileWithoutASoundDBFIsRefused() throws {
        let dir = try SharedData.temporaryDirectory("policy-dbf")
        let dbf = try Data(contentsOf: Self.zoning.appendingPathComponent("d7_zoning_plots.dbf"))
        func shapefile(_ name: String, dbf: Data?) throws -> String {
            for ext in ["shp", "shx", "prj"] {
                try FileManager.default.copyItem(at: Self.zoning.appendingPathComponent("d7_zoning_plots.\(ext)"), to: dir.appendingPathComponent("\(name).\(ext)"))
            }
            if let dbf { try dbf.write(to: dir.appendingPathComponent("\(name).dbf")) }
            return dir.appendingPathComponent("\(name).shp").path
        }
        #expect(Self.refusal(try shapefile("sound", dbf: dbf)) == nil)
        #expect(Self.refusal(try shapefile("missing", dbf: nil)) == "missing.shp: its .dbf (the attribute table) is missing: a Shapefile needs its .shp, .shx and .dbf together")
        let truncated = try #require(Self.refusal(try shapefile("truncated", dbf: dbf.prefix(dbf.count / 2))))
        #expect(truncated.hasPrefix("truncated.shp: its .dbf (the attribute table) is damaged (") && truncated.contains("too few for its"), "\(truncated)")
        let garbage = try #require(Self.refusal(try shapefile("garbage", dbf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 1) }))))
        #expect(garbage.contains("garbage.shp: its .dbf (the attribute table) is damaged"), "\(garbage)")
        let header = try #require(Self.refusal(try shapefile("header", dbf: dbf.prefix(40))))
        #expect(header.contains("header.shp: its .dbf (the attribute table) is damaged"), "\(header)")
        // The same inside a zip: named by archive and entry.
        let zipped = dir.appendingPathComponent("nodbf.zip")
        try Self.zip(zipped, ["shp", "shx", "prj"].map { ("plots/d7.\($0)", "file:" + Self.zoning.appendingPathComponent("d7_zoning_plots.\($0)").path) })
        #expect(Self.refusal(zipped.path) == "nodbf.zip/plots/d7.shp: its .dbf (the attribute table) is missing: a Shapefile needs its .shp, .shx and .dbf together")
        let damaged = dir.appendingPathComponent("damaged.zip")
        let cut = dir.appendingPathComponent("cut.dbf")
        try dbf.prefix(1000).write(to: cut)
        try Self.zip(damaged, ["shp", "shx", "prj"].map { ("d7.\($0)", "file:" + Self.zoning.appendingPathComponent("d7_zoning_plots.\($0)").path) } + [("d7.dbf", "file:" + cut.path)])
        #expect(Self.refusal(damaged.path)?.hasPrefix("damaged.zip/d7.shp: its .dbf (the attribute table) is damaged") == true)
    }
}
