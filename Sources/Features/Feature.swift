import Geometry

/// One feature of a layer: a stable string id, a geometry (WGS 84 lon/lat once stored) and its
/// properties, canonical and source fields alike, as JSON values.
public struct Feature: Hashable, Sendable {
    public var id: String
    public var geometry: Geometry?
    public var properties: [String: JSONValue]

    public init(id: String, geometry: Geometry?, properties: [String: JSONValue] = [:]) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
    }

    /// The same GeoJSON Feature written straight into `out`, its geometry without a `JSONValue`
    /// tree (building and writing that tree was a third of an items page).
    public func writeGeoJSON(hiding hidden: HiddenProperties = .nothing, into out: inout String) {
        out += "{\"type\":\"Feature\",\"id\":"
        JSONValue.writeString(id, into: &out)
        out += ",\"geometry\":"
        if let geometry { GeoJSONGeometry.write(geometry, into: &out) } else { out += "null" }
        out += ",\"properties\":"
        JSONValue.object(hidden.filter(properties)).write(into: &out)
        out += "}"
    }

    /// The feature as a GeoJSON Feature object, leaving out the named properties.
    public func geoJSON(hiding hidden: HiddenProperties = .nothing) -> JSONValue {
        .object([
            "type": "Feature",
            "id": .string(id),
            "geometry": geometry.map(GeoJSONGeometry.encode) ?? .null,
            "properties": .object(hidden.filter(properties)),
        ])
    }
}
