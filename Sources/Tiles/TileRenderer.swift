import Features
import Foundation
import Geometry
import Store

/// One rendered tile, as MVT and as GeoJSON, with what it holds per layer.
public struct RenderedTile: Sendable {
    public var mvt: [UInt8]
    public var featureCounts: [String: Int]
}

/// Renders tiles from a store: features in the tile (plus a buffer) from the R-tree, projected
/// to tile coordinates, clipped, simplified with a zoom-independent tolerance in tile units
/// (so coarser on the ground at low zoom), snapped to the integer grid by GEOS (which keeps
/// polygons valid), wound as MVT requires, and thinned to the size target. Owns a GEOS
/// context: one renderer per task.
public final class TileRenderer {
    public static let extent = 4096.0
    public static let buffer = 64.0
    /// Tiles larger than this are thinned: the smallest features go first.
    public static let sizeTarget = 500 * 1024

    let store: any FeatureStore
    let geos: GeosContext

    public init(store: any FeatureStore) throws {
        self.store = store
        geos = try GeosContext()
    }

    /// `hidden` gives the fields a caller may not see, per layer.
    public func mvt(layers: [String], tile: TileID, hidden: (LayerSchema) -> Set<String>) throws -> RenderedTile {
        // Each feature goes through GEOS once; thinning only filters the processed list.
        var prepared = [(name: String, items: [(props: [(String, JSONValue)], geometry: Geometry, area: Double)])]()
        for name in layers {
            guard let schema = try store.schema(of: name) else { throw StoreError.unknownLayer(name) }
            let hide = hidden(schema)
            let items = try features(layer: name, tile: tile, minArea: Self.minArea(tile.z)).map { f, g in
                (props: Self.properties(f, schema, hidden: hide), geometry: g, area: g.isAreal ? g.planarArea : .infinity)
            }
            prepared.append((name, items))
        }
        var minArea = 0.0
        for attempt in 1...8 {
            try Deadline.check()
            var encoded = [MVTLayer]()
            var counts = [String: Int]()
            for (name, items) in prepared {
                var layer = MVTLayer(name: name)
                for item in items where item.area >= minArea { layer.add(id: nil, geometry: item.geometry, properties: item.props) }
                counts[name] = layer.featureCount
                encoded.append(layer)
            }
            let bytes = MVTLayer.tile(encoded)
            if bytes.count <= Self.sizeTarget || attempt == 8 { return RenderedTile(mvt: bytes, featureCounts: counts) }
            // Too large: leave out the smallest polygons, four times larger each round.
            minArea = max(Self.minArea(tile.z), minArea) * 4
        }
        return RenderedTile(mvt: [], featureCounts: [:])
    }

    /// The same tile as GeoJSON features in WGS 84, clipped to the tile (no buffer, not snapped).
    public func geoJSON(layers: [String], tile: TileID, hidden: (LayerSchema) -> Set<String>) throws -> [Feature] {
        let box = tile.lonLatBounds
        var out = [Feature]()
        for name in layers {
            guard let schema = try store.schema(of: name) else { throw StoreError.unknownLayer(name) }
            for f in try store.features(layer: name, intersecting: box, asOf: nil, limit: 1_000_000, offset: 0) {
                try Deadline.check()
                guard let g = f.geometry else { continue }
                var clipped = try geos.geometry(g).clipped(to: box)
                if try !clipped.isValid() { clipped = try clipped.makeValid() }
                guard !clipped.isEmpty else { continue }
                var feature = f
                feature.geometry = try clipped.value()
                let hide = hidden(schema)
                feature.properties = hide.isEmpty ? f.properties : f.properties.filter { !hide.contains($0.key) }
                feature.properties["layer"] = .string(name)
                out.append(feature)
            }
        }
        return out
    }

    /// Features of a layer in tile coordinates (y down), clipped, simplified, snapped and wound.
    func features(layer: String, tile: TileID, minArea: Double) throws -> [(Feature, Geometry)] {
        let merc = tile.mercatorBounds
        let scale = Self.extent / (merc.maxX - merc.minX)
        let pad = Self.buffer / scale
        let query = BoundingBox(minX: merc.minX - pad, minY: merc.minY - pad, maxX: merc.maxX + pad, maxY: merc.maxY + pad)
        let lower = WebMercator.lonLat(Coordinate(query.minX, query.minY)), upper = WebMercator.lonLat(Coordinate(query.maxX, query.maxY))
        let lonLatQuery = BoundingBox(minX: lower.x, minY: lower.y, maxX: upper.x, maxY: upper.y)
        let clip = BoundingBox(minX: -Self.buffer, minY: -Self.buffer, maxX: Self.extent + Self.buffer, maxY: Self.extent + Self.buffer)
        let tolerance = tile.z >= 16 ? 0.5 : 1.5
        var out = [(Feature, Geometry)]()
        // Streamed: at low zoom most features are below the size threshold and never kept.
        // Drop what is smaller than the threshold before any GEOS work, and before its
        // properties are even decoded.
        var local = Geometry.point(nil)
        let keep = { (g: Geometry) -> Bool in
            local = g.mapCoordinates { c in
                let m = WebMercator.metres(c)
                return Coordinate((m.x - merc.minX) * scale, (merc.maxY - m.y) * scale)
            }
            return !g.isAreal || local.planarArea >= minArea
        }
        try store.forEachFeature(layer: layer, intersecting: lonLatQuery, where: keep) { f in
            guard let g = f.geometry else { return }
            var native = try geos.geometry(local).clipped(to: clip)
            if native.isEmpty { return }
            if g.isAreal || g.typeName.contains("LINE") { native = try native.simplified(tolerance: tolerance) }
            native = try native.snapped(toGrid: 1)
            guard !native.isEmpty else { return }
            var value = try native.value()
            if g.isAreal {
                value = Self.polygonal(value)
                guard value.planarArea >= 1 else { return }
            }
            // MVT 2.1 wants exterior rings of positive surveyor's area in tile coordinates and
            // holes negative: the same rule as RFC 7946's, applied to tile units.
            out.append((f, value.rewound()))
        }
        return out
    }

    /// Polygons below this area (tile units²) are not drawn: a display pixel is 16 × 16 units.
    static func minArea(_ z: Int) -> Double { z >= 18 ? 4 : 64 }

    /// The canonical properties a tile carries (with the feature id), never a hidden one.
    static func properties(_ f: Feature, _ schema: LayerSchema, hidden: Set<String>) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("id", .string(f.id))]
        let fields = schema.fields.isEmpty ? f.properties.keys.sorted() : schema.fields.map(\.name)
        for name in fields where !hidden.contains(name) {
            if let v = f.properties[name], v != .null { out.append((name, v)) }
        }
        return out
    }

    /// Only the polygons of what snapping returned (it may add collapsed lines or points).
    static func polygonal(_ g: Geometry) -> Geometry {
        switch g {
        case .polygon, .multiPolygon: return g
        case .geometryCollection(let parts):
            var polys = [[[Coordinate]]]()
            for p in parts {
                if case .polygon(let r) = p { polys.append(r) }
                if case .multiPolygon(let ps) = p { polys += ps }
            }
            return .multiPolygon(polys)
        default: return .multiPolygon([])
        }
    }
}
