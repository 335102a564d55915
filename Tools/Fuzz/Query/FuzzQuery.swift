import FuzzHTTP
import FuzzSupport
import Foundation
import HTTPTypes

/// Tile and query parameters through the real router: the input picks a route and supplies
/// the rest of its path and query string, byte for byte (anything a client could send).
let routes = [
    "/tiles/", "/tiles/parcels/", "/tiles/parcels,zoning,admin/16/", "/collections/parcels/items?", "/collections/zoning/items?bbox=",
    "/collections/parcels/items/", "/parcels/at?", "/parcels/at?lon=106.74&lat=", "/parcels?", "/parcels/", "/fonts/", "/styles/",
    "/collections/", "/assets/", "/?f=", "/api?", "/tiles/admin.json?", "/collections/parcels/items?crs=", "/collections/parcels/queryables?",
]

func fuzzOne(_ data: Data) {
    guard let first = data.first else { return }
    let rest = data.dropFirst()
    // A URI is bytes a client chose: keep them, only escaping what HTTP itself cannot carry.
    let tail = rest.prefix(512).map { b -> String in
        b > 0x20 && b < 0x7F && b != 0x23 ? String(UnicodeScalar(b)) : String(format: "%%%02X", b)
    }.joined()
    let uri = routes[Int(first) % routes.count] + tail
    let headers: HTTPFields = first & 0x80 != 0 ? [.authorization: "Bearer \(FuzzServer.shared.editorToken)", .accept: "text/html"] : [:]
    FuzzServer.shared.send(.get, uri, headers: headers)
}

@main enum FuzzMain {
    static func main() { Fuzz.main { bytes, count in fuzzOne(Fuzz.data(bytes, count)); return 0 } }
}
