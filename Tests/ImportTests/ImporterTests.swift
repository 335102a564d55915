import Backends
import Formats
import Foundation
import Geometry
@testable import Import
import Projection
import Store
import Testing
import TestSupport

@Suite struct ImporterTests {
    @Test func importsParcelsWithMappedFieldsIdsAndAreas() throws {
        let file = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 12, declared: [3: 500]), name: "thua.geojson")
        let store = try ImportFixtures.store()
        let report = try Importer(store: store).run([file], ImportOptions(layer: "parcels"))
        #expect(report.written?.inserted == 12)
        #expect(report.files[0].mapping == ["SoTo": "sheet", "SoThua": "number", "MaXa": "ward_code", "LoaiDat": "land_use", "DienTich": "declared_area_m2"])
        let f = try #require(try store.feature(layer: "parcels", id: "26734-7-4", asOf: nil))
        #expect(f.properties["sheet"] == .integer(7))
        #expect(f.properties["GhiChu"] == "thửa 3")  // other fields kept as they are
        // 0.00018° × 0.00018° at 10.78°N, measured in VN-2000 / TM-3 105°45′.
        let area = try #require(f.properties["area_m2"]?.doubleValue)
        let expected = try CadastralArea().squareMetres(of: #require(f.geometry))
        #expect(abs(area - expected) < 0.01 && (385...395).contains(area))
        // Only the parcel declared as 500 m² is reported as a mismatch.
        let mismatches = report.findings.filter { $0.kind == .areaMismatch }
        #expect(mismatches.map(\.index) == [4] && mismatches[0].severity == .warning)
    }

    @Test func anInvalidParcelMakesTheImportWriteNothing() throws {
        let store = try ImportFixtures.store()
        let good = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 5), name: "a.geojson")
        _ = try Importer(store: store).run([good], ImportOptions(layer: "parcels"))
        let before = try #require(try store.layer("parcels"))
        let bad = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 20, bowtieAt: 9), name: "b.geojson")
        var options = ImportOptions(layer: "parcels")
        options.mode = .upsert
        do {
            _ = try Importer(store: store).run([bad], options)
            Issue.record("an import with an invalid geometry must be refused")
        } catch let refused as ImportRefused {
            let error = try #require(refused.report.errors.first)
            #expect(error.kind == .invalidGeometry && error.index == 10 && error.key == "26734-7-10")
            #expect(error.message.contains("Self-intersection"))
            #expect(error.location != nil)
        }
        let after = try #require(try store.layer("parcels"))
        #expect(after.featureCount == before.featureCount && after.dataVersion == before.dataVersion)

        // --skip-invalid imports the rest; --fix repairs it.
        options.skipInvalid = true
        let skipped = try Importer(store: store).run([bad], options)
        #expect(skipped.skipped == 1 && skipped.written?.inserted == 14 && skipped.written?.unchanged == 5)
        options.skipInvalid = false
        options.fix = true
        let fixed = try Importer(store: store).run([bad], options)
        #expect(fixed.fixed == 1 && fixed.written?.inserted == 1)
        #expect(try store.feature(layer: "parcels", id: "26734-7-10", asOf: nil)?.geometry?.isAreal == true)
    }

    @Test func overlappingParcelsAreReportedWithTheSharedArea() throws {
        // Parcel 2 drawn over the east half of parcel 1 (≈ 195 m² shared), parcel 3 only touches 2.
        func parcel(_ n: Int, _ x: Double) -> String {
            let ring = [[x, 10.78], [x + 0.00018, 10.78], [x + 0.00018, 10.78018], [x, 10.78018], [x, 10.78]]
            return #"{"type":"Feature","properties":{"MaXa":"26734","SoTo":7,"SoThua":\#(n)},"geometry":{"type":"Polygon","coordinates":[\#(ring)]}}"#
        }
        let text = #"{"type":"FeatureCollection","features":[\#(parcel(1, 106.7)),\#(parcel(2, 106.70009)),\#(parcel(3, 106.70027))]}"#
        let report = try Importer.validate([try ImportFixtures.write(text, name: "o.geojson")], ImportOptions(layer: "parcels"), scratch: StoreLocation.scratch)
        let overlaps = report.findings.filter { $0.kind == .overlap }
        #expect(overlaps.count == 1, "\(report.text())")
        #expect(overlaps.first?.key == "26734-7-2" && overlaps.first?.message.hasPrefix("overlaps parcel 26734-7-1 by ") == true)
        let m2 = Double(overlaps.first?.message.split(separator: " ")[4] ?? "") ?? 0
        #expect((180...200).contains(m2), "\(m2)")
    }

    /// A re-survey in replace mode: the same ground under new sheet numbers must not be reported
    /// as overlapping the parcels it replaces.
    @Test func replacingALayerDoesNotOverlapItsOldSelf() throws {
        let store = try ImportFixtures.store()
        _ = try Importer(store: store).run([try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 8), name: "old.geojson")], ImportOptions(layer: "parcels"))
        let resurvey = ImportFixtures.parcelsGeoJSON(count: 8).replacingOccurrences(of: #""SoTo":7"#, with: #""SoTo":9"#)
        var options = ImportOptions(layer: "parcels")
        options.mode = .replace
        let report = try Importer(store: store).run([try ImportFixtures.write(resurvey, name: "new.geojson")], options)
        #expect(report.findings.filter { $0.kind == .overlap }.isEmpty, "\(report.text())")
        #expect(report.written?.inserted == 8 && report.written?.deleted == 8)
    }

    @Test func dryRunAndValidateWriteNothing() throws {
        let store = try ImportFixtures.store()
        let file = try ImportFixtures.write(ImportFixtures.parcelsGeoJSON(count: 3), name: "c.geojson")
        var options = ImportOptions(layer: "parcels")
        options.dryRun = true
        let report = try Importer(store: store).run([file], options)
        #expect(report.accepted == 3 && report.written == nil)
        #expect(try store.layers().isEmpty)
    }

    @Test func duplicateKeysAreErrorsNamingTheFeature() throws {
        let text = ImportFixtures.parcelsGeoJSON(count: 2).replacingOccurrences(of: #""SoThua":2"#, with: #""SoThua":1"#)
        let report = try Importer.validate([try ImportFixtures.write(text, name: "d.geojson")], ImportOptions(layer: "parcels"), scratch: StoreLocation.scratch)
        #expect(report.errors.map(\.kind) == [.duplicateKey])
        #expect(report.errors.first?.index == 2)
    }

    @Test func vn2000CoordinatesAreReprojectedAndChecked() throws {
        // A 20 m square in VN-2000 / TM-3 105°45′, then the same with X and Y swapped.
        let csv = "wkt,id\n\"POLYGON((603000 1192000,603020 1192000,603020 1192020,603000 1192020,603000 1192000))\",a\n"
        let file = try ImportFixtures.write(csv, name: "vn.csv")
        #expect(throws: FormatError.self) { try Importer.validate([file], ImportOptions(layer: "zoning"), scratch: StoreLocation.scratch) }
        var options = ImportOptions(layer: "zoning")
        options.crs = try CRS.resolve("vn2000")
        options.keyField = "id"
        let store = try ImportFixtures.store()
        let report = try Importer(store: store).run([file], options)
        #expect(report.written?.inserted == 1)
        let g = try #require(try store.feature(layer: "zoning", id: "a", asOf: nil)?.geometry)
        let box = try #require(g.boundingBox)
        #expect((106.69...106.71).contains(box.minX) && (10.77...10.79).contains(box.minY))
        #expect(abs((try store.feature(layer: "zoning", id: "a", asOf: nil)?.properties["area_m2"]?.doubleValue ?? 0) - 400) < 0.01)

        let swapped = try ImportFixtures.write("wkt,id\n\"POLYGON((1192000 603000,1192020 603000,1192020 603020,1192000 603000))\",b\n", name: "swap.csv")
        let bad = try Importer.validate([swapped], options, scratch: StoreLocation.scratch)
        #expect(bad.errors.first?.kind == .outOfRange)
        #expect(bad.errors.first?.message.contains("swapped") == true)
    }

    @Test func legacyEncodingsInCSVAreDecoded() throws {
        let dir = try SharedData.temporaryDirectory("enc")
        let tcvn = dir.appendingPathComponent("tcvn.csv")
        // "Xin chào các bạn" in TCVN3 bytes.
        var bytes = Array("wkt,ten\n\"POINT(106.7 10.78)\",Xin ch".utf8)
        bytes += [0xB5] + Array("o c".utf8) + [0xB8] + Array("c b".utf8) + [0xB9] + Array("n\n".utf8)
        try Data(bytes).write(to: tcvn)
        var options = ImportOptions(layer: "poi")
        options.crs = .wgs84
        let store = try ImportFixtures.store()
        let report = try Importer(store: store).run([tcvn.path], options)
        #expect(report.files[0].encoding.hasPrefix("tcvn3"))
        #expect(try store.feature(layer: "poi", id: "tcvn-1", asOf: nil)?.properties["ten"] == "Xin chào các bạn")
    }
}
