import CQL2
import Features
import Foundation
import Geometry
import Projection
import Store

/// One page of a layer's features: an optional box (in any CRS), property filters, a date,
/// and paging, with the total number matched. Serves OGC API `items` and `landmap query bbox`.
public struct ItemsRequest: Sendable {
    public var layer: String
    public var box: BoundingBox?
    /// The CRS the box is given in (longitude/latitude order for geographic CRSs).
    public var boxCRS: CRS = .wgs84
    /// Property filters (`property=value`): canonical fields, `id`, or source fields.
    public var filters: [String: JSONValue] = [:]
    /// A CQL2 filter checked against the layer's queryables (Part 3's `filter`); with it,
    /// `filters` must be empty (the server folds `property=value` into the filter).
    public var filter: CQL2Filter?
    public var asOf: Date?
    public var limit = 100
    public var offset = 0
    /// Where a page follows on from the last (the previous page's `ItemsPage.lastKey`): it
    /// starts after that key, however deep, rather than counting `offset` rows from the start.
    /// `offset` still numbers it, and places it on paths that read no keys.
    public var after: Int64?

    public init(layer: String) {
        self.layer = layer
    }

    /// The name filters give the features' geometry (GeoPackage's geometry column, and what
    /// the OGC test data calls it).
    public static let geometryQueryable = "geom"
    /// The other name filters may give it (`S_INTERSECTS(geometry, …)`), unless a property has it.
    public static let geometryAlias = "geometry"
}

public struct ItemsPage: Sendable {
    public var features: [Feature]
    /// All features that match, across every page.
    public var numberMatched: Int
    /// Whether the page was read in key order, so that the next starts after `lastKey`
    /// (`ItemsRequest.after`); false on paths that page by offset alone.
    public var byKey: Bool
    /// On a page read by key, its last feature's key when more follow (nil: none follow).
    public var lastKey: Int64?

    public init(features: [Feature], numberMatched: Int) {
        self.features = features
        self.numberMatched = numberMatched
        byKey = false
    }

    public init(features: [Feature], numberMatched: Int, byKey lastKey: Int64?) {
        self.features = features
        self.numberMatched = numberMatched
        byKey = true
        self.lastKey = lastKey
    }
}

/// Answers `ItemsRequest`s: R-tree candidates, then an exact GEOS test against the box, which
/// is densified and transformed when it is not given in WGS 84. Features whose bounding boxes
/// lie inside the box are counted without GEOS. Not `Sendable` (GEOS): one per thread or task.
///
/// A page of the present without property filters — what QGIS and GDAL ask at every pan — is
/// answered from one snapshot of a connection of its own: a candidate whose index box lies
/// inside the box is counted without its row being read (GeoPackage), the others are measured
/// and tested from their WKB alone (no row decoded), and only the page's features are read.
/// `numberMatched` stays exact, and the order is the store's (by key) as before.
///
/// A CQL2 filter runs in the database, which gives every match's key once per filter and data
/// version (`MatchedKeys`). Pages follow on by key (`ItemsRequest.after`), so the 10 000th page
/// of a filter, or of a whole layer, reads no more than the first.
public final class ItemsQuery {
    let store: any FeatureStore
    let geos: GeosContext
    let matches: MatchedKeys
    /// Layers' boxes in memory, shared by a server's queries (nil: the store's index alone).
    let boxes: LayerBoxes?
    private var openReader: (any FeatureReader)?
    /// Each layer's present features, counted at a data version: a page without box or filter
    /// (a client paging through a layer) is numbered without counting a million rows again.
    private var totals = [String: (version: Int64, count: Int)]()

    /// `matches`: the filters' keys, shared by every query of one store; `boxes`: the layers'
    /// boxes in memory, likewise (a long-running server's; a single query does without).
    public init(store: any FeatureStore, matches: MatchedKeys = MatchedKeys(), boxes: LayerBoxes? = nil) throws {
        self.store = store
        self.matches = matches
        self.boxes = boxes
        geos = try GeosContext()
    }

    /// Where a page starts among ascending keys: after `r.after`, else at `r.offset`.
    static func start(in keys: [Int64], _ r: ItemsRequest) -> Int {
        guard let after = r.after else { return min(r.offset, keys.count) }
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] <= after { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The page of `keys` `r` asks for, read from `snap`, and where the next one starts.
    static func page(of keys: [Int64], _ r: ItemsRequest, _ snap: any FeatureSnapshot) throws -> ItemsPage {
        let start = start(in: keys, r)
        let chosen = keys[start...].prefix(r.limit)
        let features = try snap.features(layer: r.layer, keys: Array(chosen))
        return ItemsPage(features: features, numberMatched: keys.count, byKey: start + chosen.count < keys.count ? chosen.last : nil)
    }

    /// A read connection of this query's own, opened on its first page in a box.
    private func reader() throws -> any FeatureReader {
        if let openReader { return openReader }
        let r = try store.reader()
        openReader = r
        return r
    }

    public func page(_ r: ItemsRequest) throws -> ItemsPage {
        guard (1...10_000).contains(r.limit) else { throw QueryError.badRequest("limit must be 1…10000") }
        guard r.offset >= 0 else { throw QueryError.badRequest("offset must not be negative") }
        // A page in a box reads through a snapshot, which refuses an unknown layer itself: asking
        // the store first was 3 % of such a page.
        let viaSnapshot = r.box != nil && r.asOf == nil && r.filters.isEmpty && r.filter == nil
        guard try viaSnapshot || store.schema(of: r.layer) != nil else { throw StoreError.unknownLayer(r.layer) }

        // A CQL2 filter runs in the database, the box (if any) as one more S_INTERSECTS.
        if var filter = r.filter {
            guard r.asOf == nil else { throw QueryError.badRequest("filter and datetime cannot be combined yet; ask for one of them") }
            guard r.filters.isEmpty else { throw QueryError.badRequest("property filters must be part of the CQL2 filter") }
            if let box = r.box {
                let polygon = try Self.lonLatPolygon(box, r.boxCRS)
                filter = filter.and(.intersects(ItemsRequest.geometryQueryable, CQL2Expression(.geometry(polygon))))
            }
            // Every match's key, once per filter and data version: the count, and the place of
            // any page among them, from one snapshot.
            return try reader().snapshot { snap in
                let read = { try snap.keys(layer: r.layer, matching: filter) }
                let keys = try snap.dataVersions()[r.layer].map { try self.matches.keys(layer: r.layer, version: $0, filter: filter, read) } ?? read()
                return try Self.page(of: keys, r, snap)
            }
        }

        // No box: property filters (or none) straight from the store.
        guard let box = r.box else {
            guard r.filters.isEmpty, r.asOf == nil else {
                let page = try store.features(layer: r.layer, matching: r.filters, asOf: r.asOf, limit: r.limit, offset: r.offset)
                return ItemsPage(features: page, numberMatched: try store.count(layer: r.layer, matching: r.filters, asOf: r.asOf))
            }
            // The present, whole: a page that follows on from the last starts after its key.
            if r.after != nil || r.offset == 0 {
                let (features, more, version) = try reader().snapshot { snap in
                    let keys = try snap.keys(layer: r.layer, after: r.after ?? Int64.min, limit: r.limit + 1)
                    let chosen = keys.prefix(r.limit)
                    return (try snap.features(layer: r.layer, keys: Array(chosen)), keys.count > r.limit ? chosen.last : nil,
                            try snap.dataVersions()[r.layer])
                }
                return ItemsPage(features: features, numberMatched: try total(r.layer, version), byKey: more)
            }
            let page = try store.features(layer: r.layer, matching: [:], asOf: nil, limit: r.limit, offset: r.offset)
            return ItemsPage(features: page, numberMatched: try total(r.layer, try store.dataVersions()[r.layer]))
        }

        let polygon = try Self.lonLatPolygon(box, r.boxCRS)
        guard let outer = polygon.boundingBox else { return ItemsPage(features: [], numberMatched: 0) }
        let rectangular = r.boxCRS == .wgs84
        // The present in a WGS 84 box: the store decides which features meet it.
        if r.asOf == nil, r.filters.isEmpty, rectangular {
            return try reader().snapshot { snap in
                guard let boxes, snap.versionsAreExact, let version = try snap.dataVersions()[r.layer],
                      let index = boxes.index(layer: r.layer, version: version) else {
                    return try Self.page(of: try snap.keys(layer: r.layer, meeting: outer), r, snap)
                }
                // Candidates within the box match; those across its edge are tested on their WKB.
                var keys = [Int64](), edge = [Int64]()
                index.forEachEntry(intersecting: outer) { key, b in
                    if outer.contains(b) { keys.append(key) } else { edge.append(key) }
                }
                let test = RectangleTest(outer)
                try snap.forEachWKB(layer: r.layer, keys: edge) { key, wkb in
                    if try test.meets(wkb) { keys.append(key) }
                }
                keys.sort()
                return try Self.page(of: keys, r, snap)
            }
        }
        let exact = try geos.geometry(polygon).prepared()
        /// Whether a feature with this box and geometry matches the box (GEOS only on the edge).
        func matches(_ fb: BoundingBox, _ geometry: () throws -> GeosGeometry) throws -> Bool {
            guard fb.intersects(outer) else { return false }
            let inside = rectangular && outer.contains(fb)
            return try inside || exact.intersects(geometry())
        }

        // A box in another CRS (curved in WGS 84): its candidates' geometries, by GEOS here.
        if r.asOf == nil, r.filters.isEmpty {
            return try reader().snapshot { snap in
                var keys = [Int64]()
                try snap.forEachWKB(layer: r.layer, intersecting: outer) { key, wkb in
                    if let fb = try WKB.boundingBox(wkb), try matches(fb, { try geos.geometry(wkb: wkb) }) { keys.append(key) }
                }
                keys.sort()
                return try Self.page(of: keys, r, snap)
            }
        }

        // As of a date, or with property filters: whole features, in batches.
        var matched = 0
        var out = [Feature]()
        var offset = 0
        let batchSize = 5_000
        while true {
            let batch = try store.features(layer: r.layer, intersecting: outer, asOf: r.asOf, limit: batchSize, offset: offset)
            for f in batch {
                guard let g = f.geometry, let fb = g.boundingBox, try matches(fb, { try geos.geometry(g) }) else { continue }
                guard r.filters.allSatisfy({ Self.equal(f.properties[$0.key], $0.value) || ($0.key == "id" && $0.value == .string(f.id)) }) else { continue }
                if matched >= r.offset, out.count < r.limit { out.append(f) }
                matched += 1
            }
            if batch.count < batchSize { break }
            offset += batchSize
        }
        return ItemsPage(features: out, numberMatched: matched)
    }

    /// The layer's present features, counted once per data version.
    private func total(_ layer: String, _ version: Int64?) throws -> Int {
        if let version, let known = totals[layer], known.version == version { return known.count }
        let total = try store.count(layer: layer, matching: [:], asOf: nil)
        // Kept only when no batch changed the layer while it was counted: every batch moves
        // the data version, so the count is the one of that version (or of a newer state
        // whose version a PostGIS store has not been told of yet, within its notify delay).
        if let version, try store.dataVersions()[layer] == version { totals[layer] = (version, total) }
        return total
    }

    /// A property equals a filter value as SQLite's `=` decides it in the store's filters:
    /// numbers by value (3 = 3.0), everything else exactly.
    static func equal(_ stored: JSONValue?, _ wanted: JSONValue) -> Bool {
        switch (stored, wanted) {
        case (.integer(let a)?, .number(let b)): Double(a) == b
        case (.number(let a)?, .integer(let b)): a == Double(b)
        default: stored == wanted
        }
    }

    /// The box as a WGS 84 polygon, 16 points per edge so that curved edges stay close.
    static func lonLatPolygon(_ box: BoundingBox, _ crs: CRS) throws -> Geometry {
        guard crs != .wgs84 else { return box.polygon }
        var ring = [Coordinate]()
        let n = 16
        for i in 0..<n { ring.append(Coordinate(box.minX + (box.maxX - box.minX) * Double(i) / Double(n), box.minY)) }
        for i in 0..<n { ring.append(Coordinate(box.maxX, box.minY + (box.maxY - box.minY) * Double(i) / Double(n))) }
        for i in 0..<n { ring.append(Coordinate(box.maxX - (box.maxX - box.minX) * Double(i) / Double(n), box.maxY)) }
        for i in 0..<n { ring.append(Coordinate(box.minX, box.maxY - (box.maxY - box.minY) * Double(i) / Double(n))) }
        ring.append(ring[0])
        return try Transformer(from: crs, to: .wgs84).transform(.polygon([ring]))
    }
}
