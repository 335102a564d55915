import Features
import Foundation
import Geometry

/// A canonical field's value as every backend stores it in its typed column: what the
/// GeoPackage and PostGIS stores write, and what their answers are compared by.
public enum FieldValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    /// Text, and dates as `YYYY-MM-DD`.
    case text(String)

    public var isNull: Bool { self == .null }

    /// The value as a feature's property.
    public var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .number(d)
        case .text(let s): .string(s)
        }
    }

    /// A property value as the typed column wants it, or an error naming the field.
    public static func coerce(_ v: JSONValue, as field: FieldDefinition, layer: String, id: String) throws -> FieldValue {
        func bad(_ why: String) -> StoreError {
            .invalidFeature(layer: layer, id: id, detail: "field '\(field.name)' \(why)")
        }
        if case .null = v { return .null }
        switch field.type {
        case .text:
            switch v {
            case .string(let s): return .text(s)
            case .integer(let i): return .text(String(i))
            case .number(let d): return .text(WKT.number(d))
            case .bool(let b): return .text(b ? "true" : "false")
            default: return .text(v.jsonText)
            }
        case .integer:
            switch v {
            case .integer(let i): return .integer(i)
            case .number(let d) where d == d.rounded() && abs(d) < 9e15: return .integer(Int64(d))
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return .null }
                if let i = Int64(t) { return .integer(i) }
                if let d = Double(t), d == d.rounded(), abs(d) < 9e15 { return .integer(Int64(d)) }
                throw bad("must be a whole number, not '\(s)'")
            default: throw bad("must be a whole number, not \(v.kindWithArticle)")
            }
        case .real:
            switch v {
            case .integer(let i): return .real(Double(i))
            case .number(let d): return .real(d)
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces)
                if t.isEmpty { return .null }
                // Vietnamese writes a decimal comma: "123,45".
                if let d = Double(t) ?? Double(t.replacingOccurrences(of: ",", with: ".")) { return .real(d) }
                throw bad("must be a number, not '\(s)'")
            default: throw bad("must be a number, not \(v.kindWithArticle)")
            }
        case .date:
            guard case .string(let s) = v else { throw bad("must be a date (YYYY-MM-DD), not \(v.kindWithArticle)") }
            guard let date = normalisedDate(s) else { throw bad("must be a date as YYYY-MM-DD or DD/MM/YYYY, not '\(s)'") }
            return .text(date)
        }
    }

    /// `YYYY-MM-DD` from ISO dates/datetimes or the Vietnamese `DD/MM/YYYY`.
    public static func normalisedDate(_ s: String) -> String? {
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
