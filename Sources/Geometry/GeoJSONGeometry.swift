/// GeoJSON geometry objects (RFC 7946 §3.1) to and from `Geometry`.
///
/// Reading is strict where RFC 7946 says MUST: positions have two or more numbers, linear
/// rings are closed with four or more positions. Winding is not enforced on input (RFC 7946
/// asks parsers not to reject it); `rewound()` produces the right-hand rule for output.
public enum GeoJSONGeometry {
    public static func decode(_ json: JSONValue) throws -> Geometry {
        try decode(json, depth: 0)
    }

    public static func decode(text: String) throws -> Geometry {
        try decode(JSONValue.parse(text))
    }

    static func decode(_ json: JSONValue, depth: Int) throws -> Geometry {
        guard depth <= WKB.maxDepth else { throw GeometryError("GeoJSON geometry collections nest too deep") }
        guard case .object(let o) = json else { throw GeometryError("a geometry must be a JSON object, not \(json.kindWithArticle)") }
        guard let type = o["type"]?.stringValue else { throw GeometryError("a geometry has no \"type\" string") }
        if type == "GeometryCollection" {
            guard let parts = o["geometries"]?.arrayValue else {
                throw GeometryError("a GeometryCollection has no \"geometries\" array")
            }
            return .geometryCollection(try parts.map { try decode($0, depth: depth + 1) })
        }
        guard let coords = o["coordinates"] else { throw GeometryError("a \(type) has no \"coordinates\"") }
        switch type {
        case "Point":
            if case .array(let a) = coords, a.isEmpty { return .point(nil) }
            return .point(try position(coords))
        case "LineString":
            let cs = try positions(coords)
            guard cs.isEmpty || cs.count >= 2 else { throw GeometryError("a LineString needs two or more positions") }
            return .lineString(cs)
        case "Polygon":
            return .polygon(try rings(coords))
        case "MultiPoint":
            return .multiPoint(try positions(coords))
        case "MultiLineString":
            return .multiLineString(try array(coords, "MultiLineString").map(positions))
        case "MultiPolygon":
            return .multiPolygon(try array(coords, "MultiPolygon").map(rings))
        default:
            throw GeometryError("\"\(type)\" is not a GeoJSON geometry type")
        }
    }

    private static func array(_ json: JSONValue, _ what: String) throws -> [JSONValue] {
        guard case .array(let a) = json else { throw GeometryError("\(what) coordinates must be an array, not \(json.kindWithArticle)") }
        return a
    }

    private static func position(_ json: JSONValue) throws -> Coordinate {
        guard case .array(let a) = json, a.count >= 2, let x = a[0].doubleValue, let y = a[1].doubleValue else {
            throw GeometryError("a position must be an array of two or more numbers")
        }
        guard x.isFinite, y.isFinite else { throw GeometryError("a position has a non-finite number") }
        return Coordinate(x, y)
    }

    private static func positions(_ json: JSONValue) throws -> [Coordinate] {
        try array(json, "position list").map(position)
    }

    private static func rings(_ json: JSONValue) throws -> [[Coordinate]] {
        try array(json, "Polygon").map { ringJSON in
            let ring = try positions(ringJSON)
            guard ring.count >= 4 else { throw GeometryError("a linear ring needs four or more positions, this one has \(ring.count)") }
            guard ring.first == ring.last else { throw GeometryError("a linear ring must end where it starts") }
            return ring
        }
    }

    public static func encode(_ g: Geometry) -> JSONValue {
        func pos(_ c: Coordinate) -> JSONValue { .array([.number(c.x), .number(c.y)]) }
        func line(_ cs: [Coordinate]) -> JSONValue { .array(cs.map(pos)) }
        func poly(_ rings: [[Coordinate]]) -> JSONValue { .array(rings.map(line)) }
        switch g {
        case .point(let c): return .object(["type": "Point", "coordinates": c.map(pos) ?? .array([])])
        case .lineString(let cs): return .object(["type": "LineString", "coordinates": line(cs)])
        case .polygon(let rings): return .object(["type": "Polygon", "coordinates": poly(rings)])
        case .multiPoint(let cs): return .object(["type": "MultiPoint", "coordinates": line(cs)])
        case .multiLineString(let ls): return .object(["type": "MultiLineString", "coordinates": .array(ls.map(line))])
        case .multiPolygon(let ps): return .object(["type": "MultiPolygon", "coordinates": .array(ps.map(poly))])
        case .geometryCollection(let gs): return .object(["type": "GeometryCollection", "geometries": .array(gs.map(encode))])
        }
    }

    /// GeoJSON text of the geometry, written directly (no intermediate value).
    public static func text(_ g: Geometry) -> String {
        var out = ""
        write(g, into: &out)
        return out
    }

    public static func write(_ g: Geometry, into out: inout String) {
        // Non-finite numbers as `null`, as `JSONValue` writes them: JSON has no NaN.
        func number(_ v: Double) { out += v.isFinite ? WKT.number(v) : "null" }
        func pos(_ c: Coordinate) { out += "["; number(c.x); out += ","; number(c.y); out += "]" }
        func line(_ cs: [Coordinate]) {
            out += "["
            for (i, c) in cs.enumerated() { if i > 0 { out += "," }; pos(c) }
            out += "]"
        }
        func poly(_ rings: [[Coordinate]]) {
            out += "["
            for (i, r) in rings.enumerated() { if i > 0 { out += "," }; line(r) }
            out += "]"
        }
        switch g {
        case .point(let c):
            out += "{\"type\":\"Point\",\"coordinates\":"
            if let c { pos(c) } else { out += "[]" }
        case .lineString(let cs): out += "{\"type\":\"LineString\",\"coordinates\":"; line(cs)
        case .polygon(let rings): out += "{\"type\":\"Polygon\",\"coordinates\":"; poly(rings)
        case .multiPoint(let cs): out += "{\"type\":\"MultiPoint\",\"coordinates\":"; line(cs)
        case .multiLineString(let ls):
            out += "{\"type\":\"MultiLineString\",\"coordinates\":["
            for (i, l) in ls.enumerated() { if i > 0 { out += "," }; line(l) }
            out += "]"
        case .multiPolygon(let ps):
            out += "{\"type\":\"MultiPolygon\",\"coordinates\":["
            for (i, p) in ps.enumerated() { if i > 0 { out += "," }; poly(p) }
            out += "]"
        case .geometryCollection(let gs):
            out += "{\"type\":\"GeometryCollection\",\"geometries\":["
            for (i, part) in gs.enumerated() { if i > 0 { out += "," }; write(part, into: &out) }
            out += "]"
        }
        out += "}"
    }
}

extension Geometry {
    /// Polygons wound by the right-hand rule of RFC 7946: shells counter-clockwise, holes clockwise.
    public func rewound() -> Geometry {
        func fix(_ rings: [[Coordinate]]) -> [[Coordinate]] {
            rings.enumerated().map { i, ring in
                let ccw = Geometry.signedRingArea(ring) > 0
                return (i == 0) == ccw ? ring : ring.reversed()
            }
        }
        switch self {
        case .polygon(let rings): return .polygon(fix(rings))
        case .multiPolygon(let ps): return .multiPolygon(ps.map(fix))
        case .geometryCollection(let gs): return .geometryCollection(gs.map { $0.rewound() })
        default: return self
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}
