import Features
import Foundation
import Geometry
import Store

/// One rendered tile, as MVT and as GeoJSON, with what it holds per layer.
public struct RenderedTile: Sendable {
    public var mvt: [UInt8]
    /// Features per data layer (label anchors not counted).
    public var featureCounts: [String: Int]
}

/// Renders tiles from a store: features in the tile (plus a buffer) from the R-tree, projected
/// to tile coordinates, clipped, simplified with a zoom-independent tolerance in tile units
/// (so coarser on the ground at low zoom), snapped to the integer grid so that polygons stay
/// valid (by `GridSnap` where it can vouch for the result, else by GEOS), wound as MVT
/// requires, and thinned to the size target. Owns a GEOS context and a read connection: one
/// renderer per task.
///
/// Each areal layer has a label layer beside it (`labelLayer(of:)`): one point per feature at
/// its label point (`GeosGeometry.labelPoint`, computed from the whole feature, so the same in
/// every tile), with the feature id and the fields a label shows (`labelFields(of:)`), written
/// only in the one tile of the zoom that holds that point. A style labels from these points, so
/// a feature cut by tile edges is labelled once, not once per piece. Labels never thin polygons away: they fill the room the
/// size target leaves, largest feature first.
public final class TileRenderer {
    public static let extent = 4096.0
    public static let buffer = 64.0
    /// Tiles larger than this are thinned: the smallest features go first.
    public static let sizeTarget = 500 * 1024

    let store: any FeatureStore
    let geos: GeosContext

    /// `sizeTarget`, but smaller in tests, which thin the small sample data.
    let target: Int
    private var openReader: (any FeatureReader)?

    public convenience init(store: any FeatureStore) throws {
        try self.init(store: store, sizeTarget: Self.sizeTarget)
    }

    init(store: any FeatureStore, sizeTarget: Int) throws {
        self.store = store
        target = sizeTarget
        geos = try GeosContext()
    }

    /// A read connection of the renderer's own, opened on its first tile.
    private func reader() throws -> any FeatureReader {
        if let openReader { return openReader }
        let r = try store.reader()
        openReader = r
        return r
    }

    /// `hidden` gives the properties a caller may not see, per layer (`LayerSchema.privateFields`
    /// for anonymous callers and public artefacts).
    ///
    /// A tile over a dense district can hold sixty thousand parcels, of which a few thousand
    /// fit the size target. So every candidate is first sized from its WKB alone (area in tile
    /// units, no geometry built), and features are drawn largest first until the tile is full:
    /// the thinning ladder (areas of `minArea(z)`·4ᵏ) ends on its first step under the target,
    /// and GEOS never sees a feature that would have been thinned away.
    public func mvt(layers: [String], tile: TileID, hidden: (LayerSchema) -> HiddenProperties) throws -> RenderedTile {
        let frame = TileFrame(tile)
        let floor = Self.minArea(tile.z)
        let ceiling = floor * 16_384  // seven steps of the ladder; beyond, nothing more is left out
        var schemas = [(name: String, schema: LayerSchema, hide: HiddenProperties)]()
        for name in layers {
            guard let schema = try store.schema(of: name) else { throw StoreError.unknownLayer(name) }
            schemas.append((name, schema, hidden(schema)))
        }
        let reader = try self.reader()
        var drawn = [[Drawn]](repeating: [], count: schemas.count)
        var minArea = floor
        var sizing = schemas.map { MVTLayer(name: $0.name) }
        var order = [(layer: Int, index: Int)]()  // drawn features, largest first across layers
        var thinned = false
        try reader.snapshot { snapshot in
            var candidates = [Candidate]()
            for (index, layer) in schemas.enumerated() {
                try snapshot.forEachWKB(layer: layer.name, intersecting: frame.lonLatQuery) { key, wkb in
                    try Deadline.check()
                    let area = try WKB.planarArea(wkb, projected: frame.tileCoordinate) ?? .infinity
                    if area >= floor { candidates.append(Candidate(layer: index, key: key, area: area)) }
                }
            }
            // Largest first; ties in store order, so a tile renders the same every time.
            candidates.sort { ($0.area, -$0.layer, -$0.key) > ($1.area, -$1.layer, -$1.key) }
            var full = false
            for c in candidates {
                try Deadline.check()
                let layer = schemas[c.layer]
                guard let f = try snapshot.feature(layer: layer.name, key: c.key), let g = f.geometry,
                      let (geometry, area) = try draw(g, frame: frame) else { continue }
                let item = Drawn(props: Self.properties(f, layer.schema, hidden: layer.hide), geometry: geometry, area: area,
                                 source: g.isAreal && c.area.isFinite && c.area >= Self.labelMinArea ? g : nil)
                order.append((c.layer, drawn[c.layer].count))
                drawn[c.layer].append(item)
                guard !full, item.area >= minArea else { continue }
                sizing[c.layer].add(id: nil, geometry: item.geometry, properties: item.props)
                guard MVTLayer.tileSize(sizing) > target, c.area.isFinite else { continue }
                // Full: this feature's step of the ladder, and every smaller one, stay out.
                let smallest = max(c.area, item.area)
                while minArea <= smallest, minArea < ceiling { minArea *= 4 }
                thinned = true
                if minArea > smallest { break }
                full = true  // even the largest features overflow: keep what the top step holds
            }
        }
        // Nothing left out: the layers that measured the tile are the tile.
        var encoded = sizing
        if thinned {
            for index in schemas.indices {
                var out = MVTLayer(name: schemas[index].name)
                for item in drawn[index] where item.area >= minArea { out.add(id: nil, geometry: item.geometry, properties: item.props) }
                encoded[index] = out
            }
        }
        let labels = try labelLayers(schemas.map(\.name), drawn: drawn, order: order, minArea: minArea,
                                     room: target - MVTLayer.tileSize(encoded), tile: tile, frame: frame)
        var counts = [String: Int]()
        for layer in encoded { counts[layer.name] = layer.featureCount }
        return RenderedTile(mvt: MVTLayer.tile(encoded + labels), featureCounts: counts)
    }

    /// The label layers: the anchors this tile holds of the polygons it kept, largest first,
    /// while they fit in `room` bytes (the last one that overflows is taken out again).
    func labelLayers(_ names: [String], drawn: [[Drawn]], order: [(layer: Int, index: Int)], minArea: Double,
                     room: Int, tile: TileID, frame: TileFrame) throws -> [MVTLayer] {
        var labels = names.map { MVTLayer(name: Self.labelLayer(of: $0)) }
        var placed = [(layer: Int, point: Coordinate, props: [(String, JSONValue)])]()
        let keep = names.map(Self.labelFields(of:))
        for (layer, index) in order {
            let item = drawn[layer][index]
            guard item.area >= minArea, let source = item.source, let anchor = try labelAnchor(source, tile: tile, frame: frame) else { continue }
            let props = item.props.filter { $0.0 == "id" || keep[layer].contains($0.0) }
            labels[layer].add(id: nil, geometry: .point(anchor), properties: props)
            guard MVTLayer.tileSize(labels) <= room else {
                labels = names.map { MVTLayer(name: Self.labelLayer(of: $0)) }
                for p in placed { labels[p.layer].add(id: nil, geometry: .point(p.point), properties: p.props) }
                break
            }
            placed.append((layer, anchor, props))
        }
        return labels
    }

    /// The fields a layer's label points carry besides `id`: what a style writes there (a
    /// parcel's sheet and number; a zone's code, use and limits; a unit's code and name; `name`
    /// in other layers). Only these, so labels stay small; a hidden field never, as the
    /// feature's own properties, already without them, are what is filtered.
    public static func labelFields(of layer: String) -> Set<String> {
        switch layer {
        case "parcels": ["sheet", "number"]
        case "zoning": ["zone_code", "land_use", "density_max_pct", "floors_max", "height_max_m"]
        case "admin": ["code", "name"]
        default: ["name"]
        }
    }

    /// A polygon gets a label point at a zoom where the whole of it covers this many tile
    /// units² (a 16 × 16 px square on a 512-px tile): room for a short label. Smaller ones
    /// would not show one, and finding their label points would cost the render for nothing
    /// (a parcel of 100 m² is labelled from z17).
    public static let labelMinArea = 16_384.0

    /// The name of a layer's label layer in tiles: `parcels-label` for `parcels`. No stored
    /// layer can have it (layer names have no `-`).
    public static func labelLayer(of layer: String) -> String { layer + "-label" }

    /// A feature's label point in tile units (rounded to the grid) when this tile holds it,
    /// else nil: the tile is chosen from the point alone, so exactly one tile of the zoom does.
    func labelAnchor(_ g: Geometry, tile: TileID, frame: TileFrame) throws -> Coordinate? {
        guard let p = try geos.geometry(g).labelPoint(), TileID.containing(p, zoom: tile.z) == tile else { return nil }
        let local = frame.tileCoordinate(p)
        return Coordinate(local.x.rounded(), local.y.rounded())
    }

    /// A feature of the tile's box, sized before it is drawn.
    struct Candidate {
        var layer: Int
        var key: Int64
        /// In tile units², before clipping; infinite for lines and points.
        var area: Double
    }

    /// A feature ready to encode: geometry in tile units, area after clipping and snapping,
    /// and for a polygon large enough to be labelled its WGS 84 geometry (its label point is
    /// found there).
    struct Drawn {
        var props: [(String, JSONValue)]
        var geometry: Geometry
        var area: Double
        var source: Geometry?
    }

    /// Where a tile lies: its Web Mercator frame, the WGS 84 box its features are queried by
    /// (buffer included), and the clip rectangle in tile units.
    struct TileFrame {
        let merc: BoundingBox
        let scale: Double
        let lonLatQuery: BoundingBox
        let lonLatOuter: BoundingBox
        let clip: BoundingBox
        let tolerance: Double

        init(_ tile: TileID) {
            merc = tile.mercatorBounds
            scale = TileRenderer.extent / (merc.maxX - merc.minX)
            let pad = TileRenderer.buffer / scale
            let lower = WebMercator.lonLat(Coordinate(merc.minX - pad, merc.minY - pad))
            let upper = WebMercator.lonLat(Coordinate(merc.maxX + pad, merc.maxY + pad))
            lonLatQuery = BoundingBox(minX: lower.x, minY: lower.y, maxX: upper.x, maxY: upper.y)
            // One tile unit more: large features are cut at it in lon/lat (`LargeFeatures`).
            let more = WebMercator.lonLat(Coordinate(merc.maxX + pad + 1 / scale, merc.maxY + pad + 1 / scale))
            let less = WebMercator.lonLat(Coordinate(merc.minX - pad - 1 / scale, merc.minY - pad - 1 / scale))
            lonLatOuter = BoundingBox(minX: less.x, minY: less.y, maxX: more.x, maxY: more.y)
            clip = BoundingBox(minX: -TileRenderer.buffer, minY: -TileRenderer.buffer,
                               maxX: TileRenderer.extent + TileRenderer.buffer, maxY: TileRenderer.extent + TileRenderer.buffer)
            tolerance = tile.z >= 16 ? 0.5 : 1.5
        }

        /// WGS 84 to tile units (y down).
        func tileCoordinate(_ c: Coordinate) -> Coordinate {
            let m = WebMercator.metres(c)
            return Coordinate((m.x - merc.minX) * scale, (merc.maxY - m.y) * scale)
        }
    }

    /// The same tile as GeoJSON features in WGS 84, clipped to the tile (no buffer, not snapped).
    public func geoJSON(layers: [String], tile: TileID, hidden: (LayerSchema) -> HiddenProperties) throws -> [Feature] {
        let box = tile.lonLatBounds
        var out = [Feature]()
        for name in layers {
            guard let schema = try store.schema(of: name) else { throw StoreError.unknownLayer(name) }
            for f in try store.features(layer: name, intersecting: box, asOf: nil, limit: 1_000_000, offset: 0) {
                try Deadline.check()
                guard var g = f.geometry else { continue }
                if g.coordinateCount > LargeFeatures.threshold {
                    // Cut what lies beyond the tile before GEOS: exact inside it (`LargeFeatures`).
                    let margin = (box.maxX - box.minX) / 4096
                    let outer = BoundingBox(minX: box.minX - margin, minY: box.minY - margin, maxX: box.maxX + margin, maxY: box.maxY + margin)
                    guard let cut = LargeFeatures.thinned(g, box: outer, project: { $0 }, epsilon: 0) else { continue }
                    g = cut
                }
                var clipped = try geos.geometry(g).clipped(to: box)
                if try !clipped.isValid() { clipped = try clipped.makeValid() }
                guard !clipped.isEmpty else { continue }
                var feature = f
                feature.geometry = try clipped.value()
                let hide = hidden(schema)
                feature.properties = hide.filter(f.properties)
                feature.properties["layer"] = .string(name)
                out.append(feature)
            }
        }
        return out
    }

    /// One feature in tile units (y down): clipped, simplified, snapped and wound as MVT
    /// wants, with its area there (infinite for lines and points); nil when nothing drawable
    /// is left.
    ///
    /// A feature of more than `LargeFeatures.threshold` vertices is thinned before GEOS sees it:
    /// what lies beyond the clip box cut to a few vertices, the rest to a quarter of the
    /// simplification tolerance (see `LargeFeatures`). Should GEOS refuse the thinned shape (an
    /// invalid source can make it so), it gets the whole feature, as before.
    func draw(_ g: Geometry, frame: TileFrame) throws -> (geometry: Geometry, area: Double)? {
        var value: Geometry
        if g.coordinateCount > LargeFeatures.threshold {
            guard let thin = LargeFeatures.thinned(g, box: frame.lonLatOuter, project: frame.tileCoordinate, epsilon: frame.tolerance / 4) else { return nil }
            do {
                guard let drawn = try geosDraw(thin, areal: g.isAreal, frame: frame) else { return nil }
                value = drawn
            } catch is GeometryError {
                guard let drawn = try geosDraw(g.mapCoordinates(frame.tileCoordinate), areal: g.isAreal, frame: frame) else { return nil }
                value = drawn
            }
            guard g.isAreal else { return (value, .infinity) }
        } else {
            let local = g.mapCoordinates(frame.tileCoordinate)
            if let snapped = Self.snappedParcel(local, frame: frame) {
                value = snapped
            } else {
                guard let drawn = try geosDraw(local, areal: g.isAreal, frame: frame) else { return nil }
                value = drawn
                guard g.isAreal else { return (value, .infinity) }
            }
        }
        let area = value.planarArea
        guard area >= 1 else { return nil }
        // MVT 2.1 wants exterior rings of positive surveyor's area in tile coordinates and
        // holes negative: the same rule as RFC 7946's, applied to tile units.
        return (value.rewound(), area)
    }

    /// GEOS's clip, simplification and snap-rounding of a geometry in tile units; polygons only
    /// for an areal feature; nil when nothing is left.
    func geosDraw(_ local: Geometry, areal: Bool, frame: TileFrame) throws -> Geometry? {
        var native = try geos.geometry(local).clipped(to: frame.clip)
        if native.isEmpty { return nil }
        if areal || local.typeName.contains("LINE") { native = try native.simplified(tolerance: frame.tolerance) }
        native = try native.snapped(toGrid: 1)
        guard !native.isEmpty else { return nil }
        let value = try native.value()
        return areal ? Self.polygonal(value) : value
    }

    /// A single small ring inside the clip rectangle, drawn without GEOS (see `GridSnap`).
    static func snappedParcel(_ local: Geometry, frame: TileFrame) -> Geometry? {
        switch local {
        case .polygon(let rings) where rings.count == 1:
            return GridSnap.ring(rings[0], inside: frame.clip, tolerance: frame.tolerance).map { .polygon([$0]) }
        case .multiPolygon(let parts) where parts.count == 1 && parts[0].count == 1:
            return GridSnap.ring(parts[0][0], inside: frame.clip, tolerance: frame.tolerance).map { .multiPolygon([[$0]]) }
        default:
            return nil
        }
    }

    /// Polygons below this area (tile units²) are not drawn: a display pixel is 16 × 16 units.
    static func minArea(_ z: Int) -> Double { z >= 18 ? 4 : 64 }

    /// The first zoom at which a layer's tiles hold anything (TileJSON's `minzoom`): points and
    /// lines are drawn at every zoom, but a polygon only once its area reaches `minArea`, so a
    /// polygon layer starts where its largest polygon does. 0 while the largest is unknown.
    public static func firstZoom(_ layer: LayerInfo) -> Int {
        guard layer.geometryTypes.allSatisfy({ $0 == "POLYGON" || $0 == "MULTIPOLYGON" }), let largest = layer.largestArea else { return 0 }
        return firstZoom(largestArea: largest)
    }

    /// The first zoom at which a polygon of this area (Web Mercator, the world 1 × 1) is drawn.
    static func firstZoom(largestArea: Double) -> Int {
        (0...TileID.maxZoom).first { z in
            let side = extent * Double(1 << z)
            return largestArea * side * side >= minArea(z)
        } ?? TileID.maxZoom
    }

    /// The canonical properties a tile carries (with the feature id), never a hidden one.
    static func properties(_ f: Feature, _ schema: LayerSchema, hidden: HiddenProperties) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("id", .string(f.id))]
        let fields = schema.fields.isEmpty ? f.properties.keys.sorted() : schema.fields.map(\.name)
        for name in fields where !hidden.contains(name) {
            if let v = f.properties[name], v != .null { out.append((name, hidden.scrubbed(v))) }
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

extension LayerInfo {
    /// Whether the layer's tiles have a label layer: only polygons are labelled from points.
    public var hasLabelLayer: Bool { geometryTypes.contains { $0.uppercased().contains("POLYGON") } }
}
