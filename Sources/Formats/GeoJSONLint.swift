import Foundation
import Geometry

/// A strict RFC 7946 check of a GeoJSON document, for what GDAL's reader lets through:
/// wrong or mis-cased `type`s, members that change an object's meaning, bad `bbox`es and ids,
/// short or unclosed rings, positions of the wrong size, polygons against the right-hand rule.
public enum GeoJSONLint {
    public struct Problem: Hashable, Sendable {
        /// 1-based feature number, when the problem is inside a feature.
        public var feature: Int?
        public var message: String
        /// A recommendation of RFC 7946 rather than a rule (winding order, extra ordinates):
        /// reported as a warning, as RFC 7946 asks parsers not to reject such documents.
        public var isAdvice: Bool
    }

    /// Documents larger than this are not parsed whole; their features are still checked one by one.
    /// A parsed document takes about six times its size: 16 MiB keeps an import's peak memory
    /// near its streaming level (at 64 MiB, a 46 MB file of 100 000 parcels peaked at 366 MB).
    public static let maxBytes = 16 << 20

    static let geometryTypes: Set<String> = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"]

    /// The problems of a document (empty when it is good). Throws when it is not JSON at all.
    public static func check(_ data: Data) throws -> [Problem] {
        let json = try JSONValue.parse(data)
        var problems = [Problem]()
        func add(_ feature: Int?, _ message: String, winding: Bool = false) {
            problems.append(Problem(feature: feature, message: message, isAdvice: winding))
        }
        guard case .object(let root) = json else {
            add(nil, "the document must be a JSON object, not \(json.kindWithArticle)")
            return problems
        }
        guard let type = root["type"]?.stringValue else {
            add(nil, "the document has no \"type\" member")
            return problems
        }
        switch type {
        case "FeatureCollection":
            forbid(root, ["properties", "coordinates", "geometry", "geometries"], "FeatureCollection", nil, add)
            checkBBox(root, nil, add)
            guard case .array(let features)? = root["features"] else {
                add(nil, "a FeatureCollection needs a \"features\" array")
                return problems
            }
            for (i, f) in features.enumerated() { checkFeature(f, i + 1, add) }
        case "Feature":
            checkFeature(json, 1, add)
        default:
            if geometryTypes.contains(type) {
                checkGeometry(json, nil, depth: 0, add)
            } else if geometryTypes.contains(where: { $0.lowercased() == type.lowercased() }) || ["featurecollection", "feature"].contains(type.lowercased()) {
                add(nil, "\"type\" is case-sensitive: \"\(type)\" is not a GeoJSON type")
            } else {
                add(nil, "\"\(type)\" is not a GeoJSON type")
            }
        }
        return problems
    }

    static func forbid(_ o: [String: JSONValue], _ members: [String], _ what: String, _ feature: Int?, _ add: (Int?, String, Bool) -> Void) {
        for m in members where o[m] != nil { add(feature, "a \(what) cannot have a \"\(m)\" member (it would change its meaning)", false) }
    }

    static func checkBBox(_ o: [String: JSONValue], _ feature: Int?, _ add: (Int?, String, Bool) -> Void) {
        guard let bbox = o["bbox"] else { return }
        guard case .array(let items) = bbox else { return add(feature, "\"bbox\" must be an array of numbers, not \(bbox.kindWithArticle)", false) }
        guard items.allSatisfy({ $0.doubleValue != nil }) else { return add(feature, "every element of \"bbox\" must be a number", false) }
        if items.count != 4, items.count != 6 { add(feature, "\"bbox\" must have 4 numbers (2D) or 6 (3D), not \(items.count)", false) }
    }

    static func checkFeature(_ json: JSONValue, _ n: Int, _ add: (Int?, String, Bool) -> Void) {
        guard case .object(let f) = json else { return add(n, "every feature must be a JSON object", false) }
        guard f["type"] == .string("Feature") else {
            let t = f["type"]?.stringValue
            return add(n, t == nil ? "a feature needs \"type\": \"Feature\"" : "a feature's type must be \"Feature\", not \"\(t ?? "")\"", false)
        }
        forbid(f, ["features", "coordinates", "geometries"], "Feature", n, add)
        checkBBox(f, n, add)
        if let id = f["id"] {
            switch id {
            case .string, .integer, .number: break
            default: add(n, "a feature's \"id\" must be a string or a number, not \(id.kindWithArticle)", false)
            }
        }
        switch f["properties"] {
        case nil: add(n, "a feature needs a \"properties\" member (an object, or null)", false)
        case .object?, .null?: break
        case let other?: add(n, "a feature's \"properties\" must be an object or null, not \(other.kindWithArticle)", false)
        }
        switch f["geometry"] {
        case nil: add(n, "a feature needs a \"geometry\" member (a geometry, or null)", false)
        case .null?: break
        case let g?: checkGeometry(g, n, depth: 0, add)
        }
    }

    static func checkGeometry(_ json: JSONValue, _ n: Int?, depth: Int, _ add: (Int?, String, Bool) -> Void) {
        guard case .object(let g) = json else { return add(n, "a geometry must be a JSON object, not \(json.kindWithArticle)", false) }
        guard let type = g["type"]?.stringValue, geometryTypes.contains(type) else {
            return add(n, "\"\(g["type"]?.stringValue ?? "")\" is not a GeoJSON geometry type (they are case-sensitive)", false)
        }
        forbid(g, ["properties", "geometry", "features"], "geometry", n, add)
        checkBBox(g, n, add)
        if type == "GeometryCollection" {
            guard case .array(let parts)? = g["geometries"] else { return add(n, "a GeometryCollection needs a \"geometries\" array", false) }
            if parts.count == 1 { add(n, "a GeometryCollection of one geometry: use that geometry (or a Multi* type) instead", false) }
            for part in parts {
                if part["type"] == .string("GeometryCollection") { add(n, "GeometryCollections must not be nested", false) }
                if depth < WKB.maxDepth { checkGeometry(part, n, depth: depth + 1, add) }
            }
            return
        }
        guard let coords = g["coordinates"] else { return add(n, "a \(type) needs \"coordinates\"", false) }
        var problem: String?
        func position(_ p: JSONValue) {
            guard case .array(let a) = p, a.allSatisfy({ $0.doubleValue != nil }) else {
                problem = problem ?? "a position must be an array of numbers"
                return
            }
            if a.count < 2 { problem = problem ?? "a position needs at least 2 numbers" }
            if a.count > 3 { add(n, "a position should not have more than 3 numbers (extra ordinates are dropped)", true) }
        }
        func positions(_ v: JSONValue, min: Int, what: String) -> [Coordinate] {
            guard case .array(let a) = v else {
                problem = problem ?? "\(what) must be an array of positions"
                return []
            }
            a.forEach(position)
            if a.count < min { problem = problem ?? "\(what) needs at least \(min) positions, not \(a.count)" }
            return a.compactMap { p in p.arrayValue.flatMap { $0.count >= 2 ? $0 : nil }.flatMap { v in v[0].doubleValue.flatMap { x in v[1].doubleValue.map { Coordinate(x, $0) } } } }
        }
        func rings(_ v: JSONValue) {
            guard case .array(let rs) = v else { problem = problem ?? "a polygon must be an array of rings"; return }
            for (i, r) in rs.enumerated() {
                let ring = positions(r, min: 4, what: "a linear ring")
                // Compare as written: [1, 2] and [1, 2, 4.9] are different positions.
                if let raw = r.arrayValue, let first = raw.first, let last = raw.last, first != last {
                    problem = problem ?? "the first and last positions of a linear ring must be the same"
                }
                if ring.count >= 4, (Geometry.signedRingArea(ring) > 0) != (i == 0), Geometry.signedRingArea(ring) != 0 {
                    add(n, "polygon rings do not follow the right-hand rule (RFC 7946 §3.1.6: shells counter-clockwise, holes clockwise); winding does not matter for storage", true)
                }
            }
        }
        func list(_ v: JSONValue, _ each: (JSONValue) -> Void) {
            guard case .array(let a) = v else { problem = problem ?? "\(type) coordinates must be an array"; return }
            a.forEach(each)
        }
        switch type {
        case "Point": position(coords)
        case "MultiPoint": _ = positions(coords, min: 0, what: "a MultiPoint")
        case "LineString": _ = positions(coords, min: 2, what: "a LineString")
        case "MultiLineString": list(coords) { _ = positions($0, min: 2, what: "a LineString") }
        case "Polygon": rings(coords)
        default: list(coords, rings)
        }
        if let problem { add(n, problem, false) }
    }
}
