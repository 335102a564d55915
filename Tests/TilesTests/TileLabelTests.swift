import GeoPackage
import Features
import Foundation
import Geometry
import Import
import Store
import Testing
import TestSupport
@testable import Tiles

/// Labels come from one point per feature, in the `<layer>-label` layers, not from each piece a
/// tile edge cuts a polygon into (parcel numbers twice in one parcel, ward names three times at z12).
@Suite struct TileLabelTests {
    static let store: Result<GeoPackageStore, any Error> = Result {
        let store = try GeoPackageStore(path: SharedData.temporaryDirectory("labels").appendingPathComponent("t.gpkg").path)
        _ = try SampleLoader.load(from: SharedData.packageRoot.appendingPathComponent("GeoData"), into: store, actor: "tests")
        return store
    }

    /// Every tile of a zoom over the layers' extent: each feature's label is in exactly one tile
    /// (the one holding its label point, which lies inside the feature), drawn where that point
    /// is, with its id and the public fields a label shows; every feature large enough at the
    /// zoom to hold a label is labelled in `once` layers (those where every such feature is
    /// drawn: at z12 small parcels and plots are thinned away).
    @Test(arguments: [(12, ["admin", "zoning", "parcels"], ["admin"]), (16, ["zoning", "parcels"], ["zoning", "parcels"])])
    func eachFeatureIsLabelledOnceFromAPointInsideIt(zoom: Int, layers: [String], once: [String]) throws {
        let store = try Self.store.get()
        let geos = try GeosContext()
        var extent: BoundingBox?
        var features = [String: [String: Feature]]()
        for name in layers {
            let info = try #require(try store.layer(name))
            let e = try #require(info.extent)
            if extent == nil { extent = e } else { extent?.expand(toInclude: e) }
            let all = try store.features(layer: name, intersecting: e, asOf: nil, limit: 1_000_000, offset: 0)
            features[name] = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(all.count > 5)
        }
        let tiles = TileID.covering(try #require(extent), zoom: zoom)
        let covered = Set(tiles)
        let renderer = try TileRenderer(store: store)
        var seen = [String: [String: [TileID]]]()
        for tile in tiles {
            let rendered = try renderer.mvt(layers: layers, tile: tile, hidden: { $0.privateFields })
            let frame = TileRenderer.TileFrame(tile)
            for layer in try DecodedTile(rendered.mvt).layers where layer.name.hasSuffix("-label") {
                let name = String(layer.name.dropLast("-label".count))
                #expect(layers.contains(name) && !layer.keys.contains("owner") && !layer.keys.contains("owner_id"))
                for f in layer.features {
                    #expect(f.type == 1)
                    var props = [String: JSONValue]()
                    for pair in stride(from: 0, to: f.tags.count - 1, by: 2) { props[layer.keys[Int(f.tags[pair])]] = layer.values[Int(f.tags[pair + 1])] }
                    let id = try #require(props["id"]?.stringValue)
                    #expect(Set(props.keys).isSubset(of: TileRenderer.labelFields(of: name).union(["id"])), "\(name): \(props.keys.sorted())")
                    seen[name, default: [:]][id, default: []].append(tile)
                    let feature = try #require(features[name]?[id])
                    if name == "parcels" { #expect(props["number"] == feature.properties["number"]) }
                    if name == "admin" { #expect(props["name"] == feature.properties["name"]) }
                    // Drawn at the feature's label point, which lies inside it and in this tile.
                    let g = try geos.geometry(try #require(feature.geometry))
                    let p = try #require(try g.labelPoint())
                    #expect(try g.contains(geos.point(p)), "\(name) \(id)")
                    #expect(TileID.containing(p, zoom: zoom) == tile)
                    guard case .multiPoint(let points) = try DecodedTile.geometry(f), points.count == 1, let drawn = points.first else {
                        Issue.record("\(name) \(id): not one point")
                        continue
                    }
                    let local = frame.tileCoordinate(p)
                    #expect(abs(drawn.x - local.x) <= 0.5 && abs(drawn.y - local.y) <= 0.5, "\(name) \(id): \(drawn) vs \(local)")
                }
            }
        }
        for name in layers {
            let labelled = seen[name] ?? [:]
            #expect(labelled.values.allSatisfy { $0.count == 1 }, "\(name): \(labelled.filter { $0.value.count > 1 }.count) labelled more than once")
            guard once.contains(name), let all = features[name] else { continue }
            // Every feature whose label point lies in the covered tiles, and which is large
            // enough at this zoom to hold a label, is labelled, once.
            var expected = 0
            for f in all.values {
                guard let g = f.geometry, let p = try geos.geometry(g).labelPoint(), let home = TileID.containing(p, zoom: zoom), covered.contains(home),
                      let area = try WKB.encode(g).withUnsafeBytes({ try WKB.planarArea($0, projected: TileRenderer.TileFrame(home).tileCoordinate) }),
                      area >= TileRenderer.labelMinArea else { continue }
                expected += 1
                #expect(labelled[f.id] == [home], "\(name) \(f.id)")
            }
            #expect(expected > 0 && labelled.count == expected, "\(name)")
            print("z\(zoom) \(name): \(labelled.count) of \(all.count) labelled")
        }
    }
}
