import Foundation
import Features
import Geometry

/// Figures every backend keeps per layer as it writes.
public enum LayerFigures {
    /// The area of a WGS 84 polygon in Web Mercator, the world being a 1 × 1 square: a tile of
    /// zoom z spans 2⁻ᶻ of it, so this times (4096 · 2ᶻ)² is the area in that tile's units.
    public static func mercatorArea(_ g: Geometry) -> Double {
        g.mapCoordinates { c in
            let lat = min(max(c.y, -85.051_128_78), 85.051_128_78) * .pi / 180
            return Coordinate((c.x + 180) / 360, (1 - log(tan(lat) + 1 / cos(lat)) / .pi) / 2)
        }.planarArea
    }
}

/// What a batch writer of any backend checks and records of each feature it is given: the
/// geometry as stored (an areal layer takes polygons only, as multipolygons; no non-finite
/// coordinate) and the layer figures the batch adds (geometry types, source fields, largest polygon).
public struct BatchFigures: Sendable {
    public private(set) var geometryTypes = Set<String>()
    /// The source fields written (not canonical columns), with their merged types.
    public private(set) var sourceFields = [String: SourceFieldType]()
    /// The largest polygon written, in `LayerFigures.mercatorArea`'s units.
    public private(set) var largestArea: Double?

    public init() {}

    /// The geometry of `feature` as `schema`'s layer stores it, or an error naming the feature.
    public static func storedGeometry(of feature: Feature, in schema: LayerSchema) throws -> Geometry? {
        guard !feature.id.isEmpty else { throw StoreError.invalidFeature(layer: schema.name, id: "", detail: "a feature needs a non-empty id") }
        guard let g = feature.geometry else { return nil }
        if schema.isAreal, !(g.isAreal || g.isEmpty) {
            throw StoreError.wrongGeometryType(layer: schema.name, id: feature.id, expected: "polygons", got: g.typeName)
        }
        if let box = g.boundingBox, !(box.minX.isFinite && box.minY.isFinite && box.maxX.isFinite && box.maxY.isFinite) {
            throw StoreError.invalidFeature(layer: schema.name, id: feature.id, detail: "geometry has a non-finite coordinate")
        }
        return schema.isAreal ? g.promotedToMulti : g
    }

    /// Records a feature the batch writes, with its stored geometry.
    public mutating func note(_ feature: Feature, geometry: Geometry?, in schema: LayerSchema) {
        if let geometry {
            geometryTypes.insert(geometry.typeName)
            if geometry.isAreal { largestArea = max(largestArea ?? 0, LayerFigures.mercatorArea(geometry)) }
        }
        for (name, value) in feature.properties where schema.field(name) == nil {
            guard let type = SourceFieldType(of: value) else { continue }
            sourceFields[name] = sourceFields[name].map { $0.merged(type) } ?? type
        }
    }
}
