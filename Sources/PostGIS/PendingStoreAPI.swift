// TEMPORARY: stand-ins for what the lead makes public in Store (Timestamp, FieldValue,
// LayerFigures, StoreError.keyText, LayerSchema.storedJSON/fromStored, DiskFullError,
// StoreMaintenance). Deleted when main lands them.
import Features
import Foundation
import Geometry
import Store

public protocol DiskFullError: Error { var diskFullCause: String? { get } }

public protocol StoreMaintenance: Sendable {
    var displayLocation: String { get }
    var localFile: String? { get }
    var engineVersion: String { get }
    func integrityCheck(limit: Int) -> IntegrityCheck
    func duplicateKeys(limit: Int) throws -> [DuplicateKey]
    var upkeepPending: Bool { get }
    func upkeep() -> Bool
    func backup(to path: String) throws
    func layers(containing id: String) throws -> [String]
}


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

enum FieldValue: Hashable, Sendable {
    case null, integer(Int64), real(Double), text(String)
    static func coerce(_ v: JSONValue, as field: FieldDefinition, layer: String, id: String) throws -> FieldValue {
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
    var json: JSONValue {
        switch self {
        case .null: .null
        case .integer(let i): .integer(i)
        case .real(let d): .number(d)
        case .text(let s): .string(s)
        }
    }
}

enum LayerFigures {
    static func mercatorArea(_ g: Geometry) -> Double {
        g.mapCoordinates { c in
            let lat = min(max(c.y, -85.051_128_78), 85.051_128_78) * .pi / 180
            return Coordinate((c.x + 180) / 360, (1 - log(tan(lat) + 1 / cos(lat)) / .pi) / 2)
        }.planarArea
    }
}

extension StoreError {
    static func keyText(fields: [String], values: [FieldValue]) -> String {
        zip(fields, values).map { (field: String, value: FieldValue) -> String in
            let v = value.json
            return "\(field) \(v.stringValue ?? v.jsonText)"
        }.joined(separator: ", ")
    }
}

extension LayerSchema {
    var storedJSON: String {
        JSONValue.object([
            "title": .string(title),
            "geometry_type": .string(geometryType),
            "key_fields": .array(keyFields.map { .string($0) }),
            "fields": .array(fields.map {
                .object(["name": .string($0.name), "type": .string($0.type.rawValue), "private": .bool($0.isPrivate), "summary": .string($0.summary)])
            }),
        ]).jsonText
    }

    static func fromStored(name: String, json: String, metadata: String?) throws -> LayerSchema {
        var schema = try fromStoredJSON(name: name, json: json)
        if let metadata, metadata != "{}" { schema.metadata = LayerMetadata(json: try JSONValue.parse(metadata)) }
        return schema
    }

    private static func fromStoredJSON(name: String, json: String) throws -> LayerSchema {
        if let builtIn = LayerSchema.builtIn(named: name) { return builtIn }
        let v = try JSONValue.parse(json)
        let fields: [FieldDefinition] = (v["fields"]?.arrayValue ?? []).compactMap { f in
            guard let n = f["name"]?.stringValue, let t = f["type"]?.stringValue.flatMap(FieldType.init(rawValue:)) else { return nil }
            return FieldDefinition(n, t, private: f["private"] == .bool(true), f["summary"]?.stringValue ?? "")
        }
        return LayerSchema(name: name, title: v["title"]?.stringValue ?? name,
                           geometryType: v["geometry_type"]?.stringValue ?? "GEOMETRY",
                           fields: fields, keyFields: (v["key_fields"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}
