import Features
import Foundation
import Geometry
import GRDB
import Store

/// Converts between a feature and the columns of its table row, for one layer schema.
struct FeatureRow: Sendable {
    let schema: LayerSchema
    /// `fid, geom, id, <canonical…>, properties, lm_version, lm_valid_from, lm_batch`: the order
    /// of every SELECT the store makes of a feature table.
    let columnNames: [String]
    let selectColumns: String

    init(schema: LayerSchema) {
        self.schema = schema
        columnNames = ["fid", "geom", "id"] + schema.fields.map(\.name) + ["properties", "lm_version", "lm_valid_from", "lm_batch"]
        selectColumns = columnNames.map(GeoPackageSchema.quoted).joined(separator: ", ")
    }

    /// The canonical column values and the JSON text of the other properties.
    func columns(of feature: Feature) throws -> (canonical: [DatabaseValue], extra: String?) {
        var canonical = [DatabaseValue]()
        canonical.reserveCapacity(schema.fields.count)
        for field in schema.fields {
            canonical.append(try Self.value(feature.properties[field.name] ?? .null, as: field, layer: schema.name, id: feature.id))
        }
        var rest = feature.properties
        for field in schema.fields { rest.removeValue(forKey: field.name) }
        return (canonical, rest.isEmpty ? nil : JSONValue.object(rest).jsonText)
    }

    /// Reads a feature from a row selected with `selectColumns`.
    func feature(from row: some FeatureColumns) throws -> (feature: Feature, fid: Int64, version: Int, validFrom: String, batch: Int64) {
        try feature(from: row, geometry: try row.withBlob(1) { try $0.map(GeoPackageBinary.decode) })
    }

    /// The same, with the geometry already decoded from column 1.
    func feature(from row: some FeatureColumns, geometry: Geometry?) throws -> (feature: Feature, fid: Int64, version: Int, validFrom: String, batch: Int64) {
        let id = row.text(2) ?? ""
        var properties = [String: JSONValue]()
        if let extra = row.text(3 + schema.fields.count), case .object(let o) = try JSONValue.parse(extra) {
            properties = o
        }
        for (i, field) in schema.fields.enumerated() {
            let v = row.json(3 + i)
            if v != .null { properties[field.name] = v }
        }
        let n = 4 + schema.fields.count
        return (Feature(id: id, geometry: geometry, properties: properties), row.int64(0), Int(row.int64(n)), row.text(n + 1) ?? "", row.int64(n + 2))
    }

    static func json(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .number(d)
        case .string(let s): .string(s)
        case .blob(let b): .string(b.base64EncodedString())
        }
    }

    /// A column's value as every backend names it.
    static func fieldValue(_ value: DatabaseValue) -> FieldValue {
        switch value.storage {
        case .null: .null
        case .int64(let i): .integer(i)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let b): .text(b.base64EncodedString())
        }
    }

    /// A property value as the typed column wants it, or an error naming the field.
    static func value(_ v: JSONValue, as field: FieldDefinition, layer: String, id: String) throws -> DatabaseValue {
        try FieldValue.coerce(v, as: field, layer: layer, id: id).databaseValue
    }
}

extension JSONValue {
    /// The value as SQLite stores it (objects and arrays as JSON text).
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .bool(let b): (b ? 1 : 0).databaseValue
        case .integer(let i): i.databaseValue
        case .number(let d): d.databaseValue
        case .string(let s): s.databaseValue
        case .array, .object: jsonText.databaseValue
        }
    }
}

extension FieldValue {
    /// The value as SQLite stores it.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let i): i.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        }
    }
}

/// A feature row's columns by index: a GRDB `Row`, or a statement stepped in place (`RawRows`,
/// for the hot paths), read by one decoder.
protocol FeatureColumns {
    func int64(_ column: Int) -> Int64
    func text(_ column: Int) -> String?
    /// The column as a property value (NULL as `.null`, a blob as base64 text).
    func json(_ column: Int) -> JSONValue
    /// The blob's bytes where they lie, nil for NULL, for the call only.
    func withBlob<T>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T
}

extension Row: FeatureColumns {
    func int64(_ column: Int) -> Int64 { self[column] }
    func text(_ column: Int) -> String? { self[column] }
    func json(_ column: Int) -> JSONValue { FeatureRow.json(self[column] as DatabaseValue) }
    func withBlob<T>(_ column: Int, _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        guard let data = dataNoCopy(atIndex: column) else { return try body(nil) }
        return try data.withUnsafeBytes { try body($0) }
    }
}
