import FuzzSupport
import Foundation
import Geometry
import GeoPackage

/// The binary geometry readers: WKB (both byte orders, every type, nesting) and GeoPackage
/// geometry blobs, plus WKT on the same bytes read as text.
func fuzzOne(_ data: Data) {
    if let g = try? WKB.decode(data) {
        // What we decode we can encode, and it decodes to the same geometry.
        let again = try? WKB.decode(WKB.encode(g))
        if again != g, !g.hasNonFiniteCoordinate { print("WKB round trip differs: \(g)"); abort() }
    }
    if let g = try? GeoPackageBinary.decode(data) {
        _ = GeoPackageBinary.encode(g)
    }
    _ = try? GeoPackageBinary.envelope(data)
    _ = try? WKT.decode(String(decoding: data, as: UTF8.self))
}

@main enum FuzzMain {
    static func main() { Fuzz.main { bytes, count in fuzzOne(Fuzz.data(bytes, count)); return 0 } }
}
