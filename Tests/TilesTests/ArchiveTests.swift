import CompressNIO
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
