import ArgumentParser
import Features
import Foundation
import Geometry
import Projection
import Query
import Store

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask what is at a point, find a parcel by its cadastral key, or list features in a box.",
        subcommands: [QueryAt.self, QueryParcel.self, QueryBBox.self])
}

/// `--datetime` shared by the query commands.
struct AsOfOption: ParsableArguments {
    @Option(help: "Answer as the data was at this time (ISO 8601: 2026-01-01 or 2026-01-01T08:00:00Z).")
    var datetime: String?

    func date() throws -> Date? { try datetime.map(parseDate) }
}

struct QueryAt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "at",
        abstract: "The parcel at a point, the zoning over it (share of the parcel in each zone) and the ward.",
        discussion: """
            Give longitude and latitude (WGS 84, as GPS and web maps give them), or --x and --y in \
            another CRS. x is the EASTING and y the NORTHING: cadastral sheets print X = northing and \
            Y = easting, so type the sheet's Y as --x and its X as --y.

            Examples:
              landmap query at 106.7465 10.7345
              landmap query at --x 608950.2 --y 1187320.5 --crs vn2000
              landmap query at 106.7465 10.7345 --json
              landmap query at 106.7009 10.7769 --on 2025-06-30   # the ward of that day: Phường Bến Nghé

            The answer names the ward valid today (or on --on / the --datetime's day) and the ward \
            and district valid on 2025-06-30, before the reform (SPEC §10).
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var asOf: AsOfOption

    @Argument(help: "Longitude (WGS 84).") var lon: Double?
    @Argument(help: "Latitude (WGS 84).") var lat: Double?

    @Option(help: "Easting in --crs (x = easting, y = northing).") var x: Double?
    @Option(help: "Northing in --crs.") var y: Double?
    @Option(help: "The CRS of --x/--y: vn2000 (default), vn2000-utm48, webmercator, EPSG:n …") var crs: String = "vn2000"
    @Option(help: "The day whose administrative unit to name (2025-06-30); default: --datetime's day, else today.") var on: String?

    func validate() throws {
        let lonLat = lon != nil || lat != nil
        let xy = x != nil || y != nil
        guard lonLat != xy else { throw ValidationError("give either LON LAT, or --x X --y Y [--crs C]") }
        if lonLat, lon == nil || lat == nil { throw ValidationError("give both LON and LAT") }
        if xy, x == nil || y == nil { throw ValidationError("give both --x and --y") }
    }

    func run() throws {
        var point = Coordinate(lon ?? 0, lat ?? 0), source = CRS.wgs84
        var given: String?
        if let x, let y {
            source = try CRS.resolve(crs)
            point = Coordinate(x, y)
            given = "x \(x), y \(y) in \(source.identifier)"
        }
        var result = try ParcelLookup(store: options.openStore()).at(point, in: source, asOf: asOf.date())
        if let on {
            guard let day = Reform.day(parsing: on) else { throw CLIError("--on must be a date such as 2025-06-30, not '\(on)'") }
            result.choose(on: day)
        }
        if options.json {
            printJSON(result.json(hiding: { _ in .nothing }))
        } else {
            print(result.humanText(given: given))
        }
    }
}

struct QueryParcel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parcel",
        abstract: "Find a parcel by ward code, sheet number and parcel number (mã ĐVHC, số tờ, số thửa).",
        discussion: """
            Examples:
              landmap query parcel --ward 27484 --sheet 12 --number 5
              landmap query parcel --ward 27484 --sheet 12 --number 5 --datetime 2026-01-01 --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var asOf: AsOfOption
    @Option(help: "Ward code (mã đơn vị hành chính).") var ward: String
    @Option(help: "Map sheet number (số tờ bản đồ).") var sheet: Int
    @Option(help: "Parcel number (số thửa).") var number: Int

    func run() throws {
        let found = try options.openStore().features(layer: "parcels", matching: [
            "ward_code": .string(ward), "sheet": .integer(Int64(sheet)), "number": .integer(Int64(number)),
        ], asOf: asOf.date(), limit: 10, offset: 0)
        if options.json {
            printJSON(.object(["type": "FeatureCollection", "features": .array(found.map { $0.geoJSON() })]))
            return
        }
        guard !found.isEmpty else { throw CLIError("no parcel with ward \(ward), sheet \(sheet), number \(number)") }
        for f in found { print(parcelText(f, areaM2: nil)) }
    }
}

struct QueryBBox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bbox",
        abstract: "Features of a layer that intersect a box.",
        discussion: """
            The box is MINX MINY MAXX MAXY in --crs (default WGS 84 longitude/latitude; x = easting). \
            Answers list at most --limit features; --json gives a GeoJSON FeatureCollection in WGS 84.

            Examples:
              landmap query bbox 106.740 10.730 106.745 10.735 --layer parcels
              landmap query bbox 608000 1186700 609000 1187500 --crs vn2000 --layer zoning --json
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var asOf: AsOfOption
    @Argument(help: "MINX MINY MAXX MAXY") var box: [Double]
    @Option(help: "The layer.") var layer: String
    @Option(help: "The CRS of the box (default wgs84).") var crs: String = "wgs84"
    @Option(help: "At most this many features.") var limit: Int = 1_000

    func validate() throws {
        guard box.count == 4 else { throw ValidationError("give four numbers: MINX MINY MAXX MAXY") }
        guard box[0] <= box[2], box[1] <= box[3] else { throw ValidationError("MINX must not exceed MAXX, nor MINY MAXY") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1…10000") }
    }

    func run() throws {
        let source = try CRS.resolve(crs)
        let query = BoundingBox(minX: box[0], minY: box[1], maxX: box[2], maxY: box[3])
        var request = ItemsRequest(layer: layer)
        request.box = query
        request.boxCRS = source
        request.asOf = try asOf.date()
        request.limit = limit
        let page = try ItemsQuery(store: options.openStore()).page(request)
        let found = page.features
        if options.json {
            printJSON(.object(["type": "FeatureCollection", "features": .array(found.map { $0.geoJSON() })]))
            return
        }
        print("\(page.numberMatched) feature\(page.numberMatched == 1 ? "" : "s") of '\(layer)' in the box" + (found.count < page.numberMatched ? " (first \(found.count) listed; raise --limit)" : ""))
        for f in found {
            let keys = ["ward_code", "sheet", "number", "land_use", "zone_code", "code", "name"].compactMap { k in f.properties[k].map { "\(k)=\($0.displayText)" } }
            print("  \(f.id)  \(keys.joined(separator: "  "))")
        }
    }
}

func parcelText(_ f: Feature, areaM2: Double?) -> String {
    let p = f.properties
    var lines = ["Thửa đất (parcel) \(f.id): tờ (sheet) \(p["sheet"]?.displayText ?? "?"), thửa (number) \(p["number"]?.displayText ?? "?"), mã ĐVHC (ward code) \(p["ward_code"]?.displayText ?? "?")"]
    if let use = p["land_use"]?.stringValue { lines.append("  Loại đất (land use): \(LandUseCodes.describe(use))") }
    let computed = areaM2 ?? p["area_m2"]?.doubleValue
    let declared = p["declared_area_m2"]?.doubleValue
    if computed != nil || declared != nil {
        var s = "  Diện tích (area):"
        if let computed { s += String(format: " %.1f m² tính toán (computed, VN-2000)", computed) }
        if let declared { s += String(format: "%@ %.1f m² pháp lý (declared)", computed == nil ? "" : ";", declared) }
        lines.append(s)
    }
    if let address = p["address"]?.stringValue { lines.append("  Địa chỉ (address): \(address)") }
    return lines.joined(separator: "\n")
}

extension LookupResult {
    func humanText(given: String?) -> String {
        var lines = [String(format: "Điểm (point): %.7f, %.7f (lon/lat)", point.x, point.y) + (given.map { " — \($0)" } ?? "")]
        if let parcel { lines.append(parcelText(parcel, areaM2: parcelAreaM2)) } else { lines.append("Thửa đất (parcel): không có (none at this point)") }
        if zoning.isEmpty {
            lines.append("Quy hoạch (zoning): không có (no zoning data here)")
        } else {
            lines.append("Quy hoạch (zoning):")
            // Zones sharing only a numerical sliver of an edge (< 0.05 %) are folded into a count.
            let shown = zoning.filter { ($0.share ?? 1) >= 0.0005 }
            for z in shown {
                let p = z.zone.properties
                var s = "  \(p["land_use"]?.displayText ?? "?") (\(p["zone_code"]?.displayText ?? z.zone.id))"
                if let share = z.share, let m2 = z.areaM2 { s += String(format: ": %.1f %% of the parcel, %.1f m²", share * 100, m2) }
                var limits = [String]()
                if let v = p["density_max_pct"]?.doubleValue { limits.append(String(format: "mật độ XD (coverage) ≤ %g %%", v)) }
                // 0 in planning data means "not set", not "nothing may be built".
                if let v = p["floors_max"]?.doubleValue, v > 0 { limits.append(String(format: "tầng cao (floors) ≤ %g", v)) }
                if let v = p["height_max_m"]?.doubleValue, v > 0 { limits.append(String(format: "cao (height) ≤ %g m", v)) }
                if let v = p["far_max"]?.doubleValue { limits.append(String(format: "HSSDĐ (FAR) ≤ %g", v)) }
                if !limits.isEmpty { s += "; " + limits.joined(separator: ", ") }
                lines.append(s)
            }
            if shown.count < zoning.count { lines.append("  (+\(zoning.count - shown.count) zone(s) touching only along an edge, < 0.05 %; see --json)") }
        }
        if let admin {
            let dates = admin.validFrom.map { " từ (from) \($0)" } ?? ""
            lines.append("Phường/xã (ward): \(admin.fullName) (\(admin.code), \(admin.level))\(dates)")
        } else {
            lines.append("Phường/xã (ward): không rõ (unknown)")
        }
        if let former = adminBeforeReform {
            let ward = former.ward.map { "\($0.fullName) (\($0.code))" } ?? "không rõ (unknown)"
            let district = former.district.map { "\($0.fullName) (\($0.code))" } ?? "không rõ (unknown)"
            lines.append("Trước 1/7/2025 (before the reform, on \(Reform.lastDayBefore)): \(ward), \(district)")
        }
        return lines.joined(separator: "\n")
    }
}
