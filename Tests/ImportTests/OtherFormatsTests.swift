import Backends
import Foundation
import Geometry
@testable import Import
import Projection
import Store
import Testing
import TestSupport

/// DXF, DGN (v7), MapInfo TAB/MIF and GeoPackage inputs, made from one GeoJSON with ogr2ogr
/// (gdal-bin; CI installs it) in VN-2000, the way survey offices deliver them.
@Suite(.enabled(if: SharedData.which("ogr2ogr") != nil, Comment(rawValue: "skipped: gdal-bin (ogr2ogr) not installed")))
struct OtherFormatsTests {
    static let cases: [(driver: String, ext: String, needsCRS: Bool)] = [
        ("DXF", "dxf", true), ("DGN", "dgn", true), ("MapInfo File", "tab", false), ("MapInfo File", "mif", false), ("GPKG", "gpkg", false),
    ]

    @Test func surveyFormatsImport() throws {
        let dir = try SharedData.temporaryDirectory("formats")
        let source = dir.appendingPathComponent("source.geojson").path
        try Data(ImportFixtures.parcelsGeoJSON(count: 6).utf8).write(to: URL(fileURLWithPath: source))
        let ogr2ogr = try #require(SharedData.which("ogr2ogr"))
        let reference = try #require(try Importer(store: ImportFixtures.store()).run([source], ImportOptions(layer: "ref")).written)
        #expect(reference.inserted == 6)

        for c in Self.cases {
            let out = dir.appendingPathComponent("parcels.\(c.ext)").path
            var args = ["-f", c.driver, "-t_srs", "EPSG:9210", out, source]
            if c.ext == "mif" { args.insert(contentsOf: ["-dsco", "FORMAT=MIF"], at: 2) }
            let made = try SharedData.run(ogr2ogr, args)
            #expect(made.status == 0, "\(c.ext): \(made.output)")
            var options = ImportOptions(layer: "survey_\(c.ext)")
            if c.needsCRS {
                // DXF and DGN carry no CRS: without --crs they are refused, with it they import.
                #expect(throws: (any Error).self) { try Importer.validate([out], options, scratch: StoreLocation.scratch) }
                options.crs = try CRS.resolve("vn2000")
            }
            let store = try ImportFixtures.store()
            let report = try Importer(store: store).run([out], options)
            #expect(report.read == 6 && report.errors.isEmpty, "\(c.ext): \(report.text())")
            // Back in WGS 84 where the parcels started (DXF/DGN store polygons as closed shapes).
            if c.ext == "tab" || c.ext == "mif" {
                // MapInfo cannot say "VN-2000": GDAL writes TM-3 on bare WGS 84, which we read as VN-2000.
                #expect(report.files[0].notes.contains { $0.contains("EPSG:9210") }, "\(c.ext): \(report.files[0].notes)")
            }
            let box = try #require(try store.layer(options.layer)?.extent)
            #expect(abs(box.minX - 106.70) < 1e-6 && abs(box.minY - 10.78) < 1e-6, "\(c.ext): \(box)")
        }
    }
}
