import Features
import Foundation
import Geometry
import Projection
import Store

/// One unit on the other side of the reform from the one asked about, with how much of the
/// area they share, measured in VN-2000 (m²) from the layer's geometry.
public struct CrosswalkLink: Hashable, Sendable {
    public var unit: AdminUnit
    /// The area the two share.
    public var areaM2: Double
    /// For successors: the part of the old unit's area in this new one, the parts summing to 1
    /// (normalised over the pieces listed). For predecessors: the part of the new unit's area
    /// that came from this old one, likewise.
    public var share: Double
    /// The part of the other unit's own area inside the one asked about (for predecessors: how
    /// much of the old unit went into the new one; 1 = whole).
    public var shareOfOther: Double
    /// Whether the official crosswalk names this link, and its word on it (`full`, `partial`).
    public var official: Bool
    public var officialType: String?
}

/// `GET /admin/crosswalk` (SPEC §10): for an old unit (valid until 2025-06-30) the new units
/// its area went to, for a new unit the old units it came from.
public struct Crosswalk: Sendable {
    public var unit: AdminUnit
    public var day: String
    /// `successors` (the unit is an old one) or `predecessors` (a new one).
    public var direction: String
    public var links: [CrosswalkLink]
    /// What the official mapping (vn-admin-reform-2025) says, as the unit's feature carries it.
    public var officialList: [(code: String, name: String, type: String?)]
    /// The part of the unit's area the listed links cover (geometry from two sources at
    /// different scales never matches exactly; the shares are normalised over this).
    public var coverage: Double

    /// A piece smaller than this part of the unit is a border mismatch between sources, listed
    /// only when the official mapping names it.
    public static let sliver = 0.005

    /// The crosswalk of the unit with this code valid on the day; nil when none was.
    public static func make(code: String, on day: String, store: any FeatureStore) throws -> Crosswalk? {
        let named = try store.features(layer: "admin", matching: ["code": .string(code)], asOf: nil, limit: 100, offset: 0)
        let valid = named.filter { AdminUnit($0).isValid(on: day) }
        // A ward before a district of the same code (none share one in HCMC), then the smallest id.
        let chosen = valid.min { a, b in
            let da = AdminUnit(a).isDistrict, db = AdminUnit(b).isDistrict
            return da != db ? !da : a.id < b.id
        }
        guard let feature = chosen, let geometry = feature.geometry, let box = geometry.boundingBox else { return nil }
        let unit = AdminUnit(feature)
        let isOld = unit.validTo.map { $0 <= Reform.lastDayBefore } ?? false
        let otherDay = isOld ? Self.firstDayAfter : Reform.lastDayBefore
        let official = Self.officialList(feature.properties[isOld ? "successors" : "predecessors"])
        let geos = try GeosContext()
        let toVN2000 = try Transformer(from: .wgs84, to: .vn2000)
        let mine = try geos.geometry(toVN2000.transform(geometry))
        let myArea = try mine.area()
        let prepared = try mine.prepared()
        var pieces = [(AdminUnit, Double, Double)]()
        for other in try store.features(layer: "admin", intersecting: box, asOf: nil, limit: 10_000, offset: 0) {
            let o = AdminUnit(other)
            // Old units go to new wards and communes, new units come from old ones; an old
            // district is asked about as a whole, so it is compared with new units too.
            guard o.id != unit.id, !o.isDistrict, o.isValid(on: otherDay), o.validTo != nil || o.validFrom != nil,
                  let g = other.geometry else { continue }
            let theirs = try geos.geometry(toVN2000.transform(g))
            guard try prepared.intersects(theirs) else { continue }
            let shared = try mine.intersection(theirs).area()
            let theirArea = try theirs.area()
            let isOfficial = official.contains { $0.code == o.code }
            guard shared > 0 || isOfficial else { continue }
            if myArea > 0, shared / myArea < sliver, !isOfficial { continue }
            pieces.append((o, shared, theirArea > 0 ? shared / theirArea : 0))
        }
        let total: Double = pieces.reduce(0.0) { $0 + $1.1 }
        var links = [CrosswalkLink]()
        for (o, shared, ofOther) in pieces {
            let entry = official.first { $0.code == o.code }
            let share: Double = total > 0 ? shared / total : 0
            links.append(CrosswalkLink(unit: o, areaM2: shared, share: share, shareOfOther: ofOther, official: entry != nil, officialType: entry?.type))
        }
        links.sort { a, b in a.share != b.share ? a.share > b.share : a.unit.id < b.unit.id }
        return Crosswalk(unit: unit, day: day, direction: isOld ? "successors" : "predecessors", links: links, officialList: official,
                         coverage: myArea > 0 ? total / myArea : 0)
    }

    /// The first day of the new units.
    public static let firstDayAfter = "2025-07-01"

    /// The official list a unit's feature carries (`[{code, name, type}]`, as JSON or its text).
    static func officialList(_ value: JSONValue?) -> [(code: String, name: String, type: String?)] {
        var list = value?.arrayValue
        if list == nil, let s = value?.stringValue, let parsed = try? JSONValue.parse(s) { list = parsed.arrayValue }
        return (list ?? []).compactMap { item in
            guard let o = item.objectValue, let code = o["code"]?.stringValue else { return nil }
            return (code, o["name"]?.stringValue ?? "", o["type"]?.stringValue)
        }
    }

    /// The shape of the HTTP answer: the unit, then each link with the geometry's share and
    /// the official word beside it.
    public func json() -> JSONValue {
        .object([
            "unit": .object(unit.json()),
            "on": .string(day),
            "direction": .string(direction),
            direction: .array(links.map { l in
                var o = l.unit.json()
                o["area_m2"] = .number((l.areaM2 * 10).rounded() / 10)
                o["share"] = .number((l.share * 10_000).rounded() / 10_000)
                o[direction == "successors" ? "share_of_new_unit" : "share_of_old_unit"] = .number((l.shareOfOther * 10_000).rounded() / 10_000)
                o["official"] = .bool(l.official)
                o["official_type"] = l.officialType.map { .string($0) } ?? .null
                return .object(o)
            }),
            "official": .array(officialList.map { e in
                .object(["code": .string(e.code), "name": .string(e.name), "type": e.type.map { .string($0) } ?? .null])
            }),
            "coverage": .number((coverage * 10_000).rounded() / 10_000),
            "method": .string("shares from the admin layer's geometry (intersections in VN-2000, normalised over the units listed; pieces under 0.5 % of the unit are border mismatches and are left out unless the official list names them); `official` is the word of the official crosswalk (vn-admin-reform-2025)"),
        ])
    }
}
