import Foundation
import Geometry
import Synchronization

/// SPEC §8's privacy rule, in one place: which properties of a layer only token holders see.
///
/// Private in every layer (parcels, zoning, admin, custom): owners' names and ids under any of
/// the names users give them — `owner`, `owner_id`, `ChuSuDung`, `TenChuSuDung`, `HoTen`,
/// `CCCD`, `CMND`, `SoCCCD`, `SoCMND`, … — in any case, with or without `_`, spaces or
/// Vietnamese diacritics; the canonical fields a schema declares private; and the fields a
/// layer's metadata marks private (`landmap layer set LAYER --private-fields f,…`).
public enum PrivacyRule {
    /// Owner-like names, normalised (see `normalised`), that are private wherever they appear
    /// in a name: `so_cccd`, `cmnd_cccd`, `ten_chu_su_dung`, `owner2`, `land_owner`,
    /// `NguoiSuDung`, `SoGiayTo`, `SoDinhDanh`, `CanCuoc`, `HoChieu`, `CMTND`. Each is long or
    /// odd enough to be found inside no public name.
    static let ownerWords = ["owner", "chusudung", "chusohuu", "cccd", "cmnd", "cmtnd", "nguoisudung", "sogiayto",
                             "sodinhdanh", "cancuoc", "hochieu", "tenchusd"]
    /// Owner-like words too short or common to match inside other words (`hoten` is inside
    /// `photenergy`, `diachichu` inside `diachichuan`): private when they are a whole run of
    /// the name's words (`HoTen1`, `HO_TEN_CHU`, `HoTenVo`, `TenChuSD` (by `chusd`), `ChuSD_1`, `TenCSD`,
    /// `CMT`, `DiaChiChu`), words being split at `_`, spaces, digits and case changes.
    static let ownerRuns: Set<String> = ["hoten", "hovaten", "chusd", "tencsd", "cmt", "diachichu"]
    /// Private only as the whole name, trailing digits aside (`TenChu`, `ten_chu_2`): as a run
    /// `tenchu` would take `ten_chu_de`, a topic's name.
    static let ownerNames: Set<String> = ["tenchu"]
    /// Of the runs, the ones a name may also start with in one lower-case word (`hotenvo`, `hoten1`):
    /// no public Vietnamese or English name begins so (`HOTEN`, `CHUSD2`).
    static let ownerPrefixes = ["hoten", "hovaten", "chusd"]

    /// Verdicts already reached, by name: tiles and items ask for every property of every
    /// feature, and a layer has few distinct names. Bounded, so odd names sent by a client
    /// cannot grow it without end.
    private static let verdicts = Mutex<[String: Bool]>([:])

    /// True when a property of this name is an owner's name or id, in any layer.
    public static func isOwnerLike(_ name: String) -> Bool {
        if let known = verdicts.withLock({ $0[name] }) { return known }
        let verdict = judge(name)
        verdicts.withLock { if $0.count < 10_000 { $0[name] = verdict } }
        return verdict
    }

    /// `isOwnerLike` worked out from the name's words.
    static func judge(_ name: String) -> Bool {
        let words = self.words(name)
        let n = words.joined()
        if ownerWords.contains(where: { n.contains($0) }) || ownerPrefixes.contains(where: { n.hasPrefix($0) }) { return true }
        if ownerNames.contains(String(n.reversed().drop { $0.isNumber }.reversed())) { return true }
        // Every run of whole words, joined, against the short names.
        for i in words.indices {
            var run = ""
            for word in words[i...] {
                run += word
                if run.count > 11 { break }
                if ownerRuns.contains(run) { return true }
            }
        }
        return false
    }

    /// Lower-case ASCII letters and digits only: case, `_`, `-`, spaces and Vietnamese
    /// diacritics (đ as d) set aside, so `Họ_Tên`, `HO TEN` and `hoten` are one name; Cyrillic
    /// and Greek letters that look Latin (`Оwner` with a Cyrillic О) read as those letters.
    public static func normalised(_ name: String) -> String {
        words(name).joined()
    }

    /// The name's words, lower-case ASCII: split at anything not a letter or digit, between
    /// letters and digits, before an upper-case letter that follows a lower-case one, and
    /// before the last of a run of capitals followed by a lower-case letter (`TenCSDVo` →
    /// ten, csd, vo). Letters are folded first as `normalised` says; combining marks and
    /// invisible format characters are dropped without splitting.
    static func words(_ name: String) -> [String] {
        // (letter or digit, is upper-case) per folded character; nil splits.
        var chars = [(Character, Bool)?]()
        for scalar in name.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .format: continue
            default: break
            }
            let v = scalar.value
            if scalar.isASCII {
                if (0x30...0x39).contains(v) || (0x61...0x7A).contains(v) { chars.append((Character(scalar), false)) }
                else if (0x41...0x5A).contains(v) { chars.append((Character(scalar).lowercased().first ?? "a", true)) }
                else { chars.append(nil) }
                continue
            }
            let upper = scalar.properties.isUppercase
            let lower = String(scalar).lowercased()
            if lower == "đ" { chars.append(("d", upper)); continue }
            if let latin = confusables[lower] { chars.append((latin, upper)); continue }
            // ệ → e, Ư → u: a precomposed letter folds to its ASCII base.
            let folded = lower.folding(options: [.diacriticInsensitive], locale: nil)
            let ascii = folded.unicodeScalars.filter { $0.isASCII && (("a"..."z").contains($0) || ("0"..."9").contains($0)) }
            if ascii.isEmpty { chars.append(nil); continue }
            for s in ascii { chars.append((Character(s), upper)) }
        }
        var words = [String](), word = ""
        for (i, c) in chars.enumerated() {
            guard case let (ch, up)? = c else {
                if !word.isEmpty { words.append(word); word = "" }
                continue
            }
            if let last = word.last, i > 0, case let (_, prevUp)? = chars[i - 1] {
                let digitChange = last.isNumber != ch.isNumber
                let camel = up && !prevUp && !last.isNumber
                let nextLower = i + 1 < chars.count && chars[i + 1].map { !$0.1 && !$0.0.isNumber } == true
                let acronymEnd = up && prevUp && nextLower
                if digitChange || camel || acronymEnd { words.append(word); word = "" }
            }
            word.append(ch)
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    /// Lower-case Cyrillic and Greek letters that look like Latin ones, as those: so a name
    /// cannot hide from the rule by spelling `owner` with a Cyrillic `о`.
    static let confusables: [String: Character] = [
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
        "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ո": "n",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "m", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ζ": "z", "ω": "w",
    ]
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
    /// Kept apart from `schema`: comparing that to nil copied the whole schema, for every feature written.
    public let isEmpty: Bool

    /// Hides nothing: what token holders get.
    public static let nothing = HiddenProperties(schema: nil)

    private init(schema: LayerSchema?) {
        self.schema = schema
        isEmpty = schema == nil
        let names = schema?.fields.map(\.name) ?? []
        canonicalHidden = Set(names.filter { schema?.isPrivate($0) == true })
        canonicalShown = Set(names).subtracting(canonicalHidden)
    }

    /// Hides the layer's private properties.
    public init(privateOf schema: LayerSchema) {
        self.init(schema: schema)
    }

    public func contains(_ property: String) -> Bool {
        guard let schema else { return false }
        if canonicalHidden.contains(property) { return true }
        if canonicalShown.contains(property) { return false }
        return schema.isPrivate(property)
    }

    /// The properties without the hidden ones, at any depth: a value that is an object, or an
    /// array holding objects, loses its hidden members too (`{"ghi_chu": {"owner": …}}`).
    /// Flat values are not looked into.
    public func filter(_ properties: [String: JSONValue]) -> [String: JSONValue] {
        if isEmpty { return properties }
        var out = [String: JSONValue](minimumCapacity: properties.count)
        for (key, value) in properties where !contains(key) { out[key] = scrubbed(value) }
        return out
    }

    /// A property's value without the hidden members of the objects inside it; the value
    /// itself when it is flat or nothing is hidden.
    public func scrubbed(_ value: JSONValue) -> JSONValue {
        if isEmpty { return value }
        switch value {
        case .object(let members): return .object(filter(members))
        case .array(let items): return .array(items.map(scrubbed))
        default: return value
        }
    }
}
