import Features
import Geometry

extension LayerSchema {
    /// The schema as JSON for the layers table of every backend, so custom layers survive a restart.
    public var storedJSON: String {
        JSONValue.object([
            "title": .string(title),
            "geometry_type": .string(geometryType),
            "key_fields": .array(keyFields.map { .string($0) }),
            "fields": .array(fields.map {
                .object(["name": .string($0.name), "type": .string($0.type.rawValue), "private": .bool($0.isPrivate), "summary": .string($0.summary)])
            }),
        ]).jsonText
    }

    /// A layer's schema from `landmap_layers`: its `schema_json` (built-in layers use the code's
    /// schema) with the steward's metadata from `metadata_json`.
    public static func fromStored(name: String, json: String, metadata: String?) throws -> LayerSchema {
        var schema = try fromStored(name: name, json: json)
        let defaults = LayerMetadata.defaults(for: name)
        schema.metadata = if let metadata, metadata != "{}" { LayerMetadata(json: try JSONValue.parse(metadata), defaults: defaults) } else { defaults }
        return schema
    }

    private static func fromStored(name: String, json: String) throws -> LayerSchema {
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
