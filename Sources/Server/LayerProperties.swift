import CQL2
import Features
import Geometry
import Store

/// A property of a layer's features as clients are told of it: a canonical column or a source
/// field from the `properties` column, with its JSON Schema type.
struct LayerProperty: Sendable {
    let name: String
    /// `string`, `integer`, `number` or `boolean`.
    let type: String
    /// `date` for date columns.
    let format: String?
    let title: String
    /// The canonical column, nil for a source field.
    let field: FieldDefinition?

    /// Its JSON Schema: type, title, and format when it has one.
    var schema: JSONValue {
        var p: [String: JSONValue] = ["type": .string(type), "title": .string(title)]
        if let format { p["format"] = .string(format) }
        return .object(p)
    }

    /// Its CQL2 type, for type checking filters.
    var cql2Kind: Queryables.Kind {
        switch (type, format) {
        case ("string", "date"): .date
        case ("string", "date-time"): .timestamp
        case ("integer", _): .integer
        case ("number", _): .number
        case ("boolean", _): .boolean
        default: .string
        }
    }

    /// A filter's text typed as the stored values are, so that `levels=3` matches the number 3.
    func filterValue(_ text: String) -> JSONValue {
        switch type {
        case "integer": Int64(text).map { .integer($0) } ?? .string(text)
        case "number": Double(text).map { .number($0) } ?? .string(text)
        case "boolean": text == "true" ? .bool(true) : text == "false" ? .bool(false) : .string(text)
        default: .string(text)
        }
    }
}

extension ServerState {
    /// The properties of a layer an anonymous caller may know of: every canonical field and
    /// every source field the layer's batches wrote, less those `hiddenFields` hides. One list
    /// behind queryables, the features' schema, `/api`'s filter parameters, the collection's
    /// description and the filters `items` takes, so none of them names a private field.
    func publicProperties(_ schema: LayerSchema, sourceFields: [String: SourceFieldType]) -> [LayerProperty] {
        let hidden = hiddenFields(schema, for: nil)
        var out = [LayerProperty]()
        for f in schema.fields where !hidden.contains(f.name) {
            let type = switch f.type {
            case .integer: "integer"
            case .real: "number"
            case .text, .date: "string"
            }
            out.append(LayerProperty(name: f.name, type: type, format: f.type == .date ? "date" : nil,
                                     title: f.summary.isEmpty ? f.name : f.summary, field: f))
        }
        for (name, type) in sourceFields.sorted(by: { $0.key < $1.key })
        where schema.field(name) == nil && name != "id" && !hidden.contains(name) {
            out.append(LayerProperty(name: name, type: type.jsonSchema.type, format: type.jsonSchema.format, title: name, field: nil))
        }
        return out
    }

    /// The same for a layer by name, cheaply (no feature is counted or read); nil if unknown.
    func publicProperties(of layer: String) throws -> (schema: LayerSchema, properties: [LayerProperty])? {
        guard let schema = try store.schema(of: layer) else { return nil }
        return (schema, publicProperties(schema, sourceFields: try store.sourceFields(of: layer)))
    }
}

/// How the OGC API and TileJSON name a layer's geometry.
enum GeometryKind {
    /// OGC API – Features Part 5's `format` for the primary geometry (`geometry-any` when mixed).
    static func schemaFormat(_ declared: String) -> String {
        switch declared {
        case "POINT": "geometry-point"
        case "MULTIPOINT": "geometry-multipoint"
        case "LINESTRING": "geometry-linestring"
        case "MULTILINESTRING": "geometry-multilinestring"
        case "POLYGON": "geometry-polygon"
        case "MULTIPOLYGON": "geometry-multipolygon"
        case "GEOMETRYCOLLECTION": "geometry-geometrycollection"
        default: "geometry-any"
        }
    }

    /// In words, for descriptions: "points and polygons".
    static func words(_ types: [String]) -> String {
        var kinds = [String]()
        for (word, members) in [("points", ["POINT", "MULTIPOINT"]), ("lines", ["LINESTRING", "MULTILINESTRING"]),
                                ("polygons", ["POLYGON", "MULTIPOLYGON"]), ("geometry collections", ["GEOMETRYCOLLECTION"])]
        where types.contains(where: members.contains) {
            kinds.append(word)
        }
        switch kinds.count {
        case 0: return "no geometry"
        case 1: return kinds[0]
        default: return kinds.dropLast().joined(separator: ", ") + " and " + (kinds.last ?? "")
        }
    }
}
