import Backends
import Features
import Formats
import Foundation
import Geometry
@testable import Import
import Projection
import Store
import Testing
import TestSupport

/// A cadastral sheet as surveyors draw it, in DGN v7 and DXF (made by `Tools/make-sheet.py`
/// with GDAL's writers from 20 of the sample's parcels): shapes on one level, numbers, land-use
/// codes and areas as texts inside them on three others, addresses in TCVN3 bytes on a fourth,
/// an island parcel inside another, a text outside every shape, a parcel with two numbers and
/// one with no text at all. `expected.json` holds what the source parcels were.
struct SheetImportTests {
    static let folder = SharedData.packageRoot.appendingPathComponent("Tests/ImportTests/Fixtures/sheets")

    struct Expected {
        var parcels: [String: [String: JSONValue]]
        var strayAt: Coordinate
        var conflict: [String]
        var island: String
        var aroundIsland: String
    }

    static func expected() throws -> Expected {
        let text = try String(contentsOf: folder.appendingPathComponent("expected.json"), encoding: .utf8)
        let root = try JSONValue.parse(text)
        guard case .object(let o) = root, case .object(let parcels)? = o["parcels"], case .object(let anomalies)? = o["anomalies"],
              case .array(let strays)? = anomalies["stray_labels"], case .object(let stray)? = strays.first,
              case .array(let conflicts)? = anomalies["conflicts"], case .object(let conflict)? = conflicts.first,
              case .array(let texts)? = conflict["texts"],
              case .array(let nested)? = anomalies["nested"], case .object(let island)? = nested.first,
              let x = stray["x"].flatMap(Run.number), let y = stray["y"].flatMap(Run.number) else {
            throw SheetLayoutError("expected.json is not what Tools/make-sheet.py writes")
        }
        var out = [String: [String: JSONValue]]()
        for (id, value) in parcels { if case .object(let p) = value { out[id] = p } }
        return Expected(parcels: out, strayAt: Coordinate(x, y), conflict: texts.compactMap(\.stringValue),
                        island: island["inner"]?.stringValue ?? "", aroundIsland: island["outer"]?.stringValue ?? "")
    }

    static func options(_ ext: String) -> ImportOptions {
        var o = ImportOptions(layer: "parcels")
        o.crs = .vn2000
        let levels = ext == "dgn"
            ? ["shapes": "10", "number": "13", "land_use": "14", "declared_area_m2": "15", "address": "16"]
            : ["shapes": "ranh_thua", "number": "SO_THUA", "land_use": "LOAI_DAT", "declared_area_m2": "DIEN_TICH", "address": "DIA_CHI"]
        o.sheet = SheetLayout(shapes: levels["shapes"] ?? "", labels: ["number", "land_use", "declared_area_m2", "address"].map {
            SheetLayout.Label(field: $0, level: levels[$0] ?? "")
        })
        o.constants = ["ward_code": "27484"]
        o.skipInvalid = true
        return o
    }

    static func sheet(_ ext: String) -> String { folder.appendingPathComponent("to56.\(ext)").path }

    @Test(arguments: ["dgn", "dxf"])
    func labelsJoinTheirShapes(ext: String) throws {
        let expected = try Self.expected()
        let store = try ImportFixtures.store()
        let report = try Importer(store: store).run([Self.sheet(ext)], Self.options(ext))
        // 21 shapes: the one with two numbers is refused (an error), the other 20 written.
        #expect(report.read == 21 && report.accepted == 20 && report.skipped == 1, "\(report.text())")
        for (id, source) in expected.parcels {
            let f = try #require(try store.feature(layer: "parcels", id: id, asOf: nil), "\(ext): \(id) missing")
            #expect(f.properties["number"] == source["number"], "\(ext) \(id)")
            #expect(f.properties["land_use"] == source["land_use"], "\(ext) \(id)")
            #expect(f.properties["address"] == source["address"], "\(ext) \(id): TCVN3 decoded")
            #expect(f.properties["sheet"] == .integer(56) && f.properties["ward_code"] == .string("27484"), "\(ext) \(id)")
            let area = try #require(f.properties["declared_area_m2"].flatMap(Run.number), "\(ext) \(id)")
            #expect(abs(area - (source["declared_area_m2"].flatMap(Run.number) ?? -1)) < 1e-9, "\(ext) \(id): \(area)")
        }
        // The island is cut out of the parcel around it, so the two do not overlap.
        let around = try #require(try store.feature(layer: "parcels", id: expected.aroundIsland, asOf: nil))
        guard case .multiPolygon(let polys) = around.geometry else { Issue.record("\(around.geometry)"); return }
        #expect(polys.count == 1 && polys[0].count == 2, "\(ext): the parcel around the island has a hole")
        #expect(!report.findings.contains { $0.kind == .overlap })
    }

    @Test(arguments: ["dgn", "dxf"])
    func everyAnomalyIsReportedWithItsPlace(ext: String) throws {
        let expected = try Self.expected()
        let report = try Importer.validate([Self.sheet(ext)], Self.options(ext), scratch: StoreLocation.scratch)
        let toWGS84 = try Transformer(from: .vn2000, to: .wgs84)

        let stray = report.findings.filter { $0.kind == .strayLabel }
        #expect(stray.count == 1 && stray[0].message.contains("'777'") && stray[0].severity == .warning, "\(stray)")
        let strayAt = try toWGS84.transform(expected.strayAt)
        let got = try #require(stray.first?.location)
        #expect(abs(got.x - strayAt.x) < 1e-7 && abs(got.y - strayAt.y) < 1e-7, "\(got) vs \(strayAt)")

        let conflicts = report.findings.filter { $0.kind == .conflictingLabels }
        #expect(conflicts.count == 1 && conflicts[0].severity == .error, "\(conflicts)")
        #expect(expected.conflict.allSatisfy { conflicts.first?.message.contains("'\($0)'") == true })

        // The shape without any text: one warning per --label field, all at one place.
        let missing = report.findings.filter { $0.kind == .missingLabel }
        #expect(missing.count == 4 && Set(missing.map(\.index)).count == 1 && missing.allSatisfy { $0.location != nil }, "\(missing)")
        #expect(["number", "land_use", "declared_area_m2", "address"].allSatisfy { f in missing.contains { $0.message.contains("'\(f)'") } })

        let nested = report.findings.filter { $0.kind == .nestedShape }
        #expect(nested.count == 1 && nested.first?.key == expected.island && nested.first?.location != nil, "\(nested)")
        #expect(report.findings.allSatisfy { $0.location != nil }, "every finding has its place")
        // The level list and what was left aside (the road line, the sheet title).
        let survey = try #require(report.files.first?.survey)
        #expect(survey.levels.count == 7 && survey.unit == (ext == "dgn" ? "level" : "layer"))
        #expect(report.files[0].notes.contains { $0.hasPrefix("2 elements on other") }, "\(report.files[0].notes)")
        #expect(report.files[0].notes.contains { $0.contains("sheet 56 taken from the file name") })
    }

    /// The same sheet as DGN and as DXF gives the same parcels, on both backends.
    @Test(arguments: Backend.allCases)
    func dgnAndDxfImportToTheSameParcels(backend: Backend) throws {
        var prints = [LayerFingerprint]()
        for ext in ["dgn", "dxf"] {
            let store = try StoreLocation(backend.freshLocation("sheet-\(ext)")).open(create: true)
            let report = try Importer(store: store).run([Self.sheet(ext)], Self.options(ext))
            #expect(report.accepted == 20, "\(report.text())")
            prints.append(try LayerFingerprint.of(layer: "parcels", in: store))
        }
        #expect(prints[0] == prints[1], "\(prints)")
    }

    @Test func aSheetWithTwoNumbersInAParcelIsRefusedWithoutSkipInvalid() throws {
        var options = Self.options("dgn")
        options.skipInvalid = false
        let store = try ImportFixtures.store()
        #expect(throws: ImportRefused.self) { try Importer(store: store).run([Self.sheet("dgn")], options) }
        // Nothing written: not even the layer was made.
        #expect(throws: (any Error).self) { try store.feature(layer: "parcels", id: "27484-56-1", asOf: nil) }
    }

    @Test func badLayoutsAreRefusedWithTheLevelsTheSheetHas() throws {
        var options = Self.options("dgn")
        options.sheet?.shapes = "11"
        let noLevel = #expect(throws: FormatError.self) { try Importer.validate([Self.sheet("dgn")], options, scratch: StoreLocation.scratch) }
        #expect(noLevel?.description.contains("no level '11'") == true && noLevel?.description.contains("10: 19 shapes, 2 closed lines") == true, "\(String(describing: noLevel))")

        options = Self.options("dgn")
        options.sheet?.shapes = "13"
        let texts = #expect(throws: FormatError.self) { try Importer.validate([Self.sheet("dgn")], options, scratch: StoreLocation.scratch) }
        #expect(texts?.description.contains("holds no closed shape") == true, "\(String(describing: texts))")

        options = Self.options("dgn")
        options.constants["sheet"] = "năm sáu"
        #expect(throws: SheetLayoutError.self) { try Importer.validate([Self.sheet("dgn")], options, scratch: StoreLocation.scratch) }

        // A sheet cut short reads as no element at all: said, not listed as an empty sheet.
        let cut = try SharedData.temporaryDirectory("sheet-cut").appendingPathComponent("to56.dgn")
        try Data(try Data(contentsOf: URL(fileURLWithPath: Self.sheet("dgn"))).prefix(3000)).write(to: cut)
        let damaged = #expect(throws: FormatError.self) { try SheetReader.survey(cut.path) }
        #expect(damaged?.description.contains("damaged file") == true, "\(String(describing: damaged))")

        // A Shapefile is not a sheet.
        let shp = try #require(SharedData.url("hcmc-vn2000-hcmgis/Cau.shp"))
        let notSheet = #expect(throws: FormatError.self) { try Importer.validate([shp.path], Self.options("dgn"), scratch: StoreLocation.scratch) }
        #expect(notSheet?.description.contains("not one") == true)
    }

    @Test func setOverridesTheSheetNumberFromTheFileName() throws {
        var options = Self.options("dxf")
        options.constants["sheet"] = "7"
        let store = try ImportFixtures.store()
        _ = try Importer(store: store).run([Self.sheet("dxf")], options)
        #expect(try store.feature(layer: "parcels", id: "27484-7-1", asOf: nil)?.properties["sheet"] == .integer(7))
    }
}
