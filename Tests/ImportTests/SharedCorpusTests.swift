import Backends
import Foundation
import Geometry
@testable import Import
import Formats
import Projection
import Store
import Testing
import TestSupport

/// The import issue's checks against the real corpora in ../shared/data.
@Suite(.enabled(if: SharedData.isPresent, Comment(rawValue: SharedData.skipReason)))
struct SharedCorpusTests {
    struct ShapefileSet: Sendable, CustomStringConvertible {
        let path: String
        let count: Int
        /// What to tell ogr2ogr about the source CRS where GDAL gets it wrong by itself.
        let ogrSourceCRS: String?
        var description: String { path }
    }

    static let sets: [ShapefileSet] = [
        // GDAL treats HCMGIS's VN2000_HCM .prj as a bare TM on WGS 84 (about 200 m off):
        // ogr2ogr is told EPSG:9210, which is what LandMap resolves the .prj to.
        ShapefileSet(path: "hcmc-vn2000-hcmgis/Cau.shp", count: 1_129, ogrSourceCRS: "EPSG:9210"),
        ShapefileSet(path: "hcmc-vn2000-hcmgis/Coso_Tongiao_07252017.shp", count: 2_698, ogrSourceCRS: "EPSG:9210"),
        ShapefileSet(path: "hcmc-vn2000-hcmgis/DiTich.shp", count: 167, ogrSourceCRS: "EPSG:9210"),
        ShapefileSet(path: "saigon-peninsula-csl/landuse_interactive.shp", count: 256, ogrSourceCRS: nil),
        ShapefileSet(path: "saigon-peninsula-csl/landuse_noninteractive.shp", count: 373, ogrSourceCRS: nil),
        ShapefileSet(path: "saigon-peninsula-csl/d7_wards_2021.shp", count: 10, ogrSourceCRS: nil),
        ShapefileSet(path: "saigon-peninsula-csl/roads.shp", count: 660, ogrSourceCRS: nil),
        ShapefileSet(path: "saigon-peninsula-csl/buildings_full.shp", count: 5_895, ogrSourceCRS: nil),
        ShapefileSet(path: "hcmc-wards-2019-cityscope/Population_Ward_Level.shp", count: 322, ogrSourceCRS: nil),
        ShapefileSet(path: "hcmc-wards-2019-cityscope/Population_District_Level.shp", count: 24, ogrSourceCRS: nil),
    ]

    static let ogr2ogr = SharedData.which("ogr2ogr")

    @Test(arguments: sets)
    func shapefileSetsImportWithTheRightCountAndCoordinates(_ set: ShapefileSet) throws {
        let path = try #require(SharedData.url(set.path)).path
        let store = try ImportFixtures.store()
        var options = ImportOptions(layer: "layer")
        options.fix = true  // some real polygons need it; fixed ones are left out of the comparison
        let report = try Importer(store: store).run([path], options)
        #expect(report.read == set.count && report.accepted == set.count, "\(report.text())")
        #expect(try store.layer("layer")?.featureCount == set.count)

        guard let ogr2ogr = Self.ogr2ogr else { return }
        let out = try SharedData.temporaryDirectory("ogr").appendingPathComponent("out.geojson")
        var args = ["-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "COORDINATE_PRECISION=12", "-lco", "RFC7946=NO"]
        if let s = set.ogrSourceCRS { args += ["-s_srs", s] }
        let run = try SharedData.run(ogr2ogr, args + [out.path, path])
        #expect(run.status == 0, "\(run.output)")
        let theirs = try JSONValue.parse(Data(contentsOf: out))["features"]?.arrayValue ?? []
        #expect(theirs.count == set.count)
        let fixed = Set(report.findings.filter { $0.kind == .fixedGeometry }.map(\.index))
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var compared = 0, worst = 0.0
        for i in stride(from: 0, to: theirs.count, by: max(1, theirs.count / 50)) where !fixed.contains(i + 1) {
            guard let geometryJSON = theirs[i]["geometry"], geometryJSON != .null else { continue }
            let expected = try GeoJSONGeometry.decode(geometryJSON)
            let ours = try #require(try store.feature(layer: "layer", id: "\(stem)-\(i + 1)", asOf: nil)?.geometry)
            var a = [Coordinate](), b = [Coordinate]()
            expected.promotedToMulti.forEachCoordinate { a.append($0) }
            ours.forEachCoordinate { b.append($0) }
            #expect(a.count == b.count, "feature \(i + 1)")
            for (p, q) in zip(a, b) { worst = max(worst, abs(p.x - q.x), abs(p.y - q.y)) }
            compared += 1
        }
        #expect(compared > 0)
        #expect(worst < 1e-7, "worst difference from ogr2ogr: \(worst)°")
    }

    /// Every case of the Shapefile corpus imports or fails with one line naming file and cause.
    @Test func everyShapefileCorpusCaseImportsOrFailsClearly() throws {
        let roots = ["shapefile-corpus/pyshp/tests/shapefiles", "shapefile-corpus/shapefile-js/test/data"].compactMap(SharedData.url)
        var outcomes = [String: String]()
        for root in roots {
            for name in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            where name.hasSuffix(".shp") || name.hasSuffix(".zip") {
                let path = root.appendingPathComponent(name).path
                do {
                    let report = try Importer.validate([path], ImportOptions(layer: "corpus"), scratch: StoreLocation.scratch)
                    outcomes[name] = "read \(report.read)"
                } catch {
                    let line = "\(error)"
                    #expect(!line.contains("\n"), "\(name): \(line)")
                    #expect(line.contains(name) || line.contains((name as NSString).deletingPathExtension), "\(name): \(line)")
                    outcomes[name] = "error: " + line
                }
            }
        }
        #expect(outcomes.count >= 30)
        #expect(outcomes["senate.shp"] == "read 40")  // reprojected from NAD83 / Massachusetts
        #expect(outcomes["REL.zip"] == "read 1")  // a Shapefile inside a folder of the zip
        #expect(outcomes["T8Th4_6n.zip"] == "read 1")
        #expect(outcomes["mixedcase.zip"] == "read 40")
        #expect(outcomes["blockgroups.shp"]?.contains("--crs") == true)  // no .prj: ask for --crs
        #expect(outcomes["empty_zipfile.zip"]?.contains("holds no vector file") == true)
        #expect(outcomes["badzip.zip"]?.contains("not a readable zip") == true)
        #expect(outcomes["bad.shp"]?.hasPrefix("error: bad.shp:") == true)
        // A missing .shx is rebuilt in a temporary copy and the file reads.
        var options = ImportOptions(layer: "corpus")
        options.crs = .wgs84
        let latin1 = try #require(SharedData.url("shapefile-corpus/pyshp/tests/shapefiles/latin1.shp")).path
        let report = try Importer.validate([latin1], options, scratch: StoreLocation.scratch)
        #expect(report.read == 1 && report.files[0].notes.contains { $0.contains(".shx") })
    }

    /// geojsonhint's documents: errors refuse a document or its feature; "message"-level items
    /// (winding, extra ordinates) are warnings; good documents import.
    @Test func geojsonFixturesAreJudgedAsTheirExpectedResultsSay() throws {
        let root = try #require(SharedData.url("geojson-fixtures/geojsonhint/test/data"))
        for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("bad").path).sorted() where name.hasSuffix(".geojson") {
            let path = root.appendingPathComponent("bad/\(name)").path
            let expected = (try? JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path.replacingOccurrences(of: ".geojson", with: ".result")))))?.arrayValue ?? []
            let blocking = expected.contains { $0["level"] != .string("message") }
            do {
                let report = try Importer.validate([path], ImportOptions(layer: "fixture"), scratch: StoreLocation.scratch)
                if blocking {
                    #expect(!report.errors.isEmpty, "\(name) must be refused")
                    #expect(report.errors.allSatisfy { !$0.message.isEmpty })
                } else if !expected.isEmpty {
                    #expect(report.errors.isEmpty && !report.warnings.isEmpty, "\(name): a warning, not a refusal")
                }
            } catch {
                #expect(blocking, "\(name) was refused: \(error)")
                #expect("\(error)".hasPrefix(name), "\(error)")
            }
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("good").path).sorted() where name.hasSuffix(".geojson") {
            let store = try ImportFixtures.store()
            let path = root.appendingPathComponent("good/\(name)").path
            if name == "issue82.geojson" {
                // Valid GeoJSON, but latitude −107°: SPEC §2 refuses coordinates that cannot be WGS 84.
                #expect(throws: ImportRefused.self) { try Importer(store: store).run([path], ImportOptions(layer: "fixture")) }
                continue
            }
            let report = try Importer(store: store).run([path], ImportOptions(layer: "fixture"))
            #expect(report.errors.isEmpty && (report.written?.inserted ?? 0) == report.read, "\(name): \(report.text())")
        }
    }
}
