import Foundation
import Geometry

/// SPEC §8's privacy rule, in one place: which properties of a layer only token holders see.
///
/// Private in every layer (parcels, zoning, admin, custom): owners' names and ids under any of
/// the names users give them — `owner`, `owner_id`, `ChuSuDung`, `TenChuSuDung`, `HoTen`,
/// `CCCD`, `CMND`, `SoCCCD`, `SoCMND`, … — in any case, with or without `_`, spaces or
/// Vietnamese diacritics; the canonical fields a schema declares private; and the fields a
/// layer's metadata marks private (`landmap layer set LAYER --private-fields f,…`).
public enum PrivacyRule {
    /// Owner-like names, normalised (see `normalised`), that are private wherever they appear
    /// in a name: `so_cccd`, `cmnd_cccd`, `ten_chu_su_dung`, `owner2`, `land_owner`.
    static let ownerWords = ["owner", "chusudung", "chusohuu", "cccd", "cmnd"]
    /// Owner-like names too short or common to match inside other names (`tenchu` is inside
    /// `tenchucnang`): private only as the whole name.
    static let ownerNames: Set<String> = ["hoten", "hovaten", "tenchu", "chusd"]

    /// True when a property of this name is an owner's name or id, in any layer.
    public static func isOwnerLike(_ name: String) -> Bool {
        let n = normalised(name)
        return ownerNames.contains(n) || ownerWords.contains { n.contains($0) }
    }

    /// Lower-case ASCII letters and digits only: case, `_`, `-`, spaces and Vietnamese
    /// diacritics (đ as d) set aside, so `Họ_Tên`, `HO TEN` and `hoten` are one name.
    public static func normalised(_ name: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            if scalar.isASCII {
                let v = scalar.value
                if (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) { out.append(scalar) }
                else if (0x41...0x5A).contains(v), let lower = Unicode.Scalar(v + 0x20) { out.append(lower) }
                continue
            }
            if scalar == "đ" || scalar == "Đ" { out.append("d"); continue }
            // ệ → e, Ư → u: a precomposed letter folds to its ASCII base.
            let folded = String(scalar).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            for s in folded.unicodeScalars where s.isASCII && (("a"..."z").contains(s) || ("0"..."9").contains(s)) { out.append(s) }
        }
        return String(out)
    }
}

/// What a layer's steward says about it beyond its fields (SPEC §8's `landmap layer set`),
/// kept in `landmap_layers`. Only the private fields so far; title, steward, access, licence
/// and the rest of SPEC §8's options belong here when they come.
public struct LayerMetadata: Hashable, Sendable {
    /// Property names marked private, as the steward gave them.
    public let privateFields: [String]
    /// The same, normalised as `PrivacyRule.normalised` does, for matching.
    let privateNormalised: Set<String>

    public init(privateFields: [String] = []) {
        var seen = Set<String>()
        self.privateFields = privateFields.filter { !$0.isEmpty && seen.insert($0).inserted }
        privateNormalised = Set(self.privateFields.map(PrivacyRule.normalised))
    }

    public static let empty = LayerMetadata()

    /// As stored: `{"private_fields": [...]}`.
    public var json: JSONValue {
        .object(["private_fields": .array(privateFields.map { .string($0) })])
    }

    /// From the stored JSON; unknown members are kept for later options and ignored here.
    public init(json: JSONValue) {
        self.init(privateFields: (json["private_fields"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}

extension LayerSchema {
    /// Whether `property` is private in this layer: the one decision every anonymous output
    /// (items, tiles, TileJSON, lookups, search, history, queryables, exports) goes through.
    public func isPrivate(_ property: String) -> Bool {
        if field(property)?.isPrivate == true || PrivacyRule.isOwnerLike(property) { return true }
        return !metadata.privateNormalised.isEmpty && metadata.privateNormalised.contains(PrivacyRule.normalised(property))
    }

    /// What an anonymous caller may not see of this layer's features.
    public var privateFields: HiddenProperties { HiddenProperties(privateOf: self) }
}

/// The properties an output leaves out for one caller and layer: nothing for a token holder,
/// the layer's private ones (`LayerSchema.isPrivate`) for an anonymous caller. The canonical
/// fields are decided once, when it is made: tiles ask for them once per feature.
public struct HiddenProperties: Hashable, Sendable {
    private let schema: LayerSchema?
    private let canonicalHidden: Set<String>
    private let canonicalShown: Set<String>

    /// Hides nothing: what token holders get.
    public static let nothing = HiddenProperties(schema: nil)

    private init(schema: LayerSchema?) {
        self.schema = schema
        let names = schema?.fields.map(\.name) ?? []
        canonicalHidden = Set(names.filter { schema?.isPrivate($0) == true })
        canonicalShown = Set(names).subtracting(canonicalHidden)
    }

    /// Hides the layer's private properties.
    public init(privateOf schema: LayerSchema) {
        self.init(schema: schema)
    }

    public var isEmpty: Bool { schema == nil }

    public func contains(_ property: String) -> Bool {
        guard let schema else { return false }
        if canonicalHidden.contains(property) { return true }
        if canonicalShown.contains(property) { return false }
        return schema.isPrivate(property)
    }

    /// The properties without the hidden ones.
    public func filter(_ properties: [String: JSONValue]) -> [String: JSONValue] {
        isEmpty ? properties : properties.filter { !contains($0.key) }
    }
}
