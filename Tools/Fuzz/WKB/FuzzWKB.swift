import FuzzSupport
import Foundation
import Geometry
import Store

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
