import GeoPackage
import Foundation
import Geometry
import Import
import Store
import Testing
@testable import Tiles
import TestSupport

@Suite struct MVTTests {
    /// Our decoder reads every valid fixture of the MVT specification exactly as its tile.json says.
    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func decoderAgreesWithTheSpecFixtures() throws {
        let root = try #require(SharedData.url("mvt-fixtures/fixtures"))
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            let dir = root.appendingPathComponent(name)
            guard let info = try? JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("info.json"))),
                  info["validity"]?["v2"] == .bool(true),
                  let expected = try? JSONValue.parse(Data(contentsOf: dir.appendingPathComponent("tile.json"))),
                  let bytes = try? Data(contentsOf: dir.appendingPathComponent("tile.mvt")) else { continue }
            let tile = try DecodedTile([UInt8](bytes))
            let layers = expected["layers"]?.arrayValue ?? []
            #expect(tile.layers.count == layers.count, "\(name)")
            for (l, e) in zip(tile.layers, layers) {
                #expect(l.name == e["name"]?.stringValue, "\(name)")
                #expect(l.keys == (e["keys"]?.arrayValue ?? []).compactMap(\.stringValue), "\(name)")
                let geoms = (e["features"]?.arrayValue ?? []).map { ($0["geometry"]?.arrayValue ?? []).compactMap { $0.doubleValue.map { UInt64($0) } } }
                #expect(l.features.map(\.geometry) == geoms, "\(name)")
            }
            checked += 1
        }
        #expect(checked >= 40)
    }

    @Test func encoderWritesTheSpecsExamplePoint() throws {
        // Fixture 017 of the spec: one point at (25, 17) with hello=world, id 1.
        var layer = MVTLayer(name: "hello")
        layer.add(id: 1, geometry: .point(Coordinate(25, 17)), properties: [("hello", "world")])
        let tile = try DecodedTile(MVTLayer.tile([layer]))
        #expect(tile.layers.first?.features.first?.geometry == [9, 50, 34])
        #expect(tile.layers.first?.keys == ["hello"] && tile.layers.first?.values == ["world"])
        #expect(tile.layers.first?.version == 2 && tile.layers.first?.extent == 4096)
    }

    /// Sample tiles from z10 to z18 over the D7 parcels decode, and every polygon in them is valid.
    @Test func renderedTilesDecodeToValidPolygons() throws {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("tiles").appendingPathComponent("t.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        let renderer = try TileRenderer(store: store)
        let geos = try GeosContext()
        let centre = Coordinate(106.7483, 10.7348)
        var polygons = 0
        for z in 10...18 {
            let t = try #require(TileID.containing(centre, zoom: z))
            for tile in [t, TileID(z: z, x: t.x + 1, y: t.y), TileID(z: z, x: t.x, y: t.y + 1)].compactMap({ $0 }) {
                let rendered = try renderer.mvt(layers: ["parcels", "zoning", "admin"], tile: tile, hidden: { $0.privateFields })
                #expect(rendered.mvt.count <= TileRenderer.sizeTarget)
                for layer in try DecodedTile(rendered.mvt).layers {
                    #expect(!layer.keys.contains("owner") && !layer.keys.contains("owner_id"))
                    for f in layer.features where f.type == 3 {
                        let g = try DecodedTile.geometry(f)
                        let validity = try geos.geometry(g).validity()
                        #expect(validity.isValid, "\(tile) \(layer.name): \(validity)")
                        polygons += 1
                    }
                }
            }
        }
        #expect(polygons > 1_000)
    }
}

@Suite struct TileThinningTests {
    /// A tile over the sample's densest blocks, rendered with a small size target: it fits,
    /// and what was left out is exactly the smaller polygons, cut at one step of the ladder.
    @Test(arguments: [14, 15, 16, 17], [2, 5])
    func thinningDropsTheSmallestFeaturesFirst(zoom: Int, shrink: Int) throws {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("thin").appendingPathComponent("t.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        let tile = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: zoom))
        let full = try TileRenderer(store: store).mvt(layers: ["parcels"], tile: tile, hidden: { $0.privateFields })
        let areas = try Self.areas(full.mvt)
        #expect(areas.count > 300)
        let target = full.mvt.count / shrink
        let thin = try TileRenderer(store: store, sizeTarget: target).mvt(layers: ["parcels"], tile: tile, hidden: { $0.privateFields })
        #expect(thin.mvt.count <= target)
        let kept = try Self.areas(thin.mvt)
        #expect(!kept.isEmpty && kept.count < areas.count)
        // Kept features are drawn exactly as in the full tile.
        for (id, area) in kept { #expect(areas[id] == area, "\(id)") }
        // One step of the ladder (64·4ᵏ tile units²) separates kept from dropped.
        let smallestKept = try #require(kept.values.min())
        let largestDropped = try #require(areas.filter { kept[$0.key] == nil }.values.max())
        let step = (0...7).map { 64 * pow(4.0, Double($0)) }.first { $0 > largestDropped }
        let cut = try #require(step)
        #expect(smallestKept >= cut, "kept from \(smallestKept), dropped up to \(largestDropped)")
        // ...and it is the first step that fits: one step lower would not have.
        #expect(try Self.size(full.mvt, keepingFrom: cut / 4) > target)
    }

    /// Wards and zones that fill the tile are larger than the ladder's top step (64·4⁷ tile
    /// units²): they stay even when they alone overflow the target, as a map without its ward
    /// boundary would be worse than a large tile. Everything smaller than that step goes.
    @Test func featuresAboveTheTopStepAreNeverThinnedAway() throws {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("top").appendingPathComponent("t.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        let tile = try #require(TileID.containing(Coordinate(106.7483, 10.7348), zoom: 16))
        let layers = ["parcels", "zoning", "admin"]
        let full = try TileRenderer(store: store).mvt(layers: layers, tile: tile, hidden: { $0.privateFields })
        let tiny = try TileRenderer(store: store, sizeTarget: 1).mvt(layers: layers, tile: tile, hidden: { $0.privateFields })
        let top = 64.0 * 16_384
        func large(_ mvt: [UInt8]) throws -> [String: Int] {
            var out = [String: Int]()
            for layer in try DecodedTile(mvt).layers where !layer.name.hasSuffix("-label") {
                out[layer.name] = try layer.features.filter { try DecodedTile.geometry($0).planarArea >= top }.count
            }
            return out
        }
        let expected = try large(full.mvt)
        #expect((full.featureCounts["parcels"] ?? 0) > 0 && expected.values.reduce(0, +) >= 2)
        #expect(tiny.featureCounts["parcels"] ?? 0 == 0)
        #expect(try large(tiny.mvt) == expected.filter { $0.value > 0 })
        #expect(tiny.featureCounts.values.reduce(0, +) == expected.values.reduce(0, +))
    }

    /// The size of the polygons of the tile re-encoded with the features of at least `minArea`,
    /// largest first (label points fill what room is left: they never thin polygons).
    static func size(_ mvt: [UInt8], keepingFrom minArea: Double) throws -> Int {
        var layers = [MVTLayer]()
        for layer in try DecodedTile(mvt).layers where !layer.name.hasSuffix("-label") {
            var out = MVTLayer(name: layer.name)
            let features = try layer.features.map { ($0, try DecodedTile.geometry($0)) }.sorted { $0.1.planarArea > $1.1.planarArea }
            for (f, g) in features where g.planarArea >= minArea {
                let props = stride(from: 0, to: f.tags.count - 1, by: 2).map { (layer.keys[Int(f.tags[$0])], layer.values[Int(f.tags[$0 + 1])]) }
                out.add(id: nil, geometry: g, properties: props)
            }
            layers.append(out)
        }
        return MVTLayer.tile(layers).count
    }

    /// Parcel id → polygon area in tile units, from a decoded tile.
    static func areas(_ mvt: [UInt8]) throws -> [String: Double] {
        var out = [String: Double]()
        for layer in try DecodedTile(mvt).layers where !layer.name.hasSuffix("-label") {
            let idKey = try #require(layer.keys.firstIndex(of: "id"))
            for f in layer.features {
                var id: String?
                for pair in stride(from: 0, to: f.tags.count - 1, by: 2) where Int(f.tags[pair]) == idKey {
                    id = layer.values[Int(f.tags[pair + 1])].stringValue
                }
                out[try #require(id)] = try DecodedTile.geometry(f).planarArea
            }
        }
        return out
    }
}

@Suite struct MVTSizeTests {
    /// The renderer decides when a tile is full from `tileSize`, so it must be exact.
    @Test func sizesMatchTheEncodedBytes() {
        var a = MVTLayer(name: "parcels"), b = MVTLayer(name: "zoning")
        #expect(MVTLayer.tileSize([a, b]) == MVTLayer.tile([a, b]).count)
        for i in 0..<300 {
            let ring = [Coordinate(0, 0), Coordinate(Double(i), 0), Coordinate(Double(i), Double(i * 3)), Coordinate(0, 0)]
            a.add(id: nil, geometry: .polygon([ring]), properties: [("id", .string("p\(i)")), ("n", .integer(Int64(i % 7))), ("x", .number(Double(i) / 3))])
            if i % 5 == 0 { b.add(id: UInt64(i), geometry: .point(Coordinate(Double(i), 1)), properties: [("name", .string(String(repeating: "z", count: i)))]) }
            #expect(a.encodedSize == a.encoded().count)
            #expect(MVTLayer.tileSize([a, b]) == MVTLayer.tile([a, b]).count)
        }
    }
}
