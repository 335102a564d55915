import Foundation
import Testing
import TestSupport
@testable import Geometry
@testable import Projection

@Suite struct ProjectionTests {
    /// The known answer of the foundation issue, from PROJ 9 with EPSG's VN-2000 → WGS 84 (2).
    @Test func hcmcPointToVN2000() throws {
        let t = try Transformer(from: .wgs84, to: CRS.resolve("vn2000"))
        let p = try t.transform(Coordinate(106.7, 10.78))
        #expect(abs(p.x - 603_696.965) < 0.001)
        #expect(abs(p.y - 1_192_284.864) < 0.001)
    }

    @Test func aliasesResolve() throws {
        #expect(try CRS.resolve("vn2000") == CRS.resolve("EPSG:9210"))
        #expect(try CRS.resolve("vn2000").epsg == 9210)
        #expect(try CRS.resolve("wgs84").epsg == 4326)
        #expect(try CRS.resolve("webmercator").epsg == 3857)
        #expect(try CRS.resolve("vn2000-utm48").epsg == 3405)
        #expect(try CRS.resolve("vn2000-geo").epsg == 4756)
        #expect(try CRS.resolve("http://www.opengis.net/def/crs/OGC/1.3/CRS84").epsg == 4326)
        #expect(try CRS.resolve("http://www.opengis.net/def/crs/EPSG/0/3405").epsg == 3405)
        #expect(try CRS.resolve("urn:ogc:def:crs:EPSG::9210").epsg == 9210)
        #expect(throws: ProjectionError.self) { try CRS.resolve("EPSG:999999") }
        #expect(throws: ProjectionError.self) { try CRS.resolve("not a crs") }
    }

    /// 10 000 points on a grid over HCMC's extent: VN-2000 → WGS 84 → VN-2000 within 1 mm.
    @Test func roundTripWithinOneMillimetre() throws {
        let t = try Transformer(from: .vn2000, to: .wgs84)
        var points = [Coordinate]()
        for i in 0..<100 {
            for j in 0..<100 {
                // Easting 560–660 km, northing 1 140–1 260 km: Cần Giờ to Củ Chi.
                points.append(Coordinate(560_000 + Double(i) * 1_000 + 0.123, 1_140_000 + Double(j) * 1_200 + 0.456))
            }
        }
        var moved = points
        try t.transform(&moved)
        #expect(moved.allSatisfy { (106.0...107.5).contains($0.x) && (10.0...11.5).contains($0.y) })
        try t.transform(&moved, inverse: true)
        let worst = zip(points, moved).map { hypot($0.x - $1.x, $0.y - $1.y) }.max() ?? .infinity
        #expect(worst < 0.001, "worst round-trip error \(worst) m")
    }

    /// HCMGIS's `VN2000_HCM` .prj has no datum shift of its own: it must resolve to EPSG:9210
    /// and transform exactly as EPSG:9210 does (not ~200 m off, as a bare TM would).
    @Test(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
    func hcmgisPrjFilesResolveToEPSG9210() throws {
        let folder = try #require(SharedData.url("hcmc-vn2000-hcmgis"))
        let prjs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".prj") }
        #expect(prjs.count == 3)
        let reference = try Transformer(from: .vn2000, to: .wgs84)
        let sample = Coordinate(602_000, 1_191_500)
        let expected = try reference.transform(sample)
        for prj in prjs {
            let text = try String(contentsOf: folder.appendingPathComponent(prj), encoding: .utf8)
            let crs = try CRS.resolve(text)
            #expect(crs.epsg == 9210, "\(prj) resolved to \(crs)")
            let got = try Transformer(from: crs, to: .wgs84).transform(sample)
            #expect(abs(got.x - expected.x) < 1e-9 && abs(got.y - expected.y) < 1e-9, "\(prj)")
        }
    }

    @Test func wktWithoutEPSGEquivalentStaysCustom() throws {
        // A TM on the Hanoi meridian with an odd false northing: no EPSG CRS matches.
        let crs = try CRS.resolve("+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=12345 +ellps=WGS84 +units=m +type=crs")
        #expect(crs.epsg == nil)
        let p = try Transformer(from: .wgs84, to: crs).transform(Coordinate(105, 0))
        #expect(abs(p.x - 500_000) < 1e-6 && abs(p.y - 12_345) < 1e-6)
    }

    /// What MapInfo writes for EPSG:9210: TM-3 105°45′ on a bare WGS 84 datum.
    @Test func tm3OnBareWGS84IsReadAsVN2000() throws {
        let mapinfo = #"PROJCS["unnamed",GEOGCS["unnamed",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105.75],PARAMETER["scale_factor",0.9999],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]"#
        let (crs, note) = try CRS.resolveDeclared(mapinfo)
        #expect(crs.epsg == 9210 && note?.contains("EPSG:9210") == true)
        #expect(try CRS.resolveDeclared("+proj=tmerc +lat_0=0 +lon_0=107.75 +k=0.9999 +x_0=500000 +ellps=WGS84 +type=crs").crs.epsg == 5899)
        // UTM on WGS 84 is what it says it is.
        #expect(try CRS.resolveDeclared("+proj=utm +zone=48 +datum=WGS84 +type=crs").note == nil)
        #expect(try CRS.resolveDeclared("+proj=tmerc +lat_0=0 +lon_0=105.75 +k=0.9996 +x_0=500000 +ellps=WGS84 +type=crs").crs.epsg == nil)
    }

    @Test func cadastralAreaOfAHectare() throws {
        // A 100 m × 100 m square drawn in VN-2000 measures one hectare after a trip through WGS 84.
        let toLonLat = try Transformer(from: .vn2000, to: .wgs84)
        let square = try toLonLat.transform(BoundingBox(minX: 603_000, minY: 1_192_000, maxX: 603_100, maxY: 1_192_100).polygon)
        #expect(abs(try CadastralArea().squareMetres(of: square) - 10_000) < 1e-4)
    }

    @Test func failuresNameTheCoordinate() throws {
        let t = try Transformer(from: .wgs84, to: .vn2000)
        var cs = [Coordinate(106.7, 10.78), Coordinate(500, 95)]
        #expect(throws: ProjectionError.self) { try t.transform(&cs) }
    }
}
