import Foundation
import GRDB
import Formats
@testable import Import
@testable import Store
import Testing
import TestSupport

/// Issue 15: no file given to an import — by the library or by `landmap import`/`validate` —
/// makes GDAL open the live database, a URL, or what a VRT names.
@Suite struct LiveDatabaseTests {
    static let landmap = SharedData.product("landmap")

    static func vrt(source: String, layer: String = "parcels") -> String {
        #"<OGRVRTDataSource><OGRVRTLayer name="stolen"><SrcDataSource>\#(source)</SrcDataSource><SrcLayer>\#(layer)</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"#
    }

    static func state(_ db: String) throws -> [String] {
        try DatabaseQueue(path: db).read { db in
            try ["PRAGMA integrity_check", "SELECT count(*) FROM parcels", "SELECT group_concat(name) FROM landmap_layers"]
                .map { try String.fetchOne(db, sql: $0) ?? "NULL" }
        }
    }

    @Test func anImportNeverReadsTheLiveDatabaseByAnyName() throws {
        let store = try ImportFixtures.store()
        let small = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 30), name: "small.geojson")
        _ = try Importer(store: store).run([small], ImportOptions(layer: "parcels"))
        let before = try Self.state(store.path)
        #expect(before[0] == "ok" && before[1] == "30")

        let dir = try SharedData.temporaryDirectory("live-names")
        let link = dir.appendingPathComponent("copy.gpkg").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store.path)
        let dotted = dir.path + "/../" + URL(fileURLWithPath: store.path).deletingLastPathComponent().lastPathComponent + "/t.gpkg"
        let vrt = dir.appendingPathComponent("parcels.geojson")
        try Data(Self.vrt(source: store.path).utf8).write(to: vrt)
        for (path, cause) in [(link, "LandMap's own database"), (dotted, "LandMap's own database"), (store.path, "LandMap's own database"),
                              (vrt.path, "VRT"), ("/vsicurl/http://127.0.0.1:9/parcels.geojson", "virtual file system")] {
            #expect(throws: FormatError.self, "\(path)") {
                do {
                    _ = try Importer(store: store).run([path], ImportOptions(layer: "stolen"))
                } catch let error as FormatError {
                    #expect(error.message.contains(cause), "\(path): \(error)")
                    throw error
                }
            }
        }
        #expect(try Self.state(store.path) == before)
    }

    @Test(.enabled(if: landmap != nil, Comment(rawValue: "skipped: the landmap executable is not built")))
    func theCLIRefusesWhatNamesAnotherFileWithAClearMessage() throws {
        let dir = try SharedData.temporaryDirectory("live-cli")
        let db = dir.appendingPathComponent("live.gpkg").path
        let small = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 30), name: "small.geojson")
        let landmap = try #require(Self.landmap)
        let first = try SharedData.run(landmap, ["import", small, "--layer", "parcels", "--db", db])
        #expect(first.status == 0, "\(first.output)")
        let before = try Self.state(db)

        let link = dir.appendingPathComponent("link.gpkg").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: db)
        let vrt = dir.appendingPathComponent("evil.vrt")
        try Data(Self.vrt(source: db).utf8).write(to: vrt)
        let zipped = dir.appendingPathComponent("evil.zip")
        let zipped2 = try SharedData.run("/usr/bin/python3", ["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: z.write(sys.argv[2], 'x.vrt')", zipped.path, vrt.path])
        #expect(zipped2.status == 0)
        let zoning = SharedData.packageRoot.appendingPathComponent("GeoData/zoning")
        for ext in ["shp", "shx", "prj"] {
            try FileManager.default.copyItem(at: zoning.appendingPathComponent("d7_zoning_plots.\(ext)"), to: dir.appendingPathComponent("nodbf.\(ext)"))
        }
        let cases: [(String, String)] = [
            (vrt.path, "evil.vrt: is a GDAL VRT"),
            (zipped.path, "evil.zip: the zip archive holds a GDAL VRT ('x.vrt')"),
            ("/vsicurl/http://127.0.0.1:9/parcels.geojson", "names a GDAL virtual file system"),
            ("http://127.0.0.1:9/parcels.geojson", "is a URL"),
            (link, "link.gpkg: is LandMap's own database"),
            (dir.path + "/../" + dir.lastPathComponent + "/live.gpkg", "live.gpkg: is LandMap's own database"),
            (dir.appendingPathComponent("nodbf.shp").path, "nodbf.shp: its .dbf (the attribute table) is missing"),
        ]
        for command in ["import", "validate"] {
            for (file, message) in cases {
                let result = try SharedData.run(landmap, [command, file, "--layer", "stolen", "--db", db])
                #expect(result.status != 0 && result.output.contains(message), "\(command) \(file): \(result.status) \(result.output)")
            }
        }
        #expect(try Self.state(db) == before)
    }
}
