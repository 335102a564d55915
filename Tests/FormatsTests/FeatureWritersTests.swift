import Features
import Foundation
import Geometry
@testable import Formats
import Testing
import TestSupport

@Suite struct FeatureWritersTests {
    static let features = [
        Feature(id: "a", geometry: .polygon([[Coordinate(106.70, 10.78), Coordinate(106.70, 10.781), Coordinate(106.701, 10.781), Coordinate(106.70, 10.78)]]),
                properties: ["land_use": "ODT", "sheet": .integer(3), "area_m2": .number(12.5), "GhiChu": "đất ở, \"mặt tiền\""]),
        Feature(id: "b", geometry: nil, properties: ["land_use": "CLN"]),
    ]
    static let fields = [FieldDefinition("land_use", .text), FieldDefinition("sheet", .integer), FieldDefinition("area_m2", .real)]

    func readBack(_ path: String) throws -> [SourceFeature] {
        let reader = try OGRReader(path: path)
        var out = [SourceFeature]()
        while let f = try reader.next() { out.append(f) }
        return out
    }

    @Test func geoJSONRoundTripsWithRightHandWinding() throws {
        let path = try SharedData.temporaryDirectory("w").appendingPathComponent("out.geojson").path
        let w = try GeoJSONFeatureWriter(path: path)
        for f in Self.features { try w.write(f) }
        try w.finish()
        let doc = try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(try GeoJSONLint.check(Data(contentsOf: URL(fileURLWithPath: path))).isEmpty)  // incl. winding
        #expect(doc["features"]?.arrayValue?.count == 2)
        let back = try readBack(path)
        #expect(back[0].fields["GhiChu"] == "đất ở, \"mặt tiền\"")
        #expect(back[0].geometry == Self.features[0].geometry?.rewound())
        #expect(back[1].geometry == nil)
    }

    @Test func csvKeepsColumnsAndQuotes() throws {
        let path = try SharedData.temporaryDirectory("w").appendingPathComponent("out.csv").path
        let w = try CSVFeatureWriter(path: path, columns: Self.fields.map(\.name))
        for f in Self.features { try w.write(f) }
        try w.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("id,wkt,land_use,sheet,area_m2,properties\n"))
        #expect(text.contains("a,\"POLYGON ((106.7 10.78,106.7 10.781,106.701 10.781,106.7 10.78))\",ODT,3,12.5,"))
        let back = try readBack(path)
        #expect(back.count == 2 && back[0].fields["land_use"] == "ODT")
        #expect(back[0].fields["properties"]?.stringValue.flatMap { try? JSONValue.parse($0) }?["GhiChu"] == "đất ở, \"mặt tiền\"")
    }

    @Test func geoPackageThroughOGRKeepsTypesAndCRS() throws {
        let path = try SharedData.temporaryDirectory("w").appendingPathComponent("out.gpkg").path
        let wkt = "GEOGCRS[\"WGS 84\",DATUM[\"World Geodetic System 1984\",ELLIPSOID[\"WGS 84\",6378137,298.257223563]],CS[ellipsoidal,2],AXIS[\"latitude\",north],AXIS[\"longitude\",east],ANGLEUNIT[\"degree\",0.0174532925199433],ID[\"EPSG\",4326]]"
        let w = try OGRFeatureWriter(path: path, driver: "GPKG", layerName: "parcels", crsWKT: wkt, fields: Self.fields)
        for f in Self.features { try w.write(f) }
        try w.finish()
        let reader = try OGRReader(path: path)
        #expect(reader.crsWKT?.contains("4326") == true)
        let back = try readBack(path)
        #expect(back[0].fields["sheet"] == .integer(3) && back[0].fields["area_m2"] == .number(12.5) && back[0].fields["id"] == "a")
        #expect(back[0].geometry == Self.features[0].geometry)
        // An existing file is never overwritten.
        #expect(throws: FormatError.self) { try OGRFeatureWriter(path: path, driver: "GPKG", layerName: "x", crsWKT: wkt, fields: []) }
    }
}
