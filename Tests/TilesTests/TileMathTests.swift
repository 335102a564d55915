import Foundation
import Geometry
import Testing
@testable import Tiles
import TestSupport

@Suite struct TileMathTests {
    @Test func knownAnswersOfMercantile() throws {
        // Dinh Độc Lập at z15 (from the staged vectors' description), and mercantile's literals.
        #expect(TileID.containing(Coordinate(106.69609, 10.77781), zoom: 15) == TileID(z: 15, x: 26095, y: 15397))
        // mercantile tests/test_funcs.py: test_bbox and test_xy_bounds for tile 486, 332, 10.
        let t = try #require(TileID(z: 10, x: 486, y: 332))
        let b = t.lonLatBounds
        #expect(zip([b.minX, b.minY, b.maxX, b.maxY], [-9.140625, 53.12040528310657, -8.7890625, 53.33087298301705]).allSatisfy { abs($0 - $1) < 1e-7 })
        let m = t.mercatorBounds
        #expect(abs(m.minX - (-1017529.7205322663)) < 1e-7 && abs(m.minY - 7005300.768279833) < 1e-7 && abs(m.maxX - (-978393.962050256)) < 1e-7)
        // Every tile of its own bounds is itself (test_tiles_roundtrip).
        #expect(TileID.covering(b, zoom: 10) == [t])
        #expect(TileID(z: 3, x: 3, y: 5)?.quadkey == "213")
        #expect(TileID(z: 23, x: 0, y: 0) == nil && TileID(z: 2, x: 4, y: 0) == nil && TileID(z: 0, x: 0, y: -1) == nil)
    }

    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func hcmcVectorsAgreeAtEveryZoom() throws {
        let url = try #require(SharedData.url("tile-math/hcmc_tile_vectors_mercantile.json"))
        let doc = try JSONValue.parse(Data(contentsOf: url))
        var checked = 0
        for (_, p) in doc["points"]?.objectValue ?? [:] {
            let c = Coordinate(try #require(p["lon"]?.doubleValue), try #require(p["lat"]?.doubleValue))
            let xy = WebMercator.metres(c)
            #expect(abs(xy.x - (p["xy_3857"]?.arrayValue?[0].doubleValue ?? 0)) < 1e-6 && abs(xy.y - (p["xy_3857"]?.arrayValue?[1].doubleValue ?? 0)) < 1e-6)
            for t in p["tiles"]?.arrayValue ?? [] {
                guard let z = t["z"]?.doubleValue.map(Int.init), let x = t["x"]?.doubleValue.map(Int.init), let y = t["y"]?.doubleValue.map(Int.init),
                      let tile = TileID.containing(c, zoom: z) else { continue }
                #expect(tile == TileID(z: z, x: x, y: y), "\(c) z\(z)")
                #expect(tile.quadkey == t["quadkey"]?.stringValue)
                let ll = t["bounds_lnglat"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                let b = tile.lonLatBounds
                #expect(zip([b.minX, b.minY, b.maxX, b.maxY], ll).allSatisfy { abs($0 - $1) < 1e-9 }, "\(tile)")
                let m = t["bounds_3857"]?.arrayValue?.compactMap(\.doubleValue) ?? []
                let mb = tile.mercatorBounds
                #expect(zip([mb.minX, mb.minY, mb.maxX, mb.maxY], m).allSatisfy { abs($0 - $1) < 1e-6 }, "\(tile)")
                checked += 1
            }
        }
        #expect(checked == 7 * 23)
        let box = doc["hcmc_bbox"]?["bbox"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        for (zoom, expected) in doc["hcmc_bbox"]?["tiles"]?.objectValue ?? [:] {
            let z = try #require(Int(zoom))
            let tiles = TileID.covering(BoundingBox(minX: box[0], minY: box[1], maxX: box[2], maxY: box[3]), zoom: z)
            let want = Set((expected.arrayValue ?? []).compactMap { e in e.arrayValue.flatMap { a in TileID(z: z, x: Int(a[0].doubleValue ?? -1), y: Int(a[1].doubleValue ?? -1)) } })
            #expect(Set(tiles) == want, "z\(z)")
        }
    }
}
