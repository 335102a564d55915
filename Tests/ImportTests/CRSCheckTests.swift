import Backends
import Foundation
import Geometry
@testable import Import
import Projection
import Store
import Testing
import TestSupport

/// A file's coordinates must lie in the area of use of the CRS they are read in; data read as
/// VN-2000 / UTM where cadastral maps use a TM-3 zone is warned about.
@Suite struct CRSCheckTests {
    /// Three 20 m squares at `x, y` (WGS 84), written in `crs`.
    static func squares(at x: Double, _ y: Double, in crs: CRS, name: String) throws -> String {
        let t = try Transformer(from: .wgs84, to: crs)
        let features = try (0..<3).map { i -> String in
            let x0 = x + Double(i) * 0.001, d = 0.00018
            let ring = try [(x0, y), (x0 + d, y), (x0 + d, y + d), (x0, y + d), (x0, y)].map { try t.transform(Coordinate($0.0, $0.1)) }
            let coords = ring.map { "[\(WKT.number($0.x)),\(WKT.number($0.y))]" }.joined(separator: ",")
            return #"{"type":"Feature","properties":{"MaXa":"1","SoTo":1,"SoThua":\#(i + 1)},"geometry":{"type":"Polygon","coordinates":[[\#(coords)]]}}"#
        }
        return try ImportFixtures.write(#"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#, name: name)
    }

    @Test func lonLatImportedAsVN2000IsRefusedNamingWGS84() throws {
        let path = try Self.squares(at: 106.70, 10.78, in: .wgs84, name: "lonlat.geojson")
        let store = try ImportFixtures.store()
        var options = ImportOptions(layer: "parcels")
        options.crs = .vn2000
        do {
            _ = try Importer(store: store).run([path], options)
            Issue.record("lon/lat read as VN-2000 must be refused")
        } catch let refused as ImportRefused {
            #expect(refused.report.errors.count == 3 && refused.report.errors.allSatisfy { $0.kind == .wrongCRS })
            let first = try #require(refused.report.errors.first)
            #expect(first.index == 1 && first.message.contains("outside its area of use") && first.message.hasSuffix("try --crs wgs84"), "\(first.message)")
        }
        #expect(try store.layer("parcels") == nil)
        // validate says the same and writes nothing.
        let report = try Importer.validate([path], options, scratch: StoreLocation.scratch)
        #expect(report.errors.map(\.kind) == [.wrongCRS, .wrongCRS, .wrongCRS])
    }

    @Test func utmDataInHanoiIsPointedToTM3Zone482() throws {
        let path = try Self.squares(at: 105.85, 21.03, in: CRS.resolve("vn2000-utm48"), name: "hanoi-utm.geojson")
        var options = ImportOptions(layer: "parcels")
        options.crs = try CRS.resolve("vn2000-utm48")
        let report = try Importer(store: ImportFixtures.store()).run([path], options)
        #expect(report.written?.inserted == 3)
        let advice = report.warnings.filter { $0.kind == .cadastralZone }
        #expect(advice.count == 1, "one warning per zone and file")
        let message = try #require(advice.first?.message)
        #expect(message.contains("Hà Nội") && message.contains("EPSG:5897, central meridian 105°00′E") && message.contains("try --crs EPSG:5897"), "\(message)")
        // The issue's ~700 m between the two readings.
        let metres = message.split(separator: " ").compactMap { Int($0) }.last ?? 0
        #expect((650...750).contains(metres), "\(message)")
    }

    @Test func utmDataInHCMCNamesVN2000AndTM3DataHasNoWarning() throws {
        var options = ImportOptions(layer: "parcels")
        options.crs = try CRS.resolve("vn2000-utm48")
        let utm = try Self.squares(at: 106.70, 10.78, in: #require(options.crs), name: "hcmc-utm.geojson")
        let report = try Importer.validate([utm], options, scratch: StoreLocation.scratch)
        #expect(report.warnings.filter { $0.kind == .cadastralZone }.first?.message.contains("try --crs EPSG:9210") == true)
        options.crs = .vn2000
        let tm3 = try Self.squares(at: 106.70, 10.78, in: .vn2000, name: "hcmc-tm3.geojson")
        let clean = try Importer.validate([tm3], options, scratch: StoreLocation.scratch)
        #expect(clean.findings.filter { $0.kind == .cadastralZone || $0.kind == .wrongCRS }.isEmpty)
    }
}
