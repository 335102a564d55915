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

#if LANDMAP_FUZZ
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    fuzzOne(Data(bytes: bytes, count: count))
    return 0
}
#else
@main enum Replay {
    static func main() { Fuzz.replay(Array(CommandLine.arguments.dropFirst()), fuzzOne) }
}
#endif
