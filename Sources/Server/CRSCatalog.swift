import Foundation
import Projection

/// The CRSs the API offers (OGC API – Features Part 2), by their OGC URIs, with the axis order
/// their coordinates are written in.
struct CRSCatalog: Sendable {
    struct Entry: Sendable {
        let uri: String
        let crs: CRS
        /// Coordinates go latitude/northing first (EPSG:4326; CRS84 is longitude first).
        let swapAxes: Bool
    }

    static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    let entries: [Entry]

    init() throws {
        var out = [Entry(uri: Self.crs84, crs: .wgs84, swapAxes: false)]
        for code in [4326, 3857, 9210, 3405] {
            let crs = try CRS.resolve(epsg: code)
            out.append(Entry(uri: "http://www.opengis.net/def/crs/EPSG/0/\(code)", crs: crs, swapAxes: try crs.northingFirst()))
        }
        entries = out
    }

    var uris: [String] { entries.map(\.uri) }

    /// The entry for a URI (or `EPSG:n`, or `CRS84`), nil when the API does not offer it.
    func entry(_ text: String) -> Entry? {
        let t = text.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if let e = entries.first(where: { $0.uri == t }) { return e }
        let lower = t.lowercased()
        if lower == "crs84" || lower == "ogc:crs84" || lower.hasSuffix("/ogc/1.3/crs84") { return entries[0] }
        if lower.hasPrefix("epsg:"), let code = Int(lower.dropFirst(5)) { return entries.first { $0.crs.epsg == code && !$0.uri.hasSuffix("CRS84") } }
        return nil
    }
}
