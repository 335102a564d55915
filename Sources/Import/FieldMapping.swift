import Features
import Geometry

/// Which source field feeds which canonical field of a layer.
///
/// Common Vietnamese field names of cadastral, planning and administrative files are known
/// (case and underscores ignored); `--map SRC=CANONICAL` adds or overrides; a source field
/// already named like a canonical one maps to it. Every other field is kept under its own name.
public struct FieldMapping: Sendable, Equatable {
    /// Source field name → canonical field name, for the fields that map.
    public let canonical: [String: String]

    static let aliases: [String: [String: String]] = [
        "parcels": [
            "soto": "sheet", "shbando": "sheet", "sotobando": "sheet", "tobando": "sheet", "soto_bd": "sheet",
            "sothua": "number", "shthua": "number", "thua": "number", "sothuadat": "number",
            "maloaidat": "land_use", "loaidat": "land_use", "mdsd": "land_use", "kyhieumdsd": "land_use", "mucdichsd": "land_use",
            "dientich": "declared_area_m2", "dtpl": "declared_area_m2", "dientichpl": "declared_area_m2", "dientichphaply": "declared_area_m2",
            "maxa": "ward_code", "maphuong": "ward_code", "madvhc": "ward_code",
            "diachi": "address", "chusudung": "owner", "tenchu": "owner", "chusd": "owner", "socmnd": "owner_id", "socccd": "owner_id",
        ],
        "zoning": [
            "kyhieu": "zone_code", "kyhieuo": "zone_code", "maoquyhoach": "zone_code", "oquyhoach": "zone_code",
            "chucnang": "land_use", "loaidatqh": "land_use", "typecode": "land_use", "maloaidat": "land_use",
            "matdo": "density_max_pct", "mdxd": "density_max_pct", "matdoxd": "density_max_pct",
            "tangcao": "floors_max", "sotang": "floors_max", "storey": "floors_max",
            "chieucao": "height_max_m", "height": "height_max_m",
            "hssdd": "far_max", "hesosdd": "far_max", "hesosudungdat": "far_max",
            "tendoan": "plan_name", "soqd": "plan_decision", "quyetdinh": "plan_decision", "ngaypd": "approved_on", "ngaypheduyet": "approved_on",
        ],
        "admin": [
            "ma": "code", "maxa": "code", "madvhc": "code", "maphuong": "code",
            "ten": "name", "tenxa": "name", "tenphuong": "name", "tendvhc": "name",
            "cap": "level", "type": "level", "loai": "level",
            "matinh": "parent_code", "province_code": "parent_code", "macha": "parent_code",
        ],
    ]

    static func normalised(_ name: String) -> String {
        name.lowercased().filter { $0 != "_" && $0 != " " }
    }

    /// The mapping for a file's fields into a layer, with explicit `--map` entries first.
    public init(sourceFields: [String], schema: LayerSchema, explicit: [String: String] = [:]) {
        let canonicalNames = Set(schema.fields.map(\.name))
        let known = Self.aliases[schema.name] ?? [:]
        var map = [String: String]()
        var taken = Set<String>()
        // Explicit first, then exact canonical names, then aliases: the first claim wins.
        for source in sourceFields {
            if let target = explicit[source] { map[source] = target; taken.insert(target) }
        }
        for source in sourceFields where map[source] == nil {
            let lower = source.lowercased()
            if canonicalNames.contains(lower), !taken.contains(lower) { map[source] = lower; taken.insert(lower) }
        }
        for source in sourceFields where map[source] == nil {
            if let target = known[Self.normalised(source)], canonicalNames.contains(target), !taken.contains(target) {
                map[source] = target
                taken.insert(target)
            }
        }
        canonical = map
    }

    /// Source fields renamed to canonical names; the rest kept as they are.
    public func apply(_ fields: [String: JSONValue]) -> [String: JSONValue] {
        var out = [String: JSONValue]()
        out.reserveCapacity(fields.count)
        for (name, value) in fields {
            if let target = canonical[name] {
                out[target] = value
            } else if out[name] == nil {
                out[name] = value
            }
        }
        return out
    }
}
