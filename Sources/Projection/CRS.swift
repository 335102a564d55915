import CPROJ
import Foundation
import Geometry

/// A coordinate reference system, resolved once and then passed around as a plain value.
///
/// Accepts what users type or files carry: the aliases of the product contract (`wgs84`,
/// `webmercator`, `vn2000`, `vn2000-utm48`, `vn2000-geo`), `EPSG:n` or a bare code, OGC CRS URIs
/// (`…/OGC/1.3/CRS84`, `…/EPSG/0/n`), and WKT or `.prj` text. A definition that PROJ finds
/// equivalent to an EPSG CRS becomes that EPSG CRS: HCMC's `VN2000_HCM` `.prj` files carry no
/// datum shift, and only EPSG:9210 places them right.
public struct CRS: Hashable, Sendable, CustomStringConvertible {
    /// What PROJ is given: `EPSG:n` where there is a code, else the original WKT/PROJ text.
    public let definition: String
    public let epsg: Int?
    public let name: String
    public let isGeographic: Bool

    public static let aliases: [String: Int] = [
        "wgs84": 4326, "webmercator": 3857, "vn2000": 9210, "vn2000-utm48": 3405, "vn2000-geo": 4756,
        "crs84": 4326,
    ]

    /// WGS 84 longitude/latitude: the storage CRS.
    public static let wgs84 = CRS(definition: "EPSG:4326", epsg: 4326, name: "WGS 84", isGeographic: true)
    /// VN-2000 / TM-3 105°45′ (EPSG:9210): HCMC cadastral maps; areas are measured in it.
    public static let vn2000 = CRS(definition: "EPSG:9210", epsg: 9210, name: "VN-2000 / TM-3 105-45", isGeographic: false)

    init(definition: String, epsg: Int?, name: String, isGeographic: Bool) {
        self.definition = definition
        self.epsg = epsg
        self.name = name
        self.isGeographic = isGeographic
    }

    /// Resolves what a user or a file says into a CRS PROJ can use, or says why not.
    public static func resolve(_ text: String) throws -> CRS {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ProjectionError("an empty CRS was given") }
        if let code = epsgCode(in: trimmed) { return try resolve(epsg: code) }
        let context = try ProjContext()
        let object = try context.object(trimmed)
        guard object.isCRS else { throw ProjectionError("\"\(ProjContext.short(trimmed))\" is not a coordinate reference system") }
        if let code = object.epsgCode ?? object.identifiedEPSG() { return try resolve(epsg: code) }
        return CRS(definition: trimmed, epsg: nil, name: object.name, isGeographic: object.isGeographic)
    }

    public static func resolve(epsg code: Int) throws -> CRS {
        if code == 4326 { return .wgs84 }
        if code == 9210 { return .vn2000 }
        let context = try ProjContext()
        let object = try context.object("EPSG:\(code)")
        guard object.isCRS else { throw ProjectionError("EPSG:\(code) is not a coordinate reference system") }
        return CRS(definition: "EPSG:\(code)", epsg: code, name: object.name, isGeographic: object.isGeographic)
    }

    /// Reads the forms that name an EPSG code without needing PROJ.
    static func epsgCode(in text: String) -> Int? {
        let lower = text.lowercased()
        if let code = aliases[lower] { return code }
        if let code = Int(lower), code > 0 { return code }
        for prefix in ["epsg:", "urn:ogc:def:crs:epsg::", "urn:ogc:def:crs:epsg:"] where lower.hasPrefix(prefix) {
            return Int(lower.dropFirst(prefix.count).split(separator: ":").last ?? "")
        }
        if lower.hasSuffix("/ogc/1.3/crs84") || lower == "urn:ogc:def:crs:ogc:1.3:crs84" { return 4326 }
        if let range = lower.range(of: "/def/crs/epsg/") {
            return Int(lower[range.upperBound...].split(separator: "/").last ?? "")
        }
        return nil
    }

    /// `EPSG:n`, or the name for a CRS without a code.
    public var identifier: String { epsg.map { "EPSG:\($0)" } ?? name }

    /// The OGC URI clients use in `crs=` and `Content-Crs` (CRS84 for longitude/latitude).
    public var ogcURI: String? {
        guard let epsg else { return nil }
        return epsg == 4326 ? "http://www.opengis.net/def/crs/OGC/1.3/CRS84" : "http://www.opengis.net/def/crs/EPSG/0/\(epsg)"
    }

    public var description: String { epsg.map { "EPSG:\($0) (\(name))" } ?? name }
}

extension CRS {
    /// The PROJ library version, e.g. "9.1.1".
    public static var libraryVersion: String { String(cString: proj_info().version) }
}

extension CRS {
    /// VN-2000 and UTM grids: transverse Mercator with a 500 km false easting, where an easting
    /// outside 0…1 000 km cannot be right. Known by EPSG code (VN-2000 TM-3 and UTM zones).
    public var isTransverseMercator: Bool {
        guard let epsg else { return false }
        return (5896...5899).contains(epsg) || (9205...9218).contains(epsg) || epsg == 3405 || epsg == 3406
            || (32601...32660).contains(epsg) || (32701...32760).contains(epsg)
    }
}

extension CRS {
    /// The CRS as WKT (WKT2:2019), for files that store their CRS (GeoPackage, .prj).
    public func wkt() throws -> String {
        let context = try ProjContext()
        guard let text = try context.object(definition).wkt else { throw ProjectionError("PROJ cannot write \(self) as WKT") }
        return text
    }
}

extension CRS {
    /// Central meridian → EPSG code of the VN-2000 TM-3 zones (k = 0.9999, x0 = 500 km).
    static let vn2000TM3: [Double: Int] = [
        102: 5896, 103: 9205, 104: 9206, 104.5: 9207, 104.75: 9208, 105: 5897, 105.5: 9209, 105.75: 9210,
        106: 9211, 106.25: 9212, 106.5: 9213, 107: 9214, 107.25: 9215, 107.5: 9216, 107.75: 5899,
        108: 5898, 108.25: 9217, 108.5: 9218,
    ]

    /// Resolves a CRS a file declares, and says when it had to be interpreted.
    ///
    /// MapInfo and some CAD exports write VN-2000 TM-3 zones as a transverse Mercator on a bare
    /// WGS 84 ellipsoid: the VN-2000 datum shift is lost, and taken literally the data lands
    /// about 200 m off. Nobody draws TM-3 zones (k = 0.9999) on plain WGS 84, so such a
    /// definition is read as the VN-2000 zone of that meridian, with a note for the report.
    public static func resolveDeclared(_ text: String) throws -> (crs: CRS, note: String?) {
        let crs = try resolve(text)
        guard crs.epsg == nil, let code = try vn2000Zone(text), let zone = try? resolve(epsg: code) else { return (crs, nil) }
        return (zone, "the file declares a TM-3 zone on WGS 84 with no datum shift (\(crs.name)): read as \(zone); pass --crs to override")
    }

    /// The VN-2000 TM-3 EPSG code a bare-WGS 84 TM-3 definition stands for, if it is one.
    static func vn2000Zone(_ text: String) throws -> Int? {
        let context = try ProjContext()
        let object = try context.object(text)
        guard let s = proj_as_proj_string(context.handle, object.pointer, PJ_PROJ_5, nil).map({ String(cString: $0) }) else { return nil }
        var p = [String: String]()
        for token in s.split(separator: " ") where token.hasPrefix("+") {
            let kv = token.dropFirst().split(separator: "=", maxSplits: 1)
            p[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
        }
        let onBareWGS84 = (p["ellps"] == "WGS84" || p["datum"] == "WGS84") && (p["towgs84"] == nil || p["towgs84"]?.split(separator: ",").allSatisfy { Double($0) == 0 } == true)
        guard p["proj"] == "tmerc", onBareWGS84, Double(p["k"] ?? p["k_0"] ?? "") == 0.9999, Double(p["x_0"] ?? "") == 500_000,
              Double(p["y_0"] ?? "0") == 0, Double(p["lat_0"] ?? "0") == 0, let lon = Double(p["lon_0"] ?? "") else { return nil }
        return vn2000TM3[lon]
    }
}

extension CRS {
    /// True when the CRS's official first axis points north (EPSG:4326 is latitude first).
    /// OGC API – Features Part 2 writes and reads coordinates in the CRS's own axis order.
    public func northingFirst() throws -> Bool {
        let context = try ProjContext()
        let object = try context.object(definition)
        guard let cs = proj_crs_get_coordinate_system(context.handle, object.pointer) else { return false }
        defer { proj_destroy(cs) }
        var direction: UnsafePointer<CChar>?
        guard proj_cs_get_axis_info(context.handle, cs, 0, nil, nil, &direction, nil, nil, nil, nil) != 0, let direction else { return false }
        return String(cString: direction).lowercased() == "north"
    }
}
