import Foundation
import Geometry
import Testing
@testable import Tiles
import TestSupport

/// WebMercatorQuad as OGC defines it, and the limits a tileset's data sets in it.
@Suite struct OGCTileMatrixSetTests {
    /// Every tile matrix against morecantile's copy of the OGC 2D Tile Matrix Set 2.0 definition
    /// (tile-math/morecantile in ../shared/data, full double precision).
    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func matchesTheStandardsDefinitionAtEveryZoom() throws {
        let url = try #require(SharedData.url("tile-math/morecantile/morecantile/data/WebMercatorQuad.json"))
        let standard = try JSONValue.parse(Data(contentsOf: url))
        let ours = WebMercatorQuad.definition
        for key in ["id", "uri", "crs", "orderedAxes", "wellKnownScaleSet", "title"] {
            #expect(ours[key] == standard[key], "\(key)")
        }
        let theirs = standard["tileMatrices"]?.arrayValue ?? []
        let mine = ours["tileMatrices"]?.arrayValue ?? []
        #expect(mine.count == TileID.maxZoom + 1 && theirs.count > mine.count)
        for (a, b) in zip(mine, theirs) {
            let id = a["id"]?.stringValue ?? "?"
            #expect(a["id"] == b["id"])
            for key in ["tileWidth", "tileHeight", "matrixWidth", "matrixHeight"] {
                #expect(a[key]?.doubleValue == b[key]?.doubleValue, "\(id) \(key)")
            }
            #expect(a["cornerOfOrigin"] == b["cornerOfOrigin"], "\(id)")
            #expect(a["pointOfOrigin"]?.arrayValue?.compactMap(\.doubleValue) == b["pointOfOrigin"]?.arrayValue?.compactMap(\.doubleValue), "\(id)")
            for key in ["scaleDenominator", "cellSize"] {
                let x = try #require(a[key]?.doubleValue), y = try #require(b[key]?.doubleValue)
                #expect(abs(x - y) <= 1e-15 * y, "\(id) \(key): \(x) vs \(y)")
            }
        }
    }

    /// OGC's own register (registry/json/WebMercatorQuad.json of opengeospatial/2D-Tile-Matrix-Set)
    /// prints 15 significant digits: a few of its values.
    @Test func agreesWithOGCsRegister() {
        let register: [(Int, scale: Double, cell: Double, width: Int)] = [
            (0, 559082264.028717, 156543.033928041, 1), (1, 279541132.014358, 78271.5169640204, 2),
            (12, 136494.693366386, 38.2185141425881, 4096), (16, 8530.91833539913, 2.38865713391175, 65536),
            (22, 133.295598990611, 0.0373227677173712, 4194304),
        ]
        for (z, scale, cell, width) in register {
            #expect(abs(WebMercatorQuad.scaleDenominator(z) - scale) <= 1e-14 * scale, "z\(z)")
            #expect(abs(WebMercatorQuad.cellSize(z) - cell) <= 1e-14 * cell, "z\(z)")
            #expect(WebMercatorQuad.definition["tileMatrices"]?.arrayValue?[z]["matrixWidth"] == .integer(Int64(width)))
        }
        #expect(abs(WebMercator.originShift - 20037508.3427892) < 1e-7)
    }

    @Test func tileMatrixIdsAreTheZooms() {
        #expect(WebMercatorQuad.zoom("0") == 0 && WebMercatorQuad.zoom("22") == 22)
        for bad in ["23", "-1", "07", "+7", "", "7.0", "x"] { #expect(WebMercatorQuad.zoom(bad) == nil, "\(bad)") }
    }

    /// The limits of a layer over Ho Chi Minh City are the tiles mercantile lists for its box
    /// (tile-math/hcmc_tile_vectors_mercantile.json), from the layer's first zoom on.
    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func limitsAreTheTilesTheDataTouches() throws {
        let url = try #require(SharedData.url("tile-math/hcmc_tile_vectors_mercantile.json"))
        let doc = try JSONValue.parse(Data(contentsOf: url))
        let b = doc["hcmc_bbox"]?["bbox"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        let box = BoundingBox(minX: b[0], minY: b[1], maxX: b[2], maxY: b[3])
        let coverage = TileCoverage([TileCoverage.Extent(box: box, firstZoom: 10)])
        #expect(coverage.zooms == Array(10...22))
        for (zoom, expected) in doc["hcmc_bbox"]?["tiles"]?.objectValue ?? [:] {
            let z = try #require(Int(zoom))
            let tiles = (expected.arrayValue ?? []).compactMap { $0.arrayValue?.compactMap(\.doubleValue).map(Int.init) }
            let limits = coverage.limits(zoom: z)
            if z < 10 {
                #expect(limits == nil, "z\(z)")
                continue
            }
            let columns = tiles.map { $0[0] }, rows = tiles.map { $0[1] }
            let west = try #require(columns.min()), east = try #require(columns.max())
            let north = try #require(rows.min()), south = try #require(rows.max())
            #expect(limits?.columns == west...east && limits?.rows == north...south, "z\(z)")
            #expect(tiles.count == (limits?.columns.count ?? 0) * (limits?.rows.count ?? 0), "z\(z): mercantile's tiles fill the rectangle")
        }
        // Ben Thanh market is inside at z12, the Equator is not; nothing below the first zoom.
        #expect(coverage.contains(try #require(TileID.containing(Coordinate(106.698, 10.772), zoom: 12))))
        #expect(!coverage.contains(try #require(TileID.containing(Coordinate(106.698, 0), zoom: 12))))
        #expect(!coverage.contains(try #require(TileID.containing(Coordinate(106.698, 10.772), zoom: 9))))
        // No data, no limits: every tile is in range.
        let root = try #require(TileID(z: 0, x: 0, y: 0))
        #expect(!TileCoverage([]).isLimited && TileCoverage([]).contains(root))
    }

    /// Two layers: each counts from its own first zoom, and the limits hold both.
    @Test func limitsJoinLayersFromTheirOwnFirstZooms() throws {
        let wards = TileCoverage.Extent(box: BoundingBox(minX: 106.6, minY: 10.7, maxX: 106.8, maxY: 10.9), firstZoom: 5)
        let far = TileCoverage.Extent(box: BoundingBox(minX: 107.0, minY: 10.3, maxX: 107.1, maxY: 10.4), firstZoom: 14)
        let coverage = TileCoverage([wards, far])
        #expect(coverage.zooms.first == 5)
        let r13 = try #require(TileID.range(covering: wards.box, zoom: 13))
        #expect(coverage.limits(zoom: 13)?.columns == r13.columns && coverage.limits(zoom: 13)?.rows == r13.rows)
        let a = try #require(TileID.range(covering: wards.box, zoom: 14)), b = try #require(TileID.range(covering: far.box, zoom: 14))
        #expect(coverage.limits(zoom: 14)?.columns == a.columns.lowerBound...b.columns.upperBound)
        #expect(coverage.limits(zoom: 14)?.rows == a.rows.lowerBound...b.rows.upperBound)
    }
}
