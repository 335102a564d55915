/// The SQL type of a canonical field, as GeoPackage names it.
public enum FieldType: String, Hashable, Sendable {
    case text = "TEXT"
    case integer = "INTEGER"
    case real = "REAL"
    case date = "DATE"
}

/// A canonical property of a layer: a real column in storage, typed, maybe private.
public struct FieldDefinition: Hashable, Sendable {
    public let name: String
    public let type: FieldType
    /// Shown only to token holders, never to anonymous callers (owners' names, ids).
    public let isPrivate: Bool
    /// What the field means, in Vietnamese terms with an English gloss.
    public let summary: String

    public init(_ name: String, _ type: FieldType, private isPrivate: Bool = false, _ summary: String = "") {
        self.name = name
        self.type = type
        self.isPrivate = isPrivate
        self.summary = summary
    }
}

/// What a layer holds: its name, geometry kind and canonical fields. Source fields that are not
/// canonical are kept too, in the feature's JSON `properties` column.
public struct LayerSchema: Hashable, Sendable {
    public let name: String
    public let title: String
    /// The GeoPackage geometry type name of the layer's column (`MULTIPOLYGON`, `GEOMETRY`).
    public let geometryType: String
    public let fields: [FieldDefinition]
    /// Fields whose combination identifies a feature for people (parcels: ward, sheet, number).
    public let keyFields: [String]
    /// What the layer's steward set (private fields so far); changes without a new schema.
    public var metadata: LayerMetadata

    public init(name: String, title: String, geometryType: String = "GEOMETRY", fields: [FieldDefinition] = [], keyFields: [String] = [],
                metadata: LayerMetadata = .empty) {
        self.name = name
        self.title = title
        self.geometryType = geometryType
        self.fields = fields
        self.keyFields = keyFields
        self.metadata = metadata
    }

    /// True when no two present features may share their key fields: a ward, sheet and number
    /// name one parcel. Zones share codes, and custom layers have no key, so only parcels.
    public var keyIsUnique: Bool { name == "parcels" && !keyFields.isEmpty }

    /// Built-in areal layers store polygons as multipolygons (promoted on write).
    public var isAreal: Bool { geometryType == "MULTIPOLYGON" }

    public func field(_ name: String) -> FieldDefinition? { fields.first { $0.name == name } }

    /// Cadastral parcels (thửa đất).
    public static let parcels = LayerSchema(
        name: "parcels", title: "Thửa đất (cadastral parcels)", geometryType: "MULTIPOLYGON",
        fields: [
            FieldDefinition("ward_code", .text, "Mã ĐVHC (ward code)"),
            FieldDefinition("sheet", .integer, "Số tờ bản đồ (map sheet number)"),
            FieldDefinition("number", .integer, "Số thửa (parcel number)"),
            FieldDefinition("land_use", .text, "Mã loại đất (land-use code: ODT, ONT, CLN, LUC, SKC, DGT, …)"),
            FieldDefinition("area_m2", .real, "Diện tích tính toán (computed area, m², VN-2000)"),
            FieldDefinition("declared_area_m2", .real, "Diện tích pháp lý (declared area, m²)"),
            FieldDefinition("address", .text, "Địa chỉ (address)"),
            FieldDefinition("owner", .text, private: true, "Chủ sử dụng (owner)"),
            FieldDefinition("owner_id", .text, private: true, "Số giấy tờ chủ sử dụng (owner's id)"),
        ],
        keyFields: ["ward_code", "sheet", "number"])

    /// Zoning plan zones (quy hoạch).
    public static let zoning = LayerSchema(
        name: "zoning", title: "Quy hoạch (zoning plan zones)", geometryType: "MULTIPOLYGON",
        fields: [
            FieldDefinition("zone_code", .text, "Ký hiệu ô quy hoạch (zone code)"),
            FieldDefinition("land_use", .text, "Chức năng sử dụng đất quy hoạch (planned land use)"),
            FieldDefinition("density_max_pct", .real, "Mật độ xây dựng tối đa (max. building coverage, %)"),
            FieldDefinition("floors_max", .integer, "Tầng cao tối đa (max. floors)"),
            FieldDefinition("height_max_m", .real, "Chiều cao tối đa (max. height, m)"),
            FieldDefinition("far_max", .real, "Hệ số sử dụng đất tối đa (max. floor-area ratio)"),
            FieldDefinition("plan_name", .text, "Tên đồ án quy hoạch (plan name)"),
            FieldDefinition("plan_decision", .text, "Số quyết định phê duyệt (approval decision)"),
            FieldDefinition("approved_on", .date, "Ngày phê duyệt (approval date)"),
        ],
        keyFields: ["zone_code"])

    /// Administrative units (đơn vị hành chính).
    public static let admin = LayerSchema(
        name: "admin", title: "Đơn vị hành chính (administrative units)", geometryType: "MULTIPOLYGON",
        fields: [
            FieldDefinition("code", .text, "Mã đơn vị hành chính (official unit code)"),
            FieldDefinition("name", .text, "Tên (name)"),
            FieldDefinition("level", .text, "Cấp: province, ward, commune, special_zone"),
            FieldDefinition("parent_code", .text, "Mã đơn vị cấp trên (parent unit code)"),
        ],
        keyFields: ["code"])

    public static let builtIn: [LayerSchema] = [parcels, zoning, admin]

    public static func builtIn(named name: String) -> LayerSchema? {
        builtIn.first { $0.name == name }
    }

    /// A layer of any geometry with no canonical fields: everything goes to `properties`.
    public static func custom(_ name: String, title: String? = nil) -> LayerSchema {
        LayerSchema(name: name, title: title ?? name)
    }

    /// Layer names become SQL table names: lower-case ASCII letters, digits and `_`, starting
    /// with a letter, at most 63 characters, not reserved by GeoPackage, SQLite or LandMap.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.unicodeScalars.count <= 63,
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }) else { return false }
        return !["gpkg_", "sqlite_", "rtree_", "landmap_"].contains { name.hasPrefix($0) }
    }
}
