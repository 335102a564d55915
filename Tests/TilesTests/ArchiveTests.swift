import GeoPackage
import CompressNIO
import Features
import Foundation
import Geometry
import GRDB
import Import
import NIOCore
import Store
import Testing
@testable import Tiles
import TestSupport

@Suite struct ArchiveTests {
    /// Known answers of the PMTiles reference implementation (PyPI pmtiles, tile.zxy_to_tileid).
    @Test func pmtilesTileIDs() throws {
        let cases: [(Int, Int, Int, UInt64)] = [(0, 0, 0, 0), (1, 1, 0, 4), (10, 815, 481, 1_198_163), (16, 52200, 30802, 4_907_680_547), (22, 3_340_834, 1_971_312, 20_101_859_470_947)]
        for (z, x, y, id) in cases { #expect(PMTilesWriter.tileID(try #require(TileID(z: z, x: x, y: y))) == id, "\(z)/\(x)/\(y)") }
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var b = ByteBuffer(bytes: bytes)
        return Array(try b.decompress(with: .gzip()).readableBytesView)
    }

    /// Archives are public artefacts: no owner-like property, in any layer, nor a field the layer
    /// marks private, is in a tile or in the archive's field list.
    @Test func archivesCarryNoPrivateField() async throws {
        let dir = try SharedData.temporaryDirectory("archives-private")
        let store = try GeoPackageStore(path: dir.appendingPathComponent("t.gpkg").path)
        let p = Coordinate(106.70, 10.78)
        let square: Geometry = .polygon([[p, Coordinate(p.x + 0.001, p.y), Coordinate(p.x + 0.001, p.y + 0.001), Coordinate(p.x, p.y + 0.001), p]])
        _ = try store.write(BatchRequest(layer: "shops", mode: .append, source: "test", actor: "tests")) { w in
            try w.put(Feature(id: "s1", geometry: .point(Coordinate(p.x + 0.0005, p.y + 0.0005)),
                              properties: ["amenity": "cafe", "HoTen": "SECRET-1", "CCCD": "SECRET-2", "phone": "SECRET-3"]))
        }
        _ = try store.write(BatchRequest(layer: "zoning", mode: .append, source: "test", actor: "tests")) { w in
            try w.put(Feature(id: "z1", geometry: square, properties: ["zone_code": "A1", "plan_name": "SECRET-4", "owner": "SECRET-5"]))
        }
        try store.setMetadata(LayerMetadata(privateFields: ["phone"]), of: "shops", actor: "tests")
        try store.setMetadata(LayerMetadata(privateFields: ["plan_name"]), of: "zoning", actor: "tests")
        var o = TileExportOptions(layers: ["shops", "zoning"])
        o.minZoom = 14
        o.maxZoom = 16
        let mb = dir.appendingPathComponent("t.mbtiles").path
        let a = try await TileExporter.export(store: store, options: o, into: MBTilesWriter(path: mb))
        #expect(a.written >= 3)
        let rows = try DatabaseQueue(path: mb).read { db in try Row.fetchAll(db, sql: "SELECT tile_data FROM tiles") }
        var values = Set<String>()
        for row in rows {
            let tile = try DecodedTile(try Self.gunzip([UInt8](row[0] as Data)))
            for layer in tile.layers {
                #expect(Set(layer.keys).isDisjoint(with: ["HoTen", "CCCD", "phone", "plan_name", "owner"]), "\(layer.name): \(layer.keys)")
                for v in layer.values { if case .string(let s) = v { values.insert(s) } }
            }
        }
        #expect(values.contains("cafe") && values.contains("A1") && !values.contains { $0.hasPrefix("SECRET") })
        let json = try await DatabaseQueue(path: mb).read { db in try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE name = 'json'") }
        #expect(json?.contains("zone_code") == true && json?.contains("plan_name") == false)
    }

    /// Exported archives hold exactly the tiles the renderer (hence the server) gives, and
    /// independent readers (SQLite; the PyPI pmtiles reader) see the same.
    @Test func exportsMatchWhatTheServerRenders() async throws {
        let dir = try SharedData.temporaryDirectory("archives")
        let store = try GeoPackageStore(path: dir.appendingPathComponent("t.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        var o = TileExportOptions(layers: ["parcels", "zoning"])
        o.minZoom = 12
        o.maxZoom = 16
        let mb = dir.appendingPathComponent("t.mbtiles").path, pm = dir.appendingPathComponent("t.pmtiles").path
        let a = try await TileExporter.export(store: store, options: o, into: MBTilesWriter(path: mb))
        let b = try await TileExporter.export(store: store, options: o, into: PMTilesWriter(path: pm))
        #expect(a.written == b.written && a.written > 10)

        let renderer = try TileRenderer(store: store)
        func served(_ t: TileID) throws -> [UInt8] { try renderer.mvt(layers: ["parcels", "zoning"], tile: t, hidden: { $0.privateFields }).mvt }
        let rows = try DatabaseQueue(path: mb).read { db in try Row.fetchAll(db, sql: "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles") }
        #expect(rows.count == a.written)
        for row in rows {
            let z: Int = row[0], x: Int = row[1], tmsY: Int = row[2]
            let tile = try #require(TileID(z: z, x: x, y: (1 << z) - 1 - tmsY))
            #expect(try Self.gunzip([UInt8](row[3] as Data)) == served(tile), "\(tile)")
        }

        guard let python = SharedData.which("python3"),
              (try? SharedData.run(python, ["-c", "import pmtiles"]))?.status == 0 else { return }  // set-up installs it; CI has it
        let script = """
            import base64, gzip, json, sys
            from pmtiles.reader import Reader, MmapSource, all_tiles
            with open(sys.argv[1], 'rb') as f:
                r = Reader(MmapSource(f))
                print(json.dumps({f"{z}/{x}/{y}": base64.b64encode(gzip.decompress(d)).decode() for (z, x, y), d in all_tiles(r.get_bytes)}))
            """
        let out = try SharedData.run(python, ["-c", script, pm])
        #expect(out.status == 0, "\(out.output)")
        let tiles = try JSONValue.parse(out.output).objectValue ?? [:]
        #expect(tiles.count == b.written)
        for (key, value) in tiles {
            let p = key.split(separator: "/").compactMap { Int($0) }
            let tile = try #require(TileID(z: p[0], x: p[1], y: p[2]))
            #expect(Data(base64Encoded: value.stringValue ?? "").map { [UInt8]($0) } == (try served(tile)), "\(key)")
        }
    }
}
