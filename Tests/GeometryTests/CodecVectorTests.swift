import Foundation
import Testing
@testable import Geometry

/// The wkx known-answer vectors: the same geometry as WKT, WKB (both byte orders), EWKB and
/// GeoJSON must all decode to one value, and our encoders must reproduce the WKB exactly.
@Suite struct CodecVectorTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let wkt: String
        let wkb: String
        let wkbXdr: String
        let ewkb: String
        let geoJSON: JSONValue
        var description: String { name }
    }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "wkx-testdata", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let json = try? JSONValue.parse(data), case .object(let all) = json else { return [] }
        return all.keys.sorted().compactMap { name in
            guard let c = all[name], let wkt = c["wkt"]?.stringValue, let wkb = c["wkb"]?.stringValue,
                  let xdr = c["wkbXdr"]?.stringValue, let ewkb = c["ewkb"]?.stringValue, let gj = c["geoJSON"] else { return nil }
            return Case(name: name, wkt: wkt, wkb: wkb, wkbXdr: xdr, ewkb: ewkb, geoJSON: gj)
        }
    }()

    @Test func allVectorsLoaded() {
        #expect(Self.cases.count == 21)
    }

    @Test(arguments: cases) func everyEncodingDecodesToTheSameValue(_ c: Case) throws {
        let fromWKT = try WKT.decode(c.wkt)
        #expect(try WKB.decode(hex: c.wkb) == fromWKT)
        #expect(try WKB.decode(hex: c.wkbXdr) == fromWKT)
        #expect(try WKB.decode(hex: c.ewkb) == fromWKT)
        #expect(try GeoJSONGeometry.decode(c.geoJSON) == fromWKT)
    }

    @Test(arguments: cases) func encodersReproduceTheVectors(_ c: Case) throws {
        let g = try WKT.decode(c.wkt)
        #expect(WKB.hex(WKB.encode(g)) == c.wkb.lowercased())
        #expect(WKB.hex(WKB.encode(g, byteOrder: .bigEndian)) == c.wkbXdr.lowercased())
        // WKT and GeoJSON text read back to the same value.
        #expect(try WKT.decode(WKT.encode(g)) == g)
        #expect(try GeoJSONGeometry.decode(text: GeoJSONGeometry.text(g)) == g)
        #expect(GeoJSONGeometry.encode(g) == normalised(c.geoJSON))
    }

    @Test(arguments: cases) func geosAgreesWithOurWKB(_ c: Case) throws {
        let g = try WKT.decode(c.wkt)
        let context = try GeosContext()
        #expect(try context.geometry(g).value() == g)
    }

    /// The vectors write integers; our encoder writes doubles. Compare as numbers.
    func normalised(_ v: JSONValue) -> JSONValue {
        switch v {
        case .integer(let i): .number(Double(i))
        case .array(let a): .array(a.map(normalised))
        case .object(let o): .object(o.mapValues(normalised))
        default: v
        }
    }

    @Test func wktWriterFormat() throws {
        #expect(WKT.encode(.point(Coordinate(1, 2.5))) == "POINT (1 2.5)")
        #expect(WKT.encode(.polygon([])) == "POLYGON EMPTY")
        #expect(try WKT.decode("POINT Z (1 2 3)") == .point(Coordinate(1, 2)))
        #expect(try WKT.decode("SRID=4326;MULTIPOINT(1 2,3 4)") == .multiPoint([Coordinate(1, 2), Coordinate(3, 4)]))
    }

    @Test func malformedInputIsAnErrorNotACrash() {
        #expect(throws: GeometryError.self) { try WKB.decode(hex: "0103000000ffffff7f") }
        #expect(throws: GeometryError.self) { try WKB.decode(hex: "01") }
        #expect(throws: GeometryError.self) { try WKB.decode(hex: "zz") }
        #expect(throws: GeometryError.self) { try WKT.decode("POLYGON((1 2, 3") }
        #expect(throws: GeometryError.self) { try WKT.decode("CIRCLE(1 2)") }
        #expect(throws: GeometryError.self) { try GeoJSONGeometry.decode(text: #"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#) }
        #expect(throws: GeometryError.self) { try GeoJSONGeometry.decode(text: #"{"type":"Point","coordinates":["a",1]}"#) }
        // Deep nesting is refused before it can exhaust the stack.
        let deep = String(repeating: "GEOMETRYCOLLECTION(", count: 100) + "POINT(1 2)" + String(repeating: ")", count: 100)
        #expect(throws: GeometryError.self) { try WKT.decode(deep) }
    }
}
