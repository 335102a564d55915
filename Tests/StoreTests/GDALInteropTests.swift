import Foundation
import Features
import Geometry
import Testing
import Store
import TestSupport

/// The file the store writes must open in GDAL as it is (`ogrinfo`, `ogr2ogr`). Runs when
/// gdal-bin is installed; `.ci/run` installs it, so CI always runs it.
@Suite struct GDALInteropTests {
    static let ogrinfo = SharedData.which("ogrinfo")
    static let ogr2ogr = SharedData.which("ogr2ogr")

    @Test(.enabled(if: ogrinfo != nil && ogr2ogr != nil, Comment(rawValue: "skipped: gdal-bin (ogrinfo, ogr2ogr) not installed")))
    func gdalReadsTheLayerWithItsCountAndExtent() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<57 { try w.put(StoreFixtures.parcel(i)) }
        }
        _ = try store.write(StoreFixtures.request(.append, layer: "bridges")) { w in
            try w.put(Feature(id: "b1", geometry: .lineString([Coordinate(106.7, 10.7), Coordinate(106.71, 10.71)])))
        }
        let info = try #require(try store.layer("parcels"))
        let extent = try #require(info.extent)

        let (status, output) = try SharedData.run(try #require(Self.ogrinfo), ["-so", url.path, "parcels"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("Feature Count: 57"), "\(output)")
        #expect(output.contains("Geometry: Multi Polygon"), "\(output)")
        let expected = String(format: "Extent: (%.6f, %.6f) - (%.6f, %.6f)", extent.minX, extent.minY, extent.maxX, extent.maxY)
        #expect(output.contains(expected), "expected \(expected) in \(output)")
        #expect(!output.contains("ERROR"), "\(output)")

        // ogr2ogr reads every feature back; compare ids and geometries.
        let out = url.deletingLastPathComponent().appendingPathComponent("copy.geojson")
        let copy = try SharedData.run(try #require(Self.ogr2ogr), ["-f", "GeoJSON", out.path, url.path, "parcels"])
        #expect(copy.status == 0, "\(copy.output)")
        let json = try JSONValue.parse(Data(contentsOf: out))
        let features = json["features"]?.arrayValue ?? []
        #expect(features.count == 57)
        for f in features {
            guard let id = f["properties"]?["id"]?.stringValue, let geometry = f["geometry"] else {
                Issue.record("a feature without id or geometry: \(f)")
                continue
            }
            let ours = try #require(try store.feature(layer: "parcels", id: id, asOf: nil))
            // GDAL's GeoJSON writer keeps 15 significant digits: compare within 1e-12°.
            let theirs = try GeoJSONGeometry.decode(geometry)
            var a = [Coordinate](), b = [Coordinate]()
            theirs.forEachCoordinate { a.append($0) }
            ours.geometry?.forEachCoordinate { b.append($0) }
            #expect(theirs.typeName == ours.geometry?.typeName)
            #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0.x - $1.x) < 1e-12 && abs($0.y - $1.y) < 1e-12 }, "\(id)")
            #expect(f["properties"]?["land_use"] == "ODT")
        }

        // GDAL's own GeoPackage validation (its driver checks the R-tree and triggers).
        let all = try SharedData.run(try #require(Self.ogrinfo), ["-so", "-al", url.path])
        #expect(all.output.contains("Layer name: bridges"), "\(all.output)")
        #expect(!all.output.contains("ERROR") && !all.output.contains("Warning"), "\(all.output)")
    }

    @Test(.enabled(if: ogrinfo != nil, Comment(rawValue: "skipped: gdal-bin (ogrinfo) not installed")))
    func theSpatialIndexIsTheOneGDALUses() throws {
        let (store, url) = try StoreFixtures.store()
        _ = try store.write(StoreFixtures.request(.append)) { w in
            for i in 0..<40 { try w.put(StoreFixtures.parcel(i)) }
        }
        // A spatial filter through GDAL hits the same 10 parcels of the first row as our R-tree.
        let (status, output) = try SharedData.run(try #require(Self.ogrinfo), [
            "-q", url.path, "parcels", "-spat", "106.6999", "10.7799", "106.8", "10.78015", "-sql",
            "SELECT count(*) AS n FROM parcels WHERE fid IN (SELECT id FROM rtree_parcels_geom WHERE minx <= 106.8 AND maxx >= 106.6999 AND miny <= 10.78015 AND maxy >= 10.7799)",
        ])
        #expect(status == 0, "\(output)")
        #expect(output.contains("n (Integer) = 10"), "\(output)")
    }
}
