import CQL2
import Features
import Foundation
import Geometry
import GRDB
import Store

/// A checked CQL2 filter as a WHERE clause over one layer's feature table: every value the
/// caller wrote is a bound parameter (numbered, `?N`, so an operand may appear twice); the only
/// names in the SQL are the layer's own table, R-tree and columns. Canonical fields are their
/// typed columns, `id` the feature id, the geometry queryable the `geom` blob, any other
/// property `json_extract(properties, ?)`.
///
/// Spatial predicates other than S_DISJOINT first ask the R-tree for the features whose boxes
/// meet the literal's box, then test exactly with GEOS (`cql2_spatial`); dates and timestamps
/// compare as instants (`cql2_instant`); CASEI, ACCENTI and LIKE are the functions of
/// `CQL2Functions`, registered on every connection.
struct CQL2SQLite {
    let schema: LayerSchema
    let kinds: [String: Queryables.Kind]
    private(set) var arguments: [DatabaseValue] = []

    init(schema: LayerSchema, kinds: [String: Queryables.Kind]) {
        self.schema = schema
        self.kinds = kinds
    }

    /// The WHERE clause of `filter` on `schema`'s table, and its arguments.
    static func translate(_ filter: CQL2Filter, schema: LayerSchema) throws -> (sql: String, arguments: [DatabaseValue]) {
        var t = CQL2SQLite(schema: schema, kinds: filter.kinds)
        let sql = try t.predicate(filter.expression)
        return (sql, t.arguments)
    }

    /// Binds a value; its placeholder.
    mutating func bind(_ value: DatabaseValueConvertible?) -> String {
        arguments.append(value?.databaseValue ?? .null)
        return "?\(arguments.count)"
    }

    // MARK: Predicates

    mutating func predicate(_ e: CQL2Expression) throws -> String {
        switch e.kind {
        case .boolean(let b): return b ? "1" : "0"
        case .property: return "(\(try value(e)) = 1)"
        case .not(let a): return "(NOT \(try predicate(a)))"
        case .and(let xs): return Self.joined(try xs.map { try predicate($0) }, "AND")
        case .or(let xs): return Self.joined(try xs.map { try predicate($0) }, "OR")
        case .comparison(let op, let a, let b):
            let temporal = isTemporal(a) || isTemporal(b)
            return "(\(try value(a, instant: temporal)) \(op.rawValue) \(try value(b, instant: temporal)))"
        case .like(let a, let pattern):
            return "(cql2_like(\(try value(a)), \(try value(pattern))) = 1)"
        case .between(let a, let low, let high):
            return "(\(try value(a)) BETWEEN \(try value(low)) AND \(try value(high)))"
        case .in(let a, let list):
            let temporal = ([a] + list).contains(where: isTemporal)
            let item = try value(a, instant: temporal)
            return "(\(item) IN (" + (try list.map { try value($0, instant: temporal) }).joined(separator: ", ") + "))"
        case .isNull(let a): return "(\(try value(a)) IS NULL)"
        case .predicate(let p, let a, let b):
            if p.rawValue.hasPrefix("s_") { return try spatial(p, a, b) }
            if p.rawValue.hasPrefix("t_") { return try temporal(p, a, b) }
            throw CQL2Error("\(p.textName) is not supported", at: e.position)
        default:
            throw CQL2Error("not a predicate", at: e.position)
        }
    }

    /// Terms joined by AND or OR, bracketed in halves: SQLite parses `a OR b OR c …` as a chain
    /// one level deeper per term and refuses one over 1,000 levels (`Expression tree is too
    /// large`), which a client listing a thousand ids as `id = … OR id = …` reaches; halves keep
    /// a list of n terms to about log2(n) levels.
    static func joined(_ terms: [String], _ op: String) -> String {
        guard terms.count > 8 else { return "(" + terms.joined(separator: " \(op) ") + ")" }
        let half = terms.count / 2
        return "(" + joined(Array(terms[..<half]), op) + " \(op) " + joined(Array(terms[half...]), op) + ")"
    }

    /// Runs the statement that holds a filter's clause. SQLite's parser has a fixed stack: SQL
    /// nested about 30 levels deep (`x > (1 + (1 + (1 + …)))`, within CQL2's 64 levels) is a
    /// `parser stack overflow` to SQLite 3.40, as an expression tree over 1,000 levels is too
    /// large. Such a filter is refused as any filter the store cannot run is, a `CQL2Error` (a
    /// 400 for the caller), not as a failure of the store (a 500).
    static func refusingTooDeep<T>(_ filter: CQL2Filter, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR
            && ["parser stack overflow", "Expression tree is too large"].contains(where: { error.message?.contains($0) == true }) {
            throw CQL2Error("the filter nests too deeply for SQLite to run it; write it with fewer levels of brackets", at: filter.expression.position)
        }
    }

    /// Whether a node holds a date or timestamp (so `=`, `<`, IN compare instants).
    func isTemporal(_ e: CQL2Expression) -> Bool {
        switch e.kind {
        case .date, .timestamp: true
        case .property(let name): kinds[name] == .date || kinds[name] == .timestamp
        default: false
        }
    }

    // MARK: Values

    /// A value's SQL; `instant` makes dates and timestamps seconds since 1970.
    mutating func value(_ e: CQL2Expression, instant: Bool = false) throws -> String {
        switch e.kind {
        case .property(let name):
            let column = property(name)
            return instant ? "cql2_instant(\(column))" : column
        case .string(let s): return bind(s)
        case .number(.integer(let i)): return bind(i)
        case .number(.double(let d)): return bind(d)
        case .boolean(let b): return bind(b ? 1 : 0)
        case .date(let s), .timestamp(let s):
            guard instant else { return bind(s) }
            guard let seconds = CQL2Instant.seconds(s) else { throw CQL2Error("'\(s)' is not an instant", at: e.position) }
            return bind(seconds)
        case .casei(let a): return "cql2_casei(\(try value(a)))"
        case .accenti(let a): return "cql2_accenti(\(try value(a)))"
        case .arithmetic(let op, let a, let b):
            let (x, y) = (try value(a), try value(b))
            return switch op {
            case .add, .subtract, .multiply, .modulo: "(\(x) \(op.rawValue) \(y))"
            case .divide: "(CAST(\(x) AS REAL) / \(y))"
            case .integerDivide: "(CAST(\(x) AS INTEGER) / CAST(\(y) AS INTEGER))"
            case .power: "cql2_power(\(x), \(y))"
            }
        case .geometry, .bbox:
            return bind(Data(WKB.encode(try Self.literal(e))))
        default:
            throw CQL2Error("not a value", at: e.position)
        }
    }

    /// A property's column (or its place in the JSON of other properties).
    mutating func property(_ name: String) -> String {
        if kinds[name] == .geometry { return "\"geom\"" }
        if name == "id" || schema.field(name) != nil { return GeoPackageSchema.quoted(name) }
        let member = GeoPackageSchema.jsonMember("\"properties\"", name)
        return member.sql.replacingOccurrences(of: "?", with: bind(member.argument))
    }

    // MARK: Spatial

    /// A geometry or BBOX literal as a geometry; a box across the antimeridian (min x > max x)
    /// is its two halves.
    static func literal(_ e: CQL2Expression) throws -> Geometry {
        switch e.kind {
        case .geometry(let g): return g
        case .bbox(let v):
            let (minX, minY, maxX, maxY) = v.count == 6 ? (v[0], v[1], v[3], v[4]) : (v[0], v[1], v[2], v[3])
            guard minY <= maxY else { throw CQL2Error("BBOX's minimum y exceeds its maximum", at: e.position) }
            if minX <= maxX { return BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY).polygon }
            let east = BoundingBox(minX: minX, minY: minY, maxX: 180, maxY: maxY).polygon
            let west = BoundingBox(minX: -180, minY: minY, maxX: maxX, maxY: maxY).polygon
            guard case .polygon(let a) = east, case .polygon(let b) = west else { return east }
            return .multiPolygon([a, b])
        default:
            throw CQL2Error("not a geometry literal", at: e.position)
        }
    }

    /// The boxes a literal's matches must meet (two for a box across the antimeridian).
    static func boxes(_ e: CQL2Expression) throws -> [BoundingBox] {
        let g = try literal(e)
        if case .multiPolygon(let parts) = g, case .bbox = e.kind {
            return parts.compactMap { Geometry.polygon($0).boundingBox }
        }
        return g.boundingBox.map { [$0] } ?? []
    }

    /// The box a literal is, when it is one (a BBOX not across the antimeridian, or a polygon
    /// of one axis-aligned rectangular ring, as the `bbox` parameter arrives).
    static func rectangle(_ e: CQL2Expression) throws -> BoundingBox? {
        let g = try literal(e)
        guard case .polygon(let rings) = g, rings.count == 1, rings[0].count == 5, let box = g.boundingBox else { return nil }
        let onCorners = rings[0].allSatisfy { ($0.x == box.minX || $0.x == box.maxX) && ($0.y == box.minY || $0.y == box.maxY) }
        let distinct = Set(rings[0].dropLast().map { "\($0.x) \($0.y)" }).count == 4
        return onCorners && distinct ? box : nil
    }

    mutating func spatial(_ p: CQL2Predicate, _ a: CQL2Expression, _ b: CQL2Expression) throws -> String {
        let literalSide: CQL2Expression?
        switch (a.kind, b.kind) {
        case (.property, .geometry), (.property, .bbox): literalSide = b
        case (.geometry, .property), (.bbox, .property): literalSide = a
        default: literalSide = nil
        }
        let exact: String
        if p == .sIntersects, let literalSide, let box = try Self.rectangle(literalSide) {
            // Meeting a rectangle: decided from the feature's envelope when it lies inside or
            // outside, GEOS only for those across the edge (what a map's bbox mostly asks).
            let column = try value(literalSide == a ? b : a)
            exact = "(cql2_intersects_box(\(column), \(bind(box.minX)), \(bind(box.minY)), \(bind(box.maxX)), \(bind(box.maxY))) = 1)"
        } else {
            exact = "(cql2_spatial(\(bind(p.rawValue)), \(try value(a)), \(try value(b))) = 1)"
        }
        guard p != .sDisjoint, let literalSide else { return exact }
        // The R-tree first: a feature whose box misses the literal's box cannot match.
        let boxes = try Self.boxes(literalSide)
        guard !boxes.isEmpty else { return "0" }
        let rtree = GeoPackageSchema.quoted("rtree_\(schema.name)_geom")
        var tests = [String]()
        for box in boxes {
            tests.append("(minx <= \(bind(box.maxX)) AND maxx >= \(bind(box.minX)) AND miny <= \(bind(box.maxY)) AND maxy >= \(bind(box.minY)))")
        }
        return "(\"fid\" IN (SELECT id FROM \(rtree) WHERE \(tests.joined(separator: " OR "))) AND \(exact))"
    }

    // MARK: Temporal

    /// The start and end of an instant or interval, in seconds; `..` is minus or plus infinity.
    /// Only the ends asked for are bound (SQLite counts a statement's arguments up to the
    /// highest placeholder it holds, so none may be left unused); "" for an end not asked for.
    mutating func interval(_ e: CQL2Expression, start needStart: Bool, end needEnd: Bool) throws -> (start: String, end: String) {
        func end(_ x: CQL2Expression, _ open: Double, _ t: inout CQL2SQLite) throws -> String {
            if case .unbounded = x.kind { return t.bind(open) }
            return try t.value(x, instant: true)
        }
        if case .interval(let s, let e) = e.kind {
            return (needStart ? try end(s, -Double.greatestFiniteMagnitude, &self) : "",
                    needEnd ? try end(e, Double.greatestFiniteMagnitude, &self) : "")
        }
        let v = try value(e, instant: true)
        return (v, v)
    }

    /// Allen's relations between two intervals, as `AllenRelations` writes them.
    mutating func temporal(_ p: CQL2Predicate, _ a: CQL2Expression, _ b: CQL2Expression) throws -> String {
        let needs = AllenRelations.ends(of: p)
        let (s1, e1) = try interval(a, start: needs.start1, end: needs.end1)
        let (s2, e2) = try interval(b, start: needs.start2, end: needs.end2)
        return AllenRelations.condition(p, s1: s1, e1: e1, s2: s2, e2: e2) ?? "(0)"
    }
}

extension GeoPackageStore {
    public func features(layer: String, filter: CQL2Filter, limit: Int, offset: Int) throws -> [Feature] {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            let clause = try CQL2SQLite.translate(filter, schema: sql.schema)
            let n = clause.arguments.count
            let query = "SELECT \(sql.row.selectColumns) FROM \(GeoPackageSchema.quoted(layer)) WHERE \(clause.sql) ORDER BY \"fid\" LIMIT ?\(n + 1) OFFSET ?\(n + 2)"
            let rows = try CQL2SQLite.refusingTooDeep(filter) {
                try Row.fetchCursor(db, sql: query, arguments: StatementArguments(clause.arguments + [limit.databaseValue, offset.databaseValue]))
            }
            var out = [Feature]()
            while let row = try rows.next() {
                try Deadline.check()
                out.append(try sql.row.feature(from: row).feature)
            }
            return out
        }
    }

    public func count(layer: String, filter: CQL2Filter) throws -> Int {
        try pool.read { db in
            let sql = try self.layerSQL(db, layer)
            let clause = try CQL2SQLite.translate(filter, schema: sql.schema)
            return try CQL2SQLite.refusingTooDeep(filter) {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \(GeoPackageSchema.quoted(layer)) WHERE \(clause.sql)",
                                 arguments: StatementArguments(clause.arguments))
            } ?? 0
        }
    }
}
