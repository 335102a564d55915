import CQL2
import Features
import Foundation
import Geometry
import Store

/// A checked CQL2 filter as a WHERE clause over one layer's table in PostgreSQL, the twin of
/// the GeoPackage store's `CQL2SQLite`: every value the caller wrote is a bound parameter; the
/// only names in the SQL are the layer's table and columns. Canonical fields are their typed
/// columns, `id` the feature id, the geometry queryable `geom`, other properties read from
/// `properties` (jsonb) as the type the queryables give them. Spatial predicates are PostGIS's
/// own (`ST_Intersects` …, which use the GiST index); dates and timestamps compare as seconds
/// (`landmap_instant`, migration 6); strings compare byte by byte (`COLLATE "C"`), as SQLite's
/// do; LIKE is PostgreSQL's (case-sensitive, `\` escapes), CASEI `lower`, ACCENTI `translate`
/// with the marks `SearchText.withoutAccents` drops.
struct CQL2PostGIS {
    let schema: LayerSchema
    let kinds: [String: Queryables.Kind]
    var binds = Binds()

    static func translate(_ filter: CQL2Filter, schema: LayerSchema, binds: Binds = Binds()) throws -> (sql: String, binds: Binds) {
        var t = CQL2PostGIS(schema: schema, kinds: filter.kinds, binds: binds)
        let sql = try t.predicate(filter.expression)
        return (sql, t.binds)
    }

    // MARK: Predicates

    mutating func predicate(_ e: CQL2Expression) throws -> String {
        switch e.kind {
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case .property: return "(\(try value(e)) = TRUE)"
        case .not(let a): return "(NOT \(try predicate(a)))"
        case .and(let xs): return "(" + (try xs.map { try predicate($0) }).joined(separator: " AND ") + ")"
        case .or(let xs): return "(" + (try xs.map { try predicate($0) }).joined(separator: " OR ") + ")"
        case .comparison(let op, let a, let b):
            let temporal = isTemporal(a) || isTemporal(b)
            // Strings order byte by byte, as in SQLite, whatever the database's collation.
            let collate = op != .equal && op != .notEqual && isString(a) ? " \(Migrations.c)" : ""
            return "((\(try value(a, instant: temporal)))\(collate) \(op.rawValue) (\(try value(b, instant: temporal)))\(collate))"
        case .like(let a, let pattern):
            return "(\(try value(a)) LIKE \(try value(pattern)))"
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

    func isString(_ e: CQL2Expression) -> Bool {
        switch e.kind {
        case .string, .casei, .accenti: true
        case .property(let name): kinds[name] == .string
        default: false
        }
    }

    func isTemporal(_ e: CQL2Expression) -> Bool {
        switch e.kind {
        case .date, .timestamp: true
        case .property(let name): kinds[name] == .date || kinds[name] == .timestamp
        default: false
        }
    }

    // MARK: Values

    mutating func value(_ e: CQL2Expression, instant: Bool = false) throws -> String {
        switch e.kind {
        case .property(let name):
            let column = property(name)
            return instant ? "landmap_instant(\(column))" : column
        case .string(let s): return binds.add(s)
        case .number(.integer(let i)): return binds.add(i)
        case .number(.double(let d)): return binds.add(d)
        case .boolean(let b): return binds.add(b)
        case .date(let s), .timestamp(let s):
            guard instant else { return binds.add(s) }
            guard let seconds = CQL2Instant.seconds(s) else { throw CQL2Error("'\(s)' is not an instant", at: e.position) }
            return binds.add(seconds)
        // The database's own collation: under "C", lower() would fold ASCII alone.
        case .casei(let a): return "lower((\(try value(a))) COLLATE \"default\")"
        case .accenti(let a):
            return "translate(\(try value(a)), \(binds.add(Self.accented)), \(binds.add(Self.plain)))"
        case .arithmetic(let op, let a, let b):
            let (x, y) = (try value(a), try value(b))
            return switch op {
            case .add, .subtract, .multiply: "((\(x))::float8 \(op.rawValue) (\(y))::float8)"
            case .divide: "((\(x))::float8 / NULLIF((\(y))::float8, 0))"
            case .modulo: "mod((\(x))::numeric, NULLIF((\(y))::numeric, 0))"
            case .integerDivide: "div((\(x))::numeric, NULLIF((\(y))::numeric, 0))"
            case .power: "power((\(x))::float8, (\(y))::float8)"
            }
        case .geometry, .bbox:
            return "ST_GeomFromWKB(\(binds.add(bytes: WKB.encode(try Self.literal(e)))), 4326)"
        default:
            throw CQL2Error("not a value", at: e.position)
        }
    }

    /// A property's column, or its value in `properties` as the queryable's type (NULL when a
    /// feature holds another type there, as SQLite's comparisons would not match it either).
    mutating func property(_ name: String) -> String {
        if kinds[name] == .geometry { return "geom" }
        if name == "id" { return "id" }
        if let field = schema.field(name) {
            let column = LayerTable.quoted(name)
            return field.type == .date ? "to_char(\(column), 'YYYY-MM-DD')" : column
        }
        let key = binds.add(name)
        return switch kinds[name] {
        case .number?, .integer?: "(CASE WHEN jsonb_typeof(properties -> \(key)) = 'number' THEN (properties ->> \(key))::float8 END)"
        case .boolean?: "(CASE WHEN jsonb_typeof(properties -> \(key)) = 'boolean' THEN (properties ->> \(key))::boolean END)"
        default: "(properties ->> \(key))"
        }
    }

    /// ACCENTI's table for `translate`: each precomposed Latin letter with marks and its plain
    /// letter (`SearchText.withoutAccents`, so both backends fold alike), then the combining
    /// marks, which `translate` drops (they have no partner).
    static let (accented, plain): (String, String) = {
        var from = "", to = ""
        let ranges: [ClosedRange<UInt32>] = [0x00C0...0x024F, 0x1E00...0x1EFF]
        for range in ranges {
            for v in range {
                guard let scalar = Unicode.Scalar(v) else { continue }
                let s = String(Character(scalar))
                let folded = SearchText.withoutAccents(s)
                guard folded != s, folded.unicodeScalars.count == 1 else { continue }
                from += s
                to += folded
            }
        }
        for v in UInt32(0x0300)...UInt32(0x036F) {
            if let scalar = Unicode.Scalar(v) { from.unicodeScalars.append(scalar) }
        }
        return (from, to)
    }()

    // MARK: Spatial

    static func literal(_ e: CQL2Expression) throws -> Geometry {
        switch e.kind {
        case .geometry(let g): return g
        case .bbox(let v):
            let (minX, minY, maxX, maxY) = v.count == 6 ? (v[0], v[1], v[3], v[4]) : (v[0], v[1], v[2], v[3])
            guard minY <= maxY else { throw CQL2Error("BBOX's minimum y exceeds its maximum", at: e.position) }
            if minX <= maxX { return BoundingBox(minX: minX, minY: minY, maxX: maxX, maxY: maxY).polygon }
            // Across the antimeridian: its two halves.
            guard case .polygon(let a) = BoundingBox(minX: minX, minY: minY, maxX: 180, maxY: maxY).polygon,
                  case .polygon(let b) = BoundingBox(minX: -180, minY: minY, maxX: maxX, maxY: maxY).polygon else {
                throw CQL2Error("BBOX could not be made a polygon", at: e.position)
            }
            return .multiPolygon([a, b])
        default:
            throw CQL2Error("not a geometry literal", at: e.position)
        }
    }

    mutating func spatial(_ p: CQL2Predicate, _ a: CQL2Expression, _ b: CQL2Expression) throws -> String {
        let function = switch p {
        case .sIntersects: "ST_Intersects"
        case .sDisjoint: "ST_Disjoint"
        case .sEquals: "ST_Equals"
        case .sTouches: "ST_Touches"
        case .sWithin: "ST_Within"
        case .sContains: "ST_Contains"
        case .sCrosses: "ST_Crosses"
        default: "ST_Overlaps"
        }
        return "\(function)(\(try value(a)), \(try value(b)))"
    }

    // MARK: Temporal

    /// As `CQL2SQLite.interval`: only the ends a relation reads are bound.
    mutating func interval(_ e: CQL2Expression, start needStart: Bool, end needEnd: Bool) throws -> (start: String, end: String) {
        func end(_ x: CQL2Expression, _ open: Double, _ t: inout CQL2PostGIS) throws -> String {
            if case .unbounded = x.kind { return t.binds.add(open) }
            return try t.value(x, instant: true)
        }
        if case .interval(let s, let e) = e.kind {
            return (needStart ? try end(s, -Double.greatestFiniteMagnitude, &self) : "",
                    needEnd ? try end(e, Double.greatestFiniteMagnitude, &self) : "")
        }
        let v = try value(e, instant: true)
        return (v, v)
    }

    mutating func temporal(_ p: CQL2Predicate, _ a: CQL2Expression, _ b: CQL2Expression) throws -> String {
        let needs = AllenRelations.ends(of: p)
        let (s1, e1) = try interval(a, start: needs.start1, end: needs.end1)
        let (s2, e2) = try interval(b, start: needs.start2, end: needs.end2)
        return AllenRelations.condition(p, s1: s1, e1: e1, s2: s2, e2: e2) ?? "(FALSE)"
    }
}

extension PostGISStore {
    public func features(layer: String, filter: CQL2Filter, limit: Int, offset: Int) throws -> [Feature] {
        try read(snapshot: false) { s in
            let table = try self.layerTable(s, layer)
            var (clause, b) = try CQL2PostGIS.translate(filter, schema: table.schema)
            let page = " ORDER BY fid LIMIT \(b.add(max(0, limit))) OFFSET \(b.add(max(0, offset)))"
            return try s.query("SELECT \(table.select) FROM \(table.table) WHERE \(clause)\(page)", b.bindings).map { try table.row($0).feature }
        }
    }

    public func count(layer: String, filter: CQL2Filter) throws -> Int {
        try read(snapshot: false) { s in
            let table = try self.layerTable(s, layer)
            let (clause, b) = try CQL2PostGIS.translate(filter, schema: table.schema)
            return Int(try s.query("SELECT count(*) FROM \(table.table) WHERE \(clause)", b.bindings).scalar(Int64.self) ?? 0)
        }
    }
}
