import Foundation
import Testing
@testable import Geometry
@testable import Projection

/// SPEC §5: coordinates outside the area of use of their CRS are a wrong CRS, and the usual
/// CRS that fits them is named; data read as VN-2000 / UTM is pointed to its province's TM-3 zone.
@Suite struct AreaOfUseTests {
    static func box(_ x: Double, _ y: Double, _ d: Double) -> BoundingBox { BoundingBox(minX: x, minY: y, maxX: x + d, maxY: y + d) }

    @Test func proj9210sAreaIsHCMCsProvinces() throws {
        let area = try #require(try CRS.vn2000.areaOfUse())
        #expect(area.box == BoundingBox(minX: 105.26, minY: 9.75, maxX: 107.8, maxY: 23.12))
        #expect(area.name.contains("Ho Chi Minh"))
        #expect(try CRS.resolve("vn2000-utm48").areaOfUse()?.box.maxX == 108)
        #expect(try CRS.wgs84.areaOfUse()?.box == BoundingBox(minX: -180, minY: -90, maxX: 180, maxY: 90))
    }

    @Test func lonLatReadAsVN2000IsRefusedAndWGS84Named() throws {
        let check = try AreaOfUseCheck(crs: .vn2000)
        let problem = try #require(check.problem(Self.box(106.7, 10.78, 0.0002)))
        // The finding: the data landed at 101.27°E, −0.0009°N.
        #expect(problem.contains("land at 101.2653°E, -0.0009°N"), "\(problem)")
        #expect(problem.hasSuffix("these look like WGS 84 longitude/latitude: try --crs wgs84"), "\(problem)")
        // HCMC's real TM-3 coordinates (DiTich.shp's first feature) pass.
        #expect(check.problem(BoundingBox(minX: 603_269.96, minY: 1_192_041.07, maxX: 603_300, maxY: 1_192_100)) == nil)
        // Côn Đảo (8.68°N), now in HCMC, is within the margin.
        let conDao = try Transformer(from: .wgs84, to: .vn2000).transform(Coordinate(106.61, 8.68))
        #expect(check.problem(Self.box(conDao.x, conDao.y, 10)) == nil)
    }

    @Test func theUsualCRSThatFitsIsNamed() throws {
        // TM-3 metres said to be longitude/latitude: VN-2000 first among the TM-3 readings.
        let tm3 = BoundingBox(minX: 603_269.96, minY: 1_192_041.07, maxX: 603_300, maxY: 1_192_100)
        #expect(try AreaOfUseCheck(crs: .wgs84).suggestion(tm3).contains("EPSG:9210 (VN-2000 / TM-3 105-45): try --crs vn2000"))
        // Web Mercator metres of HCMC read as VN-2000: off the area, and Web Mercator named.
        let merc = try Transformer(from: .wgs84, to: CRS.resolve("webmercator")).transform(Coordinate(106.7, 10.78))
        let problem = try #require(try AreaOfUseCheck(crs: .vn2000).problem(Self.box(merc.x, merc.y, 20)))
        #expect(problem.hasSuffix("try --crs webmercator"), "\(problem)")
        // Nothing fits: said so.
        #expect(try AreaOfUseCheck(crs: .vn2000).problem(Self.box(-5e7, -5e7, 1))?.contains("none of the usual CRSs") == true)
    }

    @Test func provincesAndTheirZones() {
        #expect(CadastralZones.province(at: Coordinate(105.85, 21.03))?.epsg == 5897)  // Hà Nội, Hoàn Kiếm
        #expect(CadastralZones.province(at: Coordinate(106.72, 10.73))?.epsg == 9210)  // HCMC, District 7
        #expect(CadastralZones.province(at: Coordinate(106.84, 10.95))?.name == "Đồng Nai")  // Biên Hòa
        #expect(CadastralZones.province(at: Coordinate(108.22, 16.06))?.epsg == 5899)  // Đà Nẵng
        #expect(CadastralZones.province(at: Coordinate(2.35, 48.85)) == nil)
        #expect(CadastralZones.meridianText(105.75) == "105°45′" && CadastralZones.meridianText(105) == "105°00′")
        // Every zone of the reference table is a VN-2000 TM-3 code the CRS table knows.
        for p in CadastralZones.provinces { #expect(CRS.vn2000TM3[p.meridian] == p.epsg, "\(p.name)") }
    }
}
