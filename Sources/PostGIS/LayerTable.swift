import Features
import Foundation
import Geometry
import PostgresNIO
import Store

/// A layer's table in PostgreSQL and the SQL the store runs against it, built once per
/// process: identifiers come only from a validated layer name and the schema's field names,
/// always quoted.
struct LayerTable: Sendable {
    let schema: LayerSchema
    /// `public."<layer>"`
    let table: String
    /// `fid, ST_AsBinary(geom), id, <canonical…>, properties::text, lm_version, lm_valid_from,
    /// lm_batch`: the order of every SELECT of a feature; `row(_:)` reads it back.
    let select: String
    /// The same columns prefixed with `t.`.
    let selectT: String

    init(_ schema: LayerSchema) {
        self.schema = schema
        table = "public." + Self.quoted(schema.name)
        func columns(_ p: String) -> String {
            var c = ["\(p)fid", "ST_AsBinary(\(p)geom)", "\(p)id"]
            for field in schema.fields {
                let q = p + Self.quoted(field.name)
                c.append(field.type == .date ? "to_char(\(q), 'YYYY-MM-DD')" : q)
            }
            c += ["\(p)properties::text", "\(p)lm_version", "\(p)lm_valid_from", "\(p)lm_batch"]
            return c.joined(separator: ", ")
        }
        select = columns("")
        selectT = columns("t.")
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The PostGIS type of the layer's geometry column (`MULTIPOLYGON` → `MultiPolygon`).
    static func postgisType(_ geometryType: String) -> String {
        switch geometryType.uppercased() {
        case "POINT": "Point"
        case "LINESTRING": "LineString"
        case "POLYGON": "Polygon"
        case "MULTIPOINT": "MultiPoint"
        case "MULTILINESTRING": "MultiLineString"
        case "MULTIPOLYGON": "MultiPolygon"
        case "GEOMETRYCOLLECTION": "GeometryCollection"
        default: "Geometry"
        }
    }

    static func sqlType(_ type: FieldType) -> String {
        switch type {
        case .text: "text"
        case .integer: "bigint"
        case .real: "double precision"
        case .date: "date"
        }
    }

    /// The DDL of a new layer: table, GiST index, key index. Index names are left to
    /// PostgreSQL, which keeps them unique (a 63-character layer name leaves no room for ours).
    var create: [String] {
        let c = Migrations.c
        var columns = ["fid bigserial PRIMARY KEY", "id text \(c) NOT NULL UNIQUE",
                       "geom geometry(\(Self.postgisType(schema.geometryType)), 4326)"]
        columns += schema.fields.map { "\(Self.quoted($0.name)) \(Self.sqlType($0.type))" }
        columns += ["properties jsonb", "lm_version integer NOT NULL DEFAULT 1", "lm_valid_from text \(c) NOT NULL", "lm_batch bigint NOT NULL"]
        var sql = ["CREATE TABLE \(table) (\(columns.joined(separator: ", ")))",
                   "CREATE INDEX ON \(table) USING gist (geom)"]
        if !schema.keyFields.isEmpty, schema.keyFields.allSatisfy({ schema.field($0) != nil }) {
            sql.append("CREATE INDEX ON \(table) (\(schema.keyFields.map(Self.quoted).joined(separator: ", ")))")
        }
        return sql
    }

    /// A canonical value as a bound parameter, cast to its column's type.
    static func bind(_ value: FieldValue, _ type: FieldType, into b: inout Binds) -> String {
        let p: String = switch value {
        case .null: b.addNull()
        case .integer(let i): b.add(i)
        case .real(let d): b.add(d)
        case .text(let s): b.add(s)
        }
        return "\(p)::\(sqlType(type))"
    }

    /// A feature read from a row selected with `select`.
    struct Row {
        var feature: Feature
        var fid: Int64
        var version: Int
        var validFrom: String
        var batch: Int64
        /// The stored WKB, canonical values and JSON of the other properties: what unchanged
        /// detection compares.
        var wkb: [UInt8]?
        var canonical: [FieldValue]
        var extra: [String: JSONValue]?
    }

    func row(_ pgRow: PostgresRow) throws -> Row {
        try row(cells: Array(pgRow))
    }

    func row(cells r: [PostgresCell]) throws -> Row {
        let n = schema.fields.count
        guard r.count == n + 7 else { throw PostGISError.decoding("\(r.count) columns for layer \(schema.name)") }
        let wkb = r[1].bytes.map { Array($0.readableBytesView) }
        let geometry = try wkb.map { try WKB.decode($0) }
        let id = try r[2].decode(String.self)
        var canonical = [FieldValue]()
        canonical.reserveCapacity(n)
        for (i, field) in schema.fields.enumerated() {
            canonical.append(try Self.fieldValue(r[3 + i], field.type))
        }
        var extra: [String: JSONValue]?
        if let text = try r[3 + n].decode(String?.self) {
            extra = try JSONValue.parse(text).objectValue
        }
        var properties = extra ?? [:]
        for (i, field) in schema.fields.enumerated() where canonical[i] != .null {
            properties[field.name] = canonical[i].json
        }
        return Row(feature: Feature(id: id, geometry: geometry, properties: properties),
                   fid: try r[0].decode(Int64.self), version: Int(try r[4 + n].decode(Int64.self)),
                   validFrom: try r[5 + n].decode(String.self), batch: try r[6 + n].decode(Int64.self),
                   wkb: wkb, canonical: canonical, extra: extra)
    }

    static func fieldValue(_ cell: PostgresCell, _ type: FieldType) throws -> FieldValue {
        guard cell.bytes != nil else { return .null }
        switch type {
        case .text, .date: return .text(try cell.decode(String.self))
        case .integer: return .integer(try cell.decode(Int64.self))
        case .real: return .real(try cell.decode(Double.self))
        }
    }

    /// `id, ST_AsBinary(geom), attributes::text` of `landmap_history`, as a feature.
    static func historyFeature(_ r: PostgresRandomAccessRow, at i: Int = 0) throws -> Feature {
        let geometry = try r[i + 1].bytes.map { try WKB.decode($0.readableBytesView) }
        let attributes = try JSONValue.parse(try r[i + 2].decode(String.self)).objectValue ?? [:]
        return Feature(id: try r[i].decode(String.self), geometry: geometry, properties: attributes)
    }
}

extension PostgresRandomAccessRow {
    func string(_ i: Int) throws -> String { try self[i].decode(String.self) }
    func optionalString(_ i: Int) throws -> String? { try self[i].decode(String?.self) }
    func int64(_ i: Int) throws -> Int64 { try self[i].decode(Int64.self) }
    func optionalDouble(_ i: Int) throws -> Double? { try self[i].decode(Double?.self) }
}

extension PostgresCell {
    /// This cell as the binary data it holds. postgres-nio's `prepare(query:)` statements
    /// describe their columns as text, though every row comes back binary (postgres-nio asks
    /// for binary results), so its cells are relabelled before decoding.
    var relabelledBinary: PostgresCell {
        PostgresCell(bytes: bytes, dataType: dataType, format: .binary, columnName: columnName, columnIndex: columnIndex)
    }
}

extension Array where Element == PostgresRow {
    /// The first column of the first row, when there is one.
    func scalar<T: PostgresDecodable>(_ type: T.Type) throws -> T? {
        guard let cell = first?.makeRandomAccess()[0], cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }
}
