import Features
import Foundation
import Geometry
import Projection
import Store

/// A zoning zone over (part of) a parcel: how much of the parcel it covers.
public struct ZoningShare: Hashable, Sendable {
    public var zone: Feature
    /// The area of parcel ∩ zone in EPSG:9210 (m²); for a point outside any parcel, nil.
    public var areaM2: Double?
    /// That area over the parcel's area, in [0, 1]; nil for a point outside any parcel.
    public var share: Double?
}

/// The answer to "what is here?": the parcel, the zoning over it, and the ward.
public struct LookupResult: Hashable, Sendable {
    /// The point asked about, WGS 84 longitude/latitude.
    public var point: Coordinate
    public var parcel: Feature?
    /// The parcel's area in EPSG:9210 (m²), as the shares are measured.
    public var parcelAreaM2: Double?
    /// Zones intersecting the parcel, largest share first (zones at the point when no parcel).
    public var zoning: [ZoningShare]
    /// The unit valid on the lookup's day (the `asOf` date, else today; `choose(on:)` another).
    public var admin: AdminUnit?
    /// The ward and district valid on 2025-06-30 here (SPEC §10), when the layer has them.
    public var adminBeforeReform: FormerAdmin?
    /// Every unit of the `admin` layer covering the point, of any date.
    public var adminUnits: [AdminUnit] = []
    /// The layers' data versions the answer was read at (for ETags).
    public var dataVersions: [String: Int64] = [:]
}

/// Answers "what parcel is here, what does the plan allow, which ward?" from a store.
///
/// Uses the store's R-tree for candidates, then GEOS on prepared geometries. Zoning and admin
/// polygons are large and asked about again and again: their prepared forms are cached, keyed
/// by the layer's data version, so an import makes them new at once. Owns a GEOS context and a
/// PROJ transformer, so it is not `Sendable`: one lookup per thread or task.
public final class ParcelLookup {
    let store: any FeatureStore
    /// The present is read through a connection of this lookup's own.
    let reader: any FeatureReader
    let geos: GeosContext
    /// WGS 84 → VN-2000 / TM-3 105°45′: parcel ∩ zone is cut where areas are measured, so the
    /// pieces of a parcel add up to the parcel (cut in lon/lat, new vertices on edges would
    /// land off the projected edges).
    let toVN2000: Transformer
    private var admin: AreaLayerCache
    private var zoning: AreaLayerCache
    /// Transformers from the CRSs points are given in (PROJ plans an operation once per CRS).
    private var toWGS84 = [CRS: Transformer]()

    public convenience init(store: any FeatureStore) throws {
        try self.init(store: store, areaIndexLimit: AreaLayerCache.indexLimit)
    }

    /// `areaIndexLimit`: the largest zoning or admin layer whose boxes are held in memory;
    /// larger ones are asked through the R-tree.
    init(store: any FeatureStore, areaIndexLimit: Int) throws {
        admin = AreaLayerCache(indexLimit: areaIndexLimit)
        zoning = AreaLayerCache(indexLimit: areaIndexLimit)
        self.store = store
        reader = try store.reader()
        geos = try GeosContext()
        toVN2000 = try Transformer(from: .wgs84, to: .vn2000)
    }

    /// The same for a point given in another CRS (x = easting, y = northing), e.g. VN-2000.
    public func at(_ point: Coordinate, in crs: CRS, asOf: Date? = nil) throws -> LookupResult {
        guard crs != .wgs84 else { return try at(point, asOf: asOf) }
        let transformer: Transformer
        if let known = toWGS84[crs] { transformer = known } else {
            transformer = try Transformer(from: crs, to: .wgs84)
            toWGS84[crs] = transformer
        }
        return try at(transformer.transform(point), asOf: asOf)
    }

    /// The parcel, zoning shares and ward at a WGS 84 longitude/latitude.
    public func at(_ point: Coordinate, asOf: Date? = nil) throws -> LookupResult {
        guard (-180...180).contains(point.x), (-90...90).contains(point.y) else {
            throw QueryError.outOfRange("longitude \(point.x), latitude \(point.y) is not a WGS 84 position")
        }
        let p = try geos.point(point)
        if let asOf { return try past(point, p, asOf) }
        let today = Reform.day(of: Date())
        // The present: one snapshot; only candidate geometries are read until one parcel wins.
        return try reader.snapshot { snap in
            let versions = try snap.dataVersions()
            let box = BoundingBox(minX: point.x, minY: point.y, maxX: point.x, maxY: point.y)
            var parcel: Feature?
            if versions["parcels"] != nil {
                var covering = [(key: Int64, inside: Bool)]()
                try snap.forEachWKB(layer: "parcels", intersecting: box) { key, wkb in
                    let location = try WKB.locate(point, in: wkb) ?? location(of: p, in: geos.geometry(wkb: wkb))
                    if location != .exterior { covering.append((key, location == .interior)) }
                }
                parcel = choose(try covering.compactMap { c in try snap.feature(layer: "parcels", key: c.key).map { ($0, c.inside) } })
            }
            func cached(_ layer: String, _ box: BoundingBox, _ cache: inout AreaLayerCache, _ transform: Transformer?) throws -> [(Feature, PreparedGeometry)] {
                guard let version = versions[layer] else { return [] }
                let limit = cache.indexLimit
                try cache.use(version: version) { try snap.boxes(layer: layer, limit: limit) }
                return try cache.keys(intersecting: box) { try snap.keys(layer: layer, intersecting: box) }.compactMap { key in
                    if let hit = cache.entries[key] { return hit }
                    guard let f = try snap.feature(layer: layer, key: key), let g = f.geometry else { return nil }
                    let entry = (f, try geos.geometry(transform.map { try $0.transform(g) } ?? g).prepared())
                    cache.insert(key, entry)
                    return entry
                }
            }
            let zones = parcel?.geometry?.boundingBox ?? box
            return try answer(point, p, parcel, zones: cached("zoning", zones, &zoning, toVN2000), admin: cached("admin", box, &admin, nil), versions,
                              day: today)
        }
    }

    /// The same as of a date: past versions are read and prepared afresh, nothing cached.
    func past(_ point: Coordinate, _ p: GeosGeometry, _ asOf: Date) throws -> LookupResult {
        let versions = try store.dataVersions()
        let box = BoundingBox(minX: point.x, minY: point.y, maxX: point.x, maxY: point.y)
        func read(_ layer: String, _ box: BoundingBox, _ transform: Transformer?) throws -> [(Feature, GeosGeometry)] {
            guard versions[layer] != nil else { return [] }
            return try store.features(layer: layer, intersecting: box, asOf: asOf, limit: 10_000, offset: 0).compactMap { f in
                guard let g = f.geometry else { return nil }
                return (f, try geos.geometry(transform.map { try $0.transform(g) } ?? g))
            }
        }
        let parcel = choose(try read("parcels", box, nil).compactMap { f, g in
            let location = try location(of: p, in: g)
            return location == .exterior ? nil : (f, location == .interior)
        })
        let zones = try read("zoning", parcel?.geometry?.boundingBox ?? box, toVN2000).map { ($0.0, try $0.1.prepared()) }
        let admin = try read("admin", box, nil).map { ($0.0, try $0.1.prepared()) }
        return try answer(point, p, parcel, zones: zones, admin: admin, versions, day: Reform.day(of: asOf))
    }

    func location(of p: GeosGeometry, in g: GeosGeometry) throws -> PointLocation {
        try g.contains(p) ? .interior : g.covers(p) ? .boundary : .exterior
    }

    /// The parcel among those covering the point. On a shared edge or corner several do; the
    /// answer is then the one whose interior holds the point, else the smallest id, so it never
    /// varies.
    func choose(_ covering: [(Feature, inside: Bool)]) -> Feature? {
        covering.min { a, b in a.inside != b.inside ? a.inside : a.0.id < b.0.id }?.0
    }

    /// The whole answer from the chosen parcel and the candidate zones (prepared in VN-2000)
    /// and administrative units (prepared in WGS 84).
    func answer(_ point: Coordinate, _ p: GeosGeometry, _ parcel: Feature?, zones: [(Feature, PreparedGeometry)],
                admin: [(Feature, PreparedGeometry)], _ versions: [String: Int64], day: String) throws -> LookupResult {
        var result = LookupResult(point: point, parcel: parcel, parcelAreaM2: nil, zoning: [], admin: nil, dataVersions: versions)
        if let g = parcel?.geometry {
            let projected = try geos.geometry(toVN2000.transform(g))
            let area = try projected.area()
            result.parcelAreaM2 = area
            result.zoning = try shares(of: projected, area: area, zones: zones)
        } else {
            let projected = try toVN2000.transform(point)
            result.zoning = try zones.filter { try $0.1.covers(projected) }
                .sorted { $0.0.id < $1.0.id }.map { ZoningShare(zone: $0.0, areaM2: nil, share: nil) }
        }
        result.adminUnits = try admin.filter { try $0.1.covers(p) }.map { AdminUnit($0.0) }.sorted { $0.id < $1.id }
        result.choose(on: day)
        return result
    }

    /// Zones intersecting the parcel with the area and share of the parcel in each.
    ///
    /// Each part of the parcel is counted once: where zones overlap (a data error in a plan,
    /// but real plans have them), the overlap goes to the first zone by id. So the shares
    /// never add up to more than 1, and add up to 1 where zoning covers the parcel. A zone
    /// that covers what is left of the parcel (the usual case) takes it without an overlay.
    func shares(of projected: GeosGeometry, area parcelArea: Double, zones: [(Feature, PreparedGeometry)]) throws -> [ZoningShare] {
        let touching = try zones.filter { try $0.1.intersects(projected) }.sorted { $0.0.id < $1.0.id }
        var out = [ZoningShare]()
        var remainder = projected
        for (zone, prepared) in touching {
            let m2: Double
            if try prepared.covers(remainder) {
                m2 = try remainder.area()
                if m2 > 0 { out.append(ZoningShare(zone: zone, areaM2: m2, share: parcelArea > 0 ? min(1, m2 / parcelArea) : 0)) }
                break
            }
            m2 = try remainder.intersection(prepared.base).area()
            guard m2 > 0 else { continue }  // touching along an edge only
            if touching.count > 1 { remainder = try remainder.difference(prepared.base) }
            out.append(ZoningShare(zone: zone, areaM2: m2, share: parcelArea > 0 ? min(1, m2 / parcelArea) : 0))
        }
        return out.sorted { ($0.share ?? 0, $1.zone.id) > ($1.share ?? 0, $0.zone.id) }
    }
}

/// One large-polygon layer (zoning, admin) as of one data version: an in-memory index of its
/// boxes and the prepared geometries asked for so far, by key. An import or edit of the layer
/// empties it at once. A layer too large to index in memory is asked through the R-tree.
struct AreaLayerCache {
    private(set) var entries = [Int64: (Feature, PreparedGeometry)]()
    private var index: PackedBoxIndex<Int64>?
    private var version: Int64?
    let indexLimit: Int
    static let capacity = 20_000
    static let indexLimit = 250_000

    init(indexLimit: Int) {
        self.indexLimit = indexLimit
    }

    mutating func use(version v: Int64, boxes: () throws -> [(key: Int64, box: BoundingBox)]?) throws {
        guard version != v else { return }
        entries.removeAll()
        index = try boxes().map { PackedBoxIndex($0) }
        version = v
    }

    func keys(intersecting box: BoundingBox, fallback: () throws -> [Int64]) rethrows -> [Int64] {
        guard let index else { return try fallback() }
        var out = [Int64]()
        index.forEach(intersecting: box) { out.append($0) }
        return out
    }

    mutating func insert(_ key: Int64, _ entry: (Feature, PreparedGeometry)) {
        if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = entry
    }
}

/// A query that cannot be answered as asked.
public enum QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    case outOfRange(String)
    case badRequest(String)

    public var description: String {
        switch self {
        case .outOfRange(let s), .badRequest(let s): s
        }
    }
}

extension LookupResult {
    /// Names as `admin` the unit valid on the day (`yyyy-MM-dd`), and the units valid on
    /// 2025-06-30 as `adminBeforeReform`.
    public mutating func choose(on day: String) {
        admin = adminUnits.unit(on: day)
        adminBeforeReform = adminUnits.beforeReform
    }

    /// The answer in the shape of the HTTP API (`GET /parcels/at`), leaving out what `hidden`
    /// hides of each layer (`parcels`, `zoning`, `admin`): the parcel's, each zone's and the
    /// unit's properties alike.
    public func json(hiding hidden: (_ layer: String) -> HiddenProperties) -> JSONValue {
        let parcelHidden = hidden("parcels"), zoningHidden = hidden("zoning"), adminHidden = hidden("admin")
        let landUse = parcelHidden.contains("land_use") ? nil : parcel?.properties["land_use"]?.stringValue
        return .object([
            "point": .object(["type": "Point", "coordinates": .array([.number(point.x), .number(point.y)])]),
            "parcel": parcel.map { $0.geoJSON(hiding: parcelHidden) } ?? .null,
            "parcel_area_m2": parcelAreaM2.map { .number($0) } ?? .null,
            "parcel_land_use": landUse.flatMap { code in
                LandUseCodes.names[code.uppercased()].map { .object(["code": .string(code), "vi": .string($0.vi), "en": .string($0.en)]) }
            } ?? .null,
            "zoning": .array(zoning.map { z in
                var o = zoningHidden.filter(z.zone.properties)
                o["id"] = .string(z.zone.id)
                o["area_m2"] = z.areaM2.map { .number($0) } ?? .null
                o["share"] = z.share.map { .number($0) } ?? .null
                return .object(o)
            }),
            "admin": admin.map { .object(adminHidden.filter($0.json())) } ?? .null,
            "admin_before_reform": adminBeforeReform.map { former in
                .object([
                    "ward": former.ward.map { .object(adminHidden.filter($0.json())) } ?? .null,
                    "district": former.district.map { .object(adminHidden.filter($0.json())) } ?? .null,
                ])
            } ?? .null,
        ])
    }
}
