import Features
import Geometry
import Testing

/// An items page writes its features straight to text (`writeGeoJSON`): the same GeoJSON as the
/// `JSONValue` the other routes write, private fields left out alike.
@Suite struct FeatureGeoJSONTests {
    @Test func writtenTextIsTheFeaturesGeoJSON() throws {
        let ring = [Coordinate(106.7, 10.7), Coordinate(106.71, 10.7), Coordinate(106.71, 10.71), Coordinate(106.7, 10.7)]
        let geometries: [Geometry?] = [
            nil, .point(Coordinate(106.7, 10.7)), .point(nil), .lineString([Coordinate(1, 2), Coordinate(3.25, -4)]),
            .polygon([ring]), .multiPolygon([[ring], [ring.map { Coordinate($0.x + 1, $0.y) }]]), .multiPoint([Coordinate(0, 0)]),
            .multiLineString([[Coordinate(0, 0), Coordinate(1e-9, 123456789.125)]]),
            .geometryCollection([.point(Coordinate(1, 1)), .lineString([Coordinate(0, 0), Coordinate(1, 1)])]),
        ]
        let properties: [String: JSONValue] = [
            "address": "206 Nguyễn Thị Thập \"Tân Mỹ\"\n\\", "area_m2": .number(120.5), "sheet": .integer(12), "owner": "Trần Thị Bích",
            "nested": .object(["a": .array([.bool(true), .null])]),
        ]
        for (i, g) in geometries.enumerated() {
            let f = Feature(id: "26734-12-\(i) \"x\"", geometry: g, properties: properties)
            for hidden in [HiddenProperties.nothing, LayerSchema.parcels.privateFields] {
                var text = ""
                f.writeGeoJSON(hiding: hidden, into: &text)
                // Read back, both texts are one value (a number read back as what its text says).
                #expect(try JSONValue.parse(text) == JSONValue.parse(f.geoJSON(hiding: hidden).jsonText), "\(text)")
            }
            var anonymous = ""
            f.writeGeoJSON(hiding: LayerSchema.parcels.privateFields, into: &anonymous)
            #expect(!anonymous.contains("owner") && !anonymous.contains("Bích"))
        }
        // JSON has no NaN: a non-finite coordinate is written `null`, as JSONValue writes it.
        var text = ""
        Feature(id: "x", geometry: .point(Coordinate(.nan, 1))).writeGeoJSON(into: &text)
        #expect(try JSONValue.parse(text)["geometry"]?["coordinates"] == .array([.null, .integer(1)]))
    }
}
