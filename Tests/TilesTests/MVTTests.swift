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
