import Features
import Foundation
import Geometry

/// The 1 July 2025 reform of Ho Chi Minh City's administrative units (SPEC §10): the day the
/// old units were last valid, and calendar days as the admin layer writes them.
public enum Reform {
    /// The last day of the 273 wards/communes and 22 districts (and the first of the 168 units
    /// is the day after).
    public static let lastDayBefore = "2025-06-30"

    /// The calendar day (`yyyy-MM-dd`) of an instant in Vietnam (UTC+7, no daylight saving):
    /// units change at local midnight.
    public static func day(of date: Date) -> String {
        // Vietnam keeps UTC+7 all year. Arithmetic, not `Calendar`: every lookup asks (4 % of
        // one over HTTP went to the calendar and `String(format:)`).
        let days = Int(((date.timeIntervalSince1970 + 7 * 3600) / 86_400).rounded(.down))
        // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func digits(_ n: Int, _ width: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(digits(y, 4))-\(digits(m, 2))-\(digits(d, 2))"
    }

    /// A date given as `yyyy-MM-dd` (or a date-time, whose day in Vietnam counts); nil if it is
    /// neither.
    public static func day(parsing text: String) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let parts = t.split(separator: "-", omittingEmptySubsequences: false)
        if t.utf8.count == 10, parts.count == 3, parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
           let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), parts[0].count == 4, (1...12).contains(m) {
            let days = [31, y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            return (1...days[m - 1]).contains(d) ? t : nil
        }
        let f = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            f.formatOptions = options
            if let d = f.date(from: t) { return day(of: d) }
        }
        return nil
    }
}

/// An administrative unit as a lookup names it: code and name, and the days it was valid
/// (a code is read with a date: the reform gave old codes new meanings).
public struct AdminUnit: Hashable, Sendable {
    public var code: String
    public var name: String
    /// `ward`, `commune`, `special_zone`, `district`, `province`.
    public var level: String
    /// The feature's id in the `admin` layer (old units: `CODE-until-2025-06-30`).
    public var id: String = ""
    /// First and last day valid (`yyyy-MM-dd`); nil = not known to begin / not ended.
    public var validFrom: String?
    public var validTo: String?
    public var parentCode: String?

    public init(code: String, name: String, level: String, id: String = "", validFrom: String? = nil, validTo: String? = nil,
                parentCode: String? = nil) {
        self.code = code
        self.name = name
        self.level = level
        self.id = id
        self.validFrom = validFrom
        self.validTo = validTo
        self.parentCode = parentCode
    }

    /// The unit an `admin` feature describes.
    public init(_ feature: Feature) {
        let p = feature.properties
        self.init(code: p["code"]?.stringValue ?? feature.id, name: p["name"]?.stringValue ?? "", level: p["level"]?.stringValue ?? "",
                  id: feature.id, validFrom: Self.day(p["valid_from"]), validTo: Self.day(p["valid_to"]),
                  parentCode: p["parent_code"]?.stringValue)
    }

    /// A stored date as `yyyy-MM-dd`, whether it came back as text, `yyyy/MM/dd` (GDAL's date
    /// fields) or a date-time.
    static func day(_ value: JSONValue?) -> String? {
        guard let s = value?.stringValue, s.count >= 10 else { return nil }
        return Reform.day(parsing: String(s.prefix(10)).replacingOccurrences(of: "/", with: "-"))
    }

    /// Valid on the day (`yyyy-MM-dd`; such strings order as the days do).
    public func isValid(on day: String) -> Bool {
        (validFrom.map { $0 <= day } ?? true) && (validTo.map { day <= $0 } ?? true)
    }

    public var isDistrict: Bool { level == "district" }

    /// The name with its kind, for people: "Phường Sài Gòn" (the 2025 units' names have none).
    public var fullName: String {
        let prefixes = ["Phường", "Xã", "Thị trấn", "Đặc khu", "Quận", "Huyện", "Thành phố"]
        if prefixes.contains(where: { name.hasPrefix($0) }) { return name }
        switch level {
        case "ward": return "Phường \(name)"
        case "commune": return "Xã \(name)"
        case "special_zone": return "Đặc khu \(name)"
        default: return name
        }
    }

    /// The shape of the HTTP answers.
    public func json() -> [String: JSONValue] {
        var o: [String: JSONValue] = ["code": .string(code), "name": .string(name), "level": .string(level), "full_name": .string(fullName)]
        if !id.isEmpty { o["id"] = .string(id) }
        o["valid_from"] = validFrom.map { .string($0) } ?? .null
        o["valid_to"] = validTo.map { .string($0) } ?? .null
        return o
    }
}

/// The ward and district valid on 2025-06-30 at a point: what certificates issued before the
/// reform name.
public struct FormerAdmin: Hashable, Sendable {
    public var ward: AdminUnit?
    public var district: AdminUnit?
}

extension [AdminUnit] {
    /// The smallest unit valid on the day: a ward, commune or special zone before a district,
    /// then the smallest id, so the answer never varies. Undated units are always valid.
    public func unit(on day: String) -> AdminUnit? {
        filter { $0.isValid(on: day) }.min { a, b in a.isDistrict != b.isDistrict ? !a.isDistrict : a.id < b.id }
    }

    /// The units valid on 2025-06-30 that say so (a `valid_to`): undated units are no evidence
    /// of what stood before the reform.
    public var beforeReform: FormerAdmin? {
        let old = filter { $0.validTo != nil && $0.isValid(on: Reform.lastDayBefore) }.sorted { $0.id < $1.id }
        let former = FormerAdmin(ward: old.first { !$0.isDistrict }, district: old.first { $0.isDistrict })
        return former.ward == nil && former.district == nil ? nil : former
    }
}
