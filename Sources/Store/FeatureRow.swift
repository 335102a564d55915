import Features
import Foundation
import Geometry
import GRDB

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
    func feature(from row: Row) throws -> (feature: Feature, fid: Int64, version: Int, validFrom: String, batch: Int64) {
        let blob: Data? = row[1]
        return try feature(from: row, geometry: try blob.map(GeoPackageBinary.decode))
    }

    /// The same, with the geometry already decoded from column 1.
    func feature(from row: Row, geometry: Geometry?) throws -> (feature: Feature, fid: Int64, version: Int, validFrom: String, batch: Int64) {
        let id: String = row[2]
        var properties = [String: JSONValue]()
        if let extra: String = row[3 + schema.fields.count], case .object(let o) = try JSONValue.parse(extra) {
            properties = o
        }
        for (i, field) in schema.fields.enumerated() {
            let v = Self.json(row[3 + i] as DatabaseValue)
            if v != .null { properties[field.name] = v }
        }
        let n = 4 + schema.fields.count
        return (Feature(id: id, geometry: geometry, properties: properties), row[0], row[n], row[n + 1], row[n + 2])
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

    /// A property value as the typed column wants it, or an error naming the field.
    static func value(_ v: JSONValue, as field: FieldDefinition, layer: String, id: String) throws -> DatabaseValue {
        func bad(_ why: String) -> StoreError {
            .invalidFeature(layer: layer, id: id, detail: "field '\(field.name)' \(why)")
        }
        if case .null = v { return .null }
        switch field.type {
        case .text:
            switch v {
            case .string(let s): return s.databaseValue
            case .integer(let i): return String(i).databaseValue
            case .number(let d): return WKT.number(d).databaseValue
            case .bool(let b): return (b ? "true" : "false").databaseValue
            default: return v.jsonText.databaseValue
            }
        case .integer:
            switch v {
            case .integer(let i): return i.databaseValue
            case .number(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d).databaseValue
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return .null }
                if let i = Int64(t) { return i.databaseValue }
                if let d = Double(t), d == d.rounded(), abs(d) < 9e15 { return Int64(d).databaseValue }
                throw bad("must be a whole number, not '\(s)'")
            default: throw bad("must be a whole number, not \(v.kindWithArticle)")
            }
        case .real:
            switch v {
            case .integer(let i): return Double(i).databaseValue
            case .number(let d): return d.databaseValue
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return .null }
                // Vietnamese writes a decimal comma: "123,45".
                if let d = Double(t) ?? Double(t.replacingOccurrences(of: ",", with: ".")) { return d.databaseValue }
                throw bad("must be a number, not '\(s)'")
            default: throw bad("must be a number, not \(v.kindWithArticle)")
            }
        case .date:
            guard case .string(let s) = v else { throw bad("must be a date (YYYY-MM-DD), not \(v.kindWithArticle)") }
            guard let date = normalisedDate(s) else { throw bad("must be a date as YYYY-MM-DD or DD/MM/YYYY, not '\(s)'") }
            return date.databaseValue
        }
    }

    /// `YYYY-MM-DD` from ISO dates/datetimes or the Vietnamese `DD/MM/YYYY`.
    static func normalisedDate(_ s: String) -> String? {
        let t = s.trimmingCharacters(in: .whitespaces)
        let iso = t.prefix(10)
        let parts = iso.split(separator: "-")
        if parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), parts[0].count == 4 {
            return valid(y, m, d)
        }
        let vn = t.split(separator: "/")
        if vn.count == 3, let d = Int(vn[0]), let m = Int(vn[1]), let y = Int(vn[2]), vn[2].count == 4 {
            return valid(y, m, d)
        }
        return nil
    }

    private static func valid(_ y: Int, _ m: Int, _ d: Int) -> String? {
        guard (1...12).contains(m), (1...31).contains(d), (1000...9999).contains(y) else { return nil }
        return String(format: "%04d-%02d-%02d", y, m, d)
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

/// LandMap's timestamps: UTC, millisecond precision, ISO 8601, so they sort as text.
enum Timestamp {
    static func string(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = ms / 1000
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }

    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)
    }
}
