import GeoPackage
import Foundation
import Geometry
@testable import Import
import Store
import TestSupport

enum ImportFixtures {
    /// A FeatureCollection of `count` parcels (SoTo/SoThua/MaXa/DienTich as in real files)
    /// around District 1, each about 19.7 m × 19.7 m; `declared` overrides DienTich per index.
    static func parcelsGeoJSON(count: Int, declared: [Int: Double] = [:], bowtieAt: Int? = nil) -> String {
        var features = [String]()
        for i in 0..<count {
            let x = 106.70 + Double(i % 10) * 0.0002, y = 10.78 + Double(i / 10) * 0.0002
            var ring = [[x, y], [x + 0.00018, y], [x + 0.00018, y + 0.00018], [x, y + 0.00018], [x, y]]
            if i == bowtieAt { ring = [[x, y], [x + 0.00018, y + 0.00018], [x + 0.00018, y], [x, y + 0.00018], [x, y]] }
            let coords = ring.map { "[\($0[0]),\($0[1])]" }.joined(separator: ",")
            let area = declared[i] ?? 389.0
            features.append(#"{"type":"Feature","properties":{"MaXa":"26734","SoTo":7,"SoThua":\#(i + 1),"LoaiDat":"ODT","DienTich":\#(area),"GhiChu":"thửa \#(i)"},"geometry":{"type":"Polygon","coordinates":[[\#(coords)]]}}"#)
        }
        return #"{"type":"FeatureCollection","features":[\#(features.joined(separator: ","))]}"#
    }

    static func write(_ text: String, name: String) throws -> String {
        let dir = try SharedData.temporaryDirectory("import")
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func store() throws -> GeoPackageStore {
        try GeoPackageStore(path: SharedData.temporaryDirectory("import-db").appendingPathComponent("t.gpkg").path)
    }
}
