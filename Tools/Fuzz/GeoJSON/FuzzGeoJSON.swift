import FuzzSupport
import Formats
import Foundation
import Geometry

/// The GeoJSON reader: the strict JSON parser, geometry decoding, and the RFC 7946 lint.
func fuzzOne(_ data: Data) {
    if let json = try? JSONValue.parse(data) {
        _ = json.jsonText
        for candidate in [json, json["geometry"] ?? .null] + (json["features"]?.arrayValue ?? []).prefix(50).map { $0["geometry"] ?? .null } {
            if let g = try? GeoJSONGeometry.decode(candidate) {
                // What we decode, we can write and read back to the same geometry.
                let again = try? GeoJSONGeometry.decode(text: GeoJSONGeometry.text(g))
                if again != g, !g.hasNonFiniteCoordinate { print("round trip differs: \(g)"); abort() }
            }
        }
    }
    _ = try? GeoJSONLint.check(data)
}

@main enum FuzzMain {
    static func main() { Fuzz.main { bytes, count in fuzzOne(Fuzz.data(bytes, count)); return 0 } }
}
