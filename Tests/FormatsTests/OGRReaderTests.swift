import Foundation
import Testing
@testable import Formats
import Geometry
import TestSupport

@Suite struct OGRReaderTests {
    static let enabled = SharedData.isPresent

    @Test(.enabled(if: enabled, Comment(rawValue: SharedData.skipReason)))
    func readsHCMGISShapefilesWithTheirCRSAndUTF8Text() throws {
        let folder = try #require(SharedData.url("hcmc-vn2000-hcmgis"))
        let expected = ["Cau.shp": 1_129, "Coso_Tongiao_07252017.shp": 2_698, "DiTich.shp": 167]
        for (file, count) in expected {
            let reader = try OGRReader(path: folder.appendingPathComponent(file).path)
            #expect(reader.encoding == .utf8 && reader.encodingSource == "from \((file as NSString).deletingPathExtension).cpg")
            #expect(reader.crsWKT?.contains("VN") == true)
            var n = 0
            while let f = try reader.next() {
                n += 1
                #expect(f.geometry != nil && f.geometryError == nil)
            }
            #expect(n == count, "\(file)")
        }
        let heritage = try OGRReader(path: folder.appendingPathComponent("DiTich.shp").path)
        var names = [String]()
        while let f = try heritage.next() { if let n = f.fields["Ten_DT"]?.stringValue { names.append(n) } }
        #expect(names.contains { $0.contains("Dinh Độc Lập") || $0.contains("Độc Lập") })
    }

    @Test func missingAndUnreadableFilesNameTheCause() throws {
        let dir = try SharedData.temporaryDirectory("ogr")
        #expect(throws: FormatError(file: dir.path + "/nope.shp", "no such file")) {
            try OGRReader(path: dir.path + "/nope.shp")
        }
        let junk = dir.appendingPathComponent("junk.geojson")
        try Data("{ this is not json".utf8).write(to: junk)
        #expect(throws: FormatError.self) { try OGRReader(path: junk.path) }
    }

    @Test func readsGeoJSONWithProperties() throws {
        let dir = try SharedData.temporaryDirectory("ogr")
        let file = dir.appendingPathComponent("two.geojson")
        try Data(#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"SoTo":12,"SoThua":"5","LoaiDat":"ODT","ten":"Phường Bến Nghé"},"geometry":{"type":"Polygon","coordinates":[[[106.7,10.78],[106.701,10.78],[106.701,10.781],[106.7,10.78]]]}},{"type":"Feature","properties":{"SoTo":12},"geometry":null}]}"#.utf8).write(to: file)
        let reader = try OGRReader(path: file.path)
        let first = try #require(try reader.next())
        #expect(first.index == 1)
        #expect(first.fields["SoTo"] == .integer(12))
        #expect(first.fields["ten"] == "Phường Bến Nghé")
        #expect(first.geometry == .polygon([[Coordinate(106.7, 10.78), Coordinate(106.701, 10.78), Coordinate(106.701, 10.781), Coordinate(106.7, 10.78)]]))
        let second = try #require(try reader.next())
        #expect(second.geometry == nil)
        #expect(try reader.next() == nil)
    }
}
