import Geometry

/// A filter that has passed `CQL2Filter.check` against a layer's queryables: every property it
/// names is one of them, every operator gets operands of the types it takes, and the whole is a
/// predicate. The stores translate only this, never an unchecked tree, so a backend never sees a
/// name outside the queryables (a private field, a column of its own) or an operator it cannot
/// run. `kinds` holds the type of each property the filter names.
public struct CQL2Filter: Hashable, Sendable, CustomStringConvertible {
    public let expression: CQL2Expression
    public let kinds: [String: Queryables.Kind]

    /// Checks `expression` against `queryables`; the error names the offending node's position.
    public static func check(_ expression: CQL2Expression, against queryables: Queryables) throws -> CQL2Filter {
        var checker = TypeChecker(queryables: queryables)
        let type = try checker.type(of: expression)
        guard type == .boolean else {
            throw CQL2Error("a filter must be a predicate (true or false), not a \(type.word)", at: expression.position)
        }
        return CQL2Filter(expression: expression, kinds: checker.used)
    }

    /// This filter AND `other` (a conjunct the caller built from checked parts, such as the
    /// `bbox` parameter as `S_INTERSECTS`).
    public func and(_ other: CQL2Filter) -> CQL2Filter {
        CQL2Filter(expression: CQL2Expression(.and([expression, other.expression]), at: expression.position),
                   kinds: kinds.merging(other.kinds) { a, _ in a })
    }

    /// `S_INTERSECTS(geometryProperty, geometry)`: a layer's features that meet a geometry, as a
    /// checked filter (what the `bbox` parameter becomes beside a `filter`).
    public static func intersects(_ geometryProperty: String, _ geometry: CQL2Expression) -> CQL2Filter {
        CQL2Filter(expression: CQL2Expression(.predicate(.sIntersects, CQL2Expression(.property(geometryProperty)), geometry)),
                   kinds: [geometryProperty: .geometry])
    }

    /// The same filter with each geometry literal replaced (by `filter-crs`'s transformation
    /// into longitude/latitude); BBOX literals are handed over as their polygons.
    public func mappingGeometries(_ transform: (Geometry) throws -> Geometry) throws -> CQL2Filter {
        CQL2Filter(expression: try Self.map(expression, transform), kinds: kinds)
    }

    private static func map(_ e: CQL2Expression, _ f: (Geometry) throws -> Geometry) throws -> CQL2Expression {
        func m(_ x: CQL2Expression) throws -> CQL2Expression { try map(x, f) }
        let kind: CQL2Expression.Kind
        switch e.kind {
        case .geometry(let g): kind = .geometry(try f(g))
        case .bbox(let v):
            let (minX, minY, maxX, maxY) = v.count == 6 ? (v[0], v[1], v[3], v[4]) : (v[0], v[1], v[2], v[3])
            kind = .geometry(try f(BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY).densifiedPolygon))
        case .property, .string, .number, .boolean, .date, .timestamp, .unbounded: return e
        case .interval(let a, let b): kind = .interval(try m(a), try m(b))
        case .array(let xs): kind = .array(try xs.map(m))
        case .not(let a): kind = .not(try m(a))
        case .and(let xs): kind = .and(try xs.map(m))
        case .or(let xs): kind = .or(try xs.map(m))
        case .comparison(let op, let a, let b): kind = .comparison(op, try m(a), try m(b))
        case .like(let a, let b): kind = .like(try m(a), try m(b))
        case .between(let a, let b, let c): kind = .between(try m(a), try m(b), try m(c))
        case .in(let a, let xs): kind = .in(try m(a), try xs.map(m))
        case .isNull(let a): kind = .isNull(try m(a))
        case .arithmetic(let op, let a, let b): kind = .arithmetic(op, try m(a), try m(b))
        case .predicate(let p, let a, let b): kind = .predicate(p, try m(a), try m(b))
        case .casei(let a): kind = .casei(try m(a))
        case .accenti(let a): kind = .accenti(try m(a))
        case .function(let name, let xs): kind = .function(name, try xs.map(m))
        }
        return CQL2Expression(kind, at: e.position)
    }

    public var description: String { expression.description }
}

extension BoundingBox {
    /// The box as a closed polygon with 16 points per edge, so that it stays close to its true
    /// shape once transformed into another CRS.
    public var densifiedPolygon: Geometry {
        var ring = [Coordinate]()
        let n = 16
        for i in 0..<n { ring.append(Coordinate(minX + (maxX - minX) * Double(i) / Double(n), minY)) }
        for i in 0..<n { ring.append(Coordinate(maxX, minY + (maxY - minY) * Double(i) / Double(n))) }
        for i in 0..<n { ring.append(Coordinate(maxX - (maxX - minX) * Double(i) / Double(n), maxY)) }
        for i in 0..<n { ring.append(Coordinate(minX, maxY - (maxY - minY) * Double(i) / Double(n))) }
        ring.append(ring[0])
        return .polygon([ring])
    }
}

/// The type of a node, as the checker infers it.
enum ValueType: Equatable {
    case string, number, boolean, date, timestamp, geometry, interval, unbounded, array

    var word: String {
        switch self {
        case .string: "string"
        case .number: "number"
        case .boolean: "boolean"
        case .date: "date"
        case .timestamp: "timestamp"
        case .geometry: "geometry"
        case .interval: "interval"
        case .unbounded: "open interval end ('..')"
        case .array: "array"
        }
    }

    var isTemporal: Bool { self == .date || self == .timestamp || self == .interval }
    /// Values `=`, `<` … compare: the scalars.
    var isScalar: Bool { [.string, .number, .boolean, .date, .timestamp].contains(self) }
}

/// Infers and checks the type of every node; records the properties it meets.
struct TypeChecker {
    let queryables: Queryables
    var used: [String: Queryables.Kind] = [:]

    mutating func type(of e: CQL2Expression) throws -> ValueType {
        switch e.kind {
        case .property(let name):
            guard let kind = queryables[name] else {
                let list = queryables.names.joined(separator: ", ")
                throw CQL2Error("'\(CQL2.clip(name))' is not a queryable of this collection; queryables: \(list.isEmpty ? "none" : list)", at: e.position)
            }
            used[name] = kind
            return switch kind {
            case .string: .string
            case .number, .integer: .number
            case .boolean: .boolean
            case .date: .date
            case .timestamp: .timestamp
            case .geometry: .geometry
            }
        case .string: return .string
        case .number: return .number
        case .boolean: return .boolean
        case .date: return .date
        case .timestamp: return .timestamp
        case .unbounded: return .unbounded
        case .geometry, .bbox: return .geometry
        case .interval(let a, let b):
            for end in [a, b] {
                let t = try type(of: end)
                guard t == .date || t == .timestamp || t == .unbounded else {
                    throw CQL2Error("an interval's ends are dates, timestamps or '..', not a \(t.word)", at: end.position)
                }
            }
            return .interval
        case .array(let xs):
            for x in xs { _ = try type(of: x) }
            return .array
        case .not(let a):
            try expect(a, .boolean, "NOT")
            return .boolean
        case .and(let xs), .or(let xs):
            for x in xs { try expect(x, .boolean, e.kind.isAnd ? "AND" : "OR") }
            return .boolean
        case .comparison(let op, let a, let b):
            try comparable([a, b], "'\(op.rawValue)'")
            return .boolean
        case .like(let a, let b):
            try expect(a, .string, "LIKE")
            try expect(b, .string, "LIKE")
            return .boolean
        case .between(let a, let low, let high):
            try expect(a, .number, "BETWEEN")
            try expect(low, .number, "BETWEEN")
            try expect(high, .number, "BETWEEN")
            return .boolean
        case .in(let a, let list):
            try comparable([a] + list, "IN")
            return .boolean
        case .isNull(let a):
            _ = try type(of: a)
            return .boolean
        case .arithmetic(let op, let a, let b):
            try expect(a, .number, "'\(op.rawValue)'")
            try expect(b, .number, "'\(op.rawValue)'")
            return .number
        case .predicate(let p, let a, let b):
            switch p.rawValue.prefix(2) {
            case "s_":
                try expect(a, .geometry, p.textName)
                try expect(b, .geometry, p.textName)
            case "t_":
                for x in [a, b] {
                    let t = try type(of: x)
                    guard t.isTemporal else { throw CQL2Error("\(p.textName) takes dates, timestamps or intervals, not a \(t.word)", at: x.position) }
                }
            default:
                throw CQL2Error("array functions (\(p.textName)) are not supported", at: e.position)
            }
            return .boolean
        case .casei(let a), .accenti(let a):
            try expect(a, .string, e.kind.isCasei ? "CASEI" : "ACCENTI")
            return .string
        case .function(let name, _):
            throw CQL2Error("function '\(CQL2.clip(name))' is not supported", at: e.position)
        }
    }

    private mutating func expect(_ e: CQL2Expression, _ wanted: ValueType, _ what: String) throws {
        let t = try type(of: e)
        guard t == wanted else { throw CQL2Error("\(what) takes a \(wanted.word) here, not a \(t.word)", at: e.position) }
    }

    /// Operands of `=`, `<`, IN …: scalars of one type (a date and a timestamp compare as instants).
    private mutating func comparable(_ operands: [CQL2Expression], _ what: String) throws {
        var first: ValueType?
        for x in operands {
            let t = try type(of: x)
            guard t.isScalar else { throw CQL2Error("\(what) compares strings, numbers, booleans, dates or timestamps, not a \(t.word)", at: x.position) }
            if let f = first {
                guard f == t || (f.isTemporal && t.isTemporal) else {
                    throw CQL2Error("\(what) compares a \(f.word) with a \(t.word)", at: x.position)
                }
            } else {
                first = t
            }
        }
    }
}

extension CQL2Expression.Kind {
    var isAnd: Bool { if case .and = self { true } else { false } }
    var isCasei: Bool { if case .casei = self { true } else { false } }
}
