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

/// The administrative unit holding a point.
public struct AdminUnit: Hashable, Sendable {
    public var code: String
    public var name: String
    public var level: String
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
    public var admin: AdminUnit?
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
    let geos: GeosContext
    /// WGS 84 → VN-2000 / TM-3 105°45′: parcel ∩ zone is cut where areas are measured, so the
    /// pieces of a parcel add up to the parcel (cut in lon/lat, new vertices on edges would
    /// land off the projected edges).
    let toVN2000: Transformer
    private var admin = PreparedCache()
    private var zones = PreparedCache()
    /// Transformers from the CRSs points are given in (PROJ plans an operation once per CRS).
    private var toWGS84 = [CRS: Transformer]()

    public init(store: any FeatureStore) throws {
        self.store = store
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
        let versions = try store.dataVersions()
        let parcel = versions["parcels"] == nil ? nil : try parcel(at: p, point, asOf: asOf)
        var result = LookupResult(point: point, parcel: parcel?.feature, parcelAreaM2: nil, zoning: [], admin: nil, dataVersions: versions)
        if let parcel {
            let projected = try geos.geometry(toVN2000.transform(parcel.value))
            let parcelArea = try projected.area()
            result.parcelAreaM2 = parcelArea
            result.zoning = try zoning(over: parcel, projected: projected, area: parcelArea, version: versions["zoning"], asOf: asOf)
        } else {
            result.zoning = try covering(layer: "zoning", p, point, version: versions["zoning"], asOf: asOf).map { ZoningShare(zone: $0.feature, areaM2: nil, share: nil) }
        }
        if let ward = try covering(layer: "admin", p, point, version: versions["admin"], asOf: asOf).first {
            let props = ward.feature.properties
            result.admin = AdminUnit(code: props["code"]?.stringValue ?? ward.feature.id, name: props["name"]?.stringValue ?? "",
                                     level: props["level"]?.stringValue ?? "")
        }
        return result
    }

    struct Candidate {
        let feature: Feature
        let value: Geometry
        let native: GeosGeometry
    }

    /// The parcel covering the point. On a shared edge or corner several do; the answer is then
    /// the one whose interior holds the point, else the smallest id, so it never varies.
    func parcel(at p: GeosGeometry, _ point: Coordinate, asOf: Date?) throws -> Candidate? {
        let box = BoundingBox(minX: point.x, minY: point.y, maxX: point.x, maxY: point.y)
        var best: (Candidate, Bool)?
        for f in try store.features(layer: "parcels", intersecting: box, asOf: asOf, limit: 1_000, offset: 0) {
            guard let g = f.geometry else { continue }
            let native = try geos.geometry(g)
            guard try native.covers(p) else { continue }
            let inside = try native.contains(p)
            let candidate = Candidate(feature: f, value: g, native: native)
            if let (current, currentInside) = best {
                if (inside && !currentInside) || (inside == currentInside && f.id < current.feature.id) { best = (candidate, inside) }
            } else {
                best = (candidate, inside)
            }
        }
        return best?.0
    }

    /// Zones intersecting the parcel with the area and share of the parcel in each.
    ///
    /// Each part of the parcel is counted once: where zones overlap (a data error in a plan,
    /// but real plans have them), the overlap goes to the first zone by id. So the shares
    /// never add up to more than 1, and add up to 1 where zoning covers the parcel.
    func zoning(over parcel: Candidate, projected: GeosGeometry, area parcelArea: Double, version: Int64?, asOf: Date?) throws -> [ZoningShare] {
        guard let box = parcel.value.boundingBox, let version else { return [] }
        var touching = [(Feature, PreparedGeometry)]()
        for (zone, prepared) in try cachedCandidates("zoning", box, version: version, asOf: asOf, in: &zones, transform: toVN2000)
        where try prepared.intersects(projected) {
            touching.append((zone, prepared))
        }
        var out = [ZoningShare]()
        var remainder = projected
        for (zone, prepared) in touching.sorted(by: { $0.0.id < $1.0.id }) {
            let m2 = try remainder.intersection(prepared.base).area()
            guard m2 > 0 else { continue }  // touching along an edge only
            if touching.count > 1 { remainder = try remainder.difference(prepared.base) }
            out.append(ZoningShare(zone: zone, areaM2: m2, share: parcelArea > 0 ? min(1, m2 / parcelArea) : 0))
        }
        return out.sorted { ($0.share ?? 0, $1.zone.id) > ($1.share ?? 0, $0.zone.id) }
    }

    /// Features of a (large-polygon) layer covering the point, smallest id first.
    func covering(layer: String, _ p: GeosGeometry, _ point: Coordinate, version: Int64?, asOf: Date?) throws -> [Candidate] {
        guard let version else { return [] }
        let box = BoundingBox(minX: point.x, minY: point.y, maxX: point.x, maxY: point.y)
        var out = [Candidate]()
        for (f, prepared) in try cachedCandidates(layer, box, version: version, asOf: asOf, in: &admin, transform: nil)
        where try prepared.covers(p) {
            out.append(Candidate(feature: f, value: f.geometry ?? .point(nil), native: prepared.base))
        }
        return out.sorted { $0.feature.id < $1.feature.id }
    }

    /// R-tree candidates with their prepared geometries: from the cache by id, reading a feature
    /// only on a miss. As of a date, the past versions are read and prepared afresh.
    func cachedCandidates(_ layer: String, _ box: BoundingBox, version: Int64, asOf: Date?, in cache: inout PreparedCache,
                          transform: Transformer?) throws -> [(Feature, PreparedGeometry)] {
        if asOf != nil {
            return try store.features(layer: layer, intersecting: box, asOf: asOf, limit: 10_000, offset: 0).compactMap { f in
                guard let g = f.geometry else { return nil }
                return (f, try geos.geometry(transform.map { try $0.transform(g) } ?? g).prepared())
            }
        }
        cache.use(version: version)
        var out = [(Feature, PreparedGeometry)]()
        for id in try store.ids(layer: layer, intersecting: box) {
            if let hit = cache.entries[id] {
                out.append(hit)
                continue
            }
            guard let f = try store.feature(layer: layer, id: id, asOf: nil), let g = f.geometry else { continue }
            let prepared = try geos.geometry(transform.map { try $0.transform(g) } ?? g).prepared()
            cache.insert(id, (f, prepared))
            out.append((f, prepared))
        }
        return out
    }
}

/// Features of one large-polygon layer (zoning, admin) with their prepared geometries, valid
/// for one data version of the layer: an import or edit empties it at once.
struct PreparedCache {
    private(set) var entries = [String: (Feature, PreparedGeometry)]()
    private var version: Int64?
    static let capacity = 20_000

    mutating func use(version v: Int64) {
        if version != v {
            entries.removeAll()
            version = v
        }
    }

    mutating func insert(_ id: String, _ entry: (Feature, PreparedGeometry)) {
        if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        entries[id] = entry
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
    /// The answer in the shape of the HTTP API (`GET /parcels/at`), leaving out hidden fields.
    public func json(hiding hidden: Set<String>) -> JSONValue {
        .object([
            "point": .object(["type": "Point", "coordinates": .array([.number(point.x), .number(point.y)])]),
            "parcel": parcel.map { $0.geoJSON(hiding: hidden) } ?? .null,
            "parcel_area_m2": parcelAreaM2.map { .number($0) } ?? .null,
            "parcel_land_use": parcel?.properties["land_use"]?.stringValue.flatMap { code in
                LandUseCodes.names[code.uppercased()].map { .object(["code": .string(code), "vi": .string($0.vi), "en": .string($0.en)]) }
            } ?? .null,
            "zoning": .array(zoning.map { z in
                var o = z.zone.properties
                o["id"] = .string(z.zone.id)
                o["area_m2"] = z.areaM2.map { .number($0) } ?? .null
                o["share"] = z.share.map { .number($0) } ?? .null
                return .object(o)
            }),
            "admin": admin.map { .object(["code": .string($0.code), "name": .string($0.name), "level": .string($0.level)]) } ?? .null,
        ])
    }
}
