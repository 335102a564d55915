import Geometry

/// Who may read a layer (SPEC §8). A layer a caller may not read does not exist for it.
public enum AccessLevel: String, Hashable, Sendable, CaseIterable, Comparable {
    /// Anyone, anonymous callers included.
    case `public`
    /// Any token holder.
    case `internal`
    /// Only tokens granted the layer (`--layers`), its steward unit's tokens and admins.
    case restricted

    public static func < (a: AccessLevel, b: AccessLevel) -> Bool {
        (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
    }
}

/// How often a layer's steward updates it (DCAT's accrual periodicity, as SPEC §8 names it).
public enum UpdateFrequency: String, Hashable, Sendable, CaseIterable {
    case daily, weekly, monthly, quarterly, annual, irregular
}

/// What a layer's steward says about it beyond its fields (SPEC §8's `landmap layer set`), kept
/// as JSON in each backend's layers table. Members not set fall back to the built-in layers'
/// defaults (`LayerMetadata.defaults(for:)`), then to nothing.
public struct LayerMetadata: Hashable, Sendable {
    public var title: String?
    public var titleEn: String?
    public var description: String?
    public var descriptionEn: String?
    /// The unit responsible for the layer (`so-tnmt`): its steward tokens review proposals.
    public var steward: String?
    public var access: AccessLevel
    /// An SPDX licence id (`CC-BY-4.0`, `MIT`, `LicenseRef-…`).
    public var licence: String?
    /// The credit every map and download of the layer shows.
    public var attribution: String?
    public var keywords: [String]
    public var updateFrequency: UpdateFrequency?
    /// An e-mail address for questions about the layer.
    public var contact: String?
    /// Property names marked private, as the steward gave them.
    public private(set) var privateFields: [String]
    /// The same, normalised as `PrivacyRule.normalised` does, for matching.
    private(set) var privateNormalised: Set<String>

    public init(title: String? = nil, titleEn: String? = nil, description: String? = nil, descriptionEn: String? = nil,
                steward: String? = nil, access: AccessLevel = .public, licence: String? = nil, attribution: String? = nil,
                keywords: [String] = [], updateFrequency: UpdateFrequency? = nil, contact: String? = nil, privateFields: [String] = []) {
        self.title = title
        self.titleEn = titleEn
        self.description = description
        self.descriptionEn = descriptionEn
        self.steward = steward
        self.access = access
        self.licence = licence
        self.attribution = attribution
        self.keywords = keywords
        self.updateFrequency = updateFrequency
        self.contact = contact
        self.privateFields = []
        self.privateNormalised = []
        setPrivateFields(privateFields)
    }

    public static let empty = LayerMetadata()

    public mutating func setPrivateFields(_ names: [String]) {
        var seen = Set<String>()
        privateFields = names.filter { !$0.isEmpty && seen.insert($0).inserted }
        privateNormalised = Set(privateFields.map(PrivacyRule.normalised))
    }

    /// As stored: every member that is set, snake_case.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["access": .string(access.rawValue)]
        func put(_ key: String, _ value: String?) { if let value { o[key] = .string(value) } }
        put("title", title)
        put("title_en", titleEn)
        put("description", description)
        put("description_en", descriptionEn)
        put("steward", steward)
        put("licence", licence)
        put("attribution", attribution)
        put("update_frequency", updateFrequency?.rawValue)
        put("contact", contact)
        if !keywords.isEmpty { o["keywords"] = .array(keywords.map { .string($0) }) }
        o["private_fields"] = .array(privateFields.map { .string($0) })
        return .object(o)
    }

    /// From the stored JSON, members it lacks taken from `defaults`. An access level that is
    /// not one of the three reads as `restricted`: a damaged record must not open a layer.
    public init(json: JSONValue, defaults: LayerMetadata = .empty) {
        func text(_ key: String, _ fallback: String?) -> String? { json[key].map { $0.stringValue } ?? fallback }
        let access: AccessLevel = json["access"].map { $0.stringValue.flatMap(AccessLevel.init(rawValue:)) ?? .restricted } ?? defaults.access
        self.init(title: text("title", defaults.title), titleEn: text("title_en", defaults.titleEn),
                  description: text("description", defaults.description), descriptionEn: text("description_en", defaults.descriptionEn),
                  steward: text("steward", defaults.steward), access: access, licence: text("licence", defaults.licence),
                  attribution: text("attribution", defaults.attribution),
                  keywords: json["keywords"]?.arrayValue?.compactMap(\.stringValue) ?? defaults.keywords,
                  updateFrequency: text("update_frequency", defaults.updateFrequency?.rawValue).flatMap(UpdateFrequency.init(rawValue:)),
                  contact: text("contact", defaults.contact),
                  privateFields: json["private_fields"]?.arrayValue?.compactMap(\.stringValue) ?? defaults.privateFields)
    }

    /// One line for the audit log: every member that is set.
    public var auditText: String {
        var parts = ["access \(access.rawValue)"]
        func add(_ label: String, _ value: String?) { if let value, !value.isEmpty { parts.append("\(label) \(value)") } }
        add("steward", steward)
        add("licence", licence)
        add("title", title)
        add("title_en", titleEn)
        add("attribution", attribution)
        add("update_frequency", updateFrequency?.rawValue)
        add("contact", contact)
        if !keywords.isEmpty { parts.append("keywords \(keywords.joined(separator: ", "))") }
        parts.append("private fields: \(privateFields.isEmpty ? "none" : privateFields.joined(separator: ", "))")
        return parts.joined(separator: "; ")
    }

    /// What the built-in layers say until their steward sets otherwise: the HCMC units that
    /// hold each dataset after the 2025 reform, public access (owners' fields stay private by
    /// the privacy rule), and the licence and credit of the sample data `make run` loads
    /// (`GeoData/PROVENANCE.md`). Custom layers start with nothing but public access.
    public static func defaults(for layer: String) -> LayerMetadata {
        switch layer {
        case "parcels":
            LayerMetadata(
                title: "Thửa đất", titleEn: "Cadastral parcels",
                description: "Thửa đất địa chính: số tờ, số thửa, loại đất, diện tích, địa chỉ; tên và giấy tờ chủ sử dụng chỉ dành cho người có quyền.",
                descriptionEn: "Cadastral land parcels: sheet and parcel number, land-use code, area and address; owners' names and ids only for authorised users.",
                steward: "so-nnmt", access: .public, licence: "LicenseRef-LandMap-sample",
                attribution: "Sample parcels generated by LandMap (not a real cadastre)",
                keywords: ["thửa đất", "địa chính", "cadastre", "parcels"], updateFrequency: .daily, contact: "gis@landmap.example")
        case "zoning":
            LayerMetadata(
                title: "Quy hoạch", titleEn: "Zoning plan zones",
                description: "Ô quy hoạch chi tiết: chức năng sử dụng đất, mật độ, tầng cao, chiều cao, hệ số sử dụng đất, quyết định phê duyệt.",
                descriptionEn: "Detailed zoning plan zones: planned land use, coverage, storeys, height, floor-area ratio and approval decision.",
                steward: "so-qhkt", access: .public, licence: "LicenseRef-CSL-HCMC",
                attribution: "City Science Lab @ HCMC (SaiGon-Peninsula)",
                keywords: ["quy hoạch", "zoning", "land use plan"], updateFrequency: .irregular, contact: "gis@landmap.example")
        case "admin":
            LayerMetadata(
                title: "Đơn vị hành chính", titleEn: "Administrative units",
                description: "Phường, xã và đặc khu của Thành phố Hồ Chí Minh sau sắp xếp ngày 1/7/2025.",
                descriptionEn: "Wards, communes and the special zone of Ho Chi Minh City after the 1 July 2025 reform.",
                steward: "so-noi-vu", access: .public, licence: "MIT", attribution: "© vietnam-3d-map authors (MIT)",
                keywords: ["đơn vị hành chính", "phường", "xã", "administrative units", "wards"], updateFrequency: .annual,
                contact: "gis@landmap.example")
        default:
            .empty
        }
    }
}
