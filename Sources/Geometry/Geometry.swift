/// A 2D position: `x` is easting or longitude, `y` northing or latitude, whatever the CRS.
public struct Coordinate: Hashable, Sendable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// A 2D simple-features geometry as a plain Swift value.
///
/// Values cross threads and tasks freely (`Sendable`); GEOS handles never do. Codecs
/// (WKB, WKT, GeoJSON) work on this type directly, and `GeosContext` turns it into a GEOS
/// geometry only for the operations that need GEOS. Z and M ordinates are dropped on input.
public enum Geometry: Hashable, Sendable {
    /// `nil` is `POINT EMPTY`.
    case point(Coordinate?)
    case lineString([Coordinate])
    /// Rings: the shell first, then holes. No rings is `POLYGON EMPTY`.
    case polygon([[Coordinate]])
    case multiPoint([Coordinate])
    case multiLineString([[Coordinate]])
    case multiPolygon([[[Coordinate]]])
    case geometryCollection([Geometry])

    /// The kind of geometry, named as in WKT and GeoPackage (`POINT`, `MULTIPOLYGON`, …).
    public var typeName: String {
        switch self {
        case .point: "POINT"
        case .lineString: "LINESTRING"
        case .polygon: "POLYGON"
        case .multiPoint: "MULTIPOINT"
        case .multiLineString: "MULTILINESTRING"
        case .multiPolygon: "MULTIPOLYGON"
        case .geometryCollection: "GEOMETRYCOLLECTION"
        }
    }

    /// The ISO WKB type code of this kind (1 = Point … 7 = GeometryCollection).
    public var wkbTypeCode: UInt32 {
        switch self {
        case .point: 1
        case .lineString: 2
        case .polygon: 3
        case .multiPoint: 4
        case .multiLineString: 5
        case .multiPolygon: 6
        case .geometryCollection: 7
        }
    }

    public var isEmpty: Bool {
        switch self {
        case .point(let c): c == nil
        case .lineString(let cs), .multiPoint(let cs): cs.isEmpty
        case .polygon(let rings), .multiLineString(let rings): rings.isEmpty
        case .multiPolygon(let polys): polys.isEmpty
        case .geometryCollection(let gs): gs.allSatisfy(\.isEmpty)
        }
    }

    /// True for polygons and multipolygons: the kinds an areal layer (parcels, zoning, admin) holds.
    public var isAreal: Bool {
        switch self {
        case .polygon, .multiPolygon: true
        default: false
        }
    }

    /// Calls `body` for every coordinate, in order.
    public func forEachCoordinate(_ body: (Coordinate) throws -> Void) rethrows {
        switch self {
        case .point(let c):
            if let c { try body(c) }
        case .lineString(let cs), .multiPoint(let cs):
            for c in cs { try body(c) }
        case .polygon(let rings), .multiLineString(let rings):
            for ring in rings { for c in ring { try body(c) } }
        case .multiPolygon(let polys):
            for rings in polys { for ring in rings { for c in ring { try body(c) } } }
        case .geometryCollection(let gs):
            for g in gs { try g.forEachCoordinate(body) }
        }
    }

    /// The same geometry with every coordinate passed through `transform`.
    public func mapCoordinates(_ transform: (Coordinate) throws -> Coordinate) rethrows -> Geometry {
        switch self {
        case .point(let c): return .point(try c.map(transform))
        case .lineString(let cs): return .lineString(try cs.map(transform))
        case .multiPoint(let cs): return .multiPoint(try cs.map(transform))
        case .polygon(let rings): return .polygon(try rings.map { try $0.map(transform) })
        case .multiLineString(let lines): return .multiLineString(try lines.map { try $0.map(transform) })
        case .multiPolygon(let polys):
            return .multiPolygon(try polys.map { try $0.map { try $0.map(transform) } })
        case .geometryCollection(let gs): return .geometryCollection(try gs.map { try $0.mapCoordinates(transform) })
        }
    }

    /// Number of coordinates, counted without building anything.
    public var coordinateCount: Int {
        var n = 0
        forEachCoordinate { _ in n += 1 }
        return n
    }

    /// The smallest axis-aligned box holding every coordinate; `nil` when empty.
    public var boundingBox: BoundingBox? {
        var box: BoundingBox?
        forEachCoordinate { c in
            if box == nil { box = BoundingBox(minX: c.x, minY: c.y, maxX: c.x, maxY: c.y) } else { box?.expand(toInclude: c) }
        }
        return box
    }

    /// A polygon as a one-member multipolygon; every other geometry unchanged.
    public var promotedToMulti: Geometry {
        if case .polygon(let rings) = self { return rings.isEmpty ? .multiPolygon([]) : .multiPolygon([rings]) }
        return self
    }

    /// Planar area by the shoelace formula, holes subtracted, in the squared units of the
    /// coordinates. Lines and points have none. Meant for projected coordinates (metres).
    public var planarArea: Double {
        switch self {
        case .polygon(let rings): return Self.polygonArea(rings)
        case .multiPolygon(let polys): return polys.reduce(0) { $0 + Self.polygonArea($1) }
        case .geometryCollection(let gs): return gs.reduce(0) { $0 + $1.planarArea }
        default: return 0
        }
    }

    private static func polygonArea(_ rings: [[Coordinate]]) -> Double {
        guard let shell = rings.first else { return 0 }
        var area = abs(signedRingArea(shell))
        for hole in rings.dropFirst() { area -= abs(signedRingArea(hole)) }
        return area
    }

    /// Positive for a counter-clockwise ring (x right, y up).
    public static func signedRingArea(_ ring: [Coordinate]) -> Double {
        guard ring.count >= 3 else { return 0 }
        // Shift by the first point: keeps precision for large projected coordinates.
        let o = ring[0]
        var sum = 0.0
        for i in 0..<(ring.count - 1) {
            let a = ring[i], b = ring[i + 1]
            sum += (a.x - o.x) * (b.y - o.y) - (b.x - o.x) * (a.y - o.y)
        }
        return sum / 2
    }
}

/// An axis-aligned rectangle, `minX ≤ maxX` and `minY ≤ maxY`.
public struct BoundingBox: Hashable, Sendable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    public mutating func expand(toInclude c: Coordinate) {
        minX = Swift.min(minX, c.x)
        minY = Swift.min(minY, c.y)
        maxX = Swift.max(maxX, c.x)
        maxY = Swift.max(maxY, c.y)
    }

    public mutating func expand(toInclude other: BoundingBox) {
        minX = Swift.min(minX, other.minX)
        minY = Swift.min(minY, other.minY)
        maxX = Swift.max(maxX, other.maxX)
        maxY = Swift.max(maxY, other.maxY)
    }

    public func intersects(_ other: BoundingBox) -> Bool {
        minX <= other.maxX && other.minX <= maxX && minY <= other.maxY && other.minY <= maxY
    }

    public func contains(_ c: Coordinate) -> Bool {
        c.x >= minX && c.x <= maxX && c.y >= minY && c.y <= maxY
    }

    /// Whether `other` lies wholly within this box, edges included.
    public func contains(_ other: BoundingBox) -> Bool {
        other.minX >= minX && other.maxX <= maxX && other.minY >= minY && other.maxY <= maxY
    }

    /// The box as a closed, counter-clockwise polygon.
    public var polygon: Geometry {
        .polygon([[Coordinate(minX, minY), Coordinate(maxX, minY), Coordinate(maxX, maxY),
                   Coordinate(minX, maxY), Coordinate(minX, minY)]])
    }
}
