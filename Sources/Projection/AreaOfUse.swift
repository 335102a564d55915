import CPROJ
import Geometry

/// Where a CRS is meant to be used, from PROJ's database: a WGS 84 longitude/latitude box and
/// its name ("Vietnam - 105°15'E to 107°50'E by province - HCMC").
public struct AreaOfUse: Hashable, Sendable {
    public let box: BoundingBox
    public let name: String
}

extension CRS {
    /// PROJ's area of use of the CRS; nil when PROJ has none (a bare WKT) or it crosses 180°.
    public func areaOfUse() throws -> AreaOfUse? {
        let context = try ProjContext()
        return context.areaOfUse(try context.object(definition))
    }
}

extension ProjContext {
    func areaOfUse(_ object: ProjObject) -> AreaOfUse? {
        var w = 0.0, s = 0.0, e = 0.0, n = 0.0
        var name: UnsafePointer<CChar>?
        guard proj_get_area_of_use(handle, object.pointer, &w, &s, &e, &n, &name) != 0,
              w > -1000, s > -1000, w <= e, s <= n else { return nil }
        return AreaOfUse(box: BoundingBox(minX: w, minY: s, maxX: e, maxY: n), name: name.map { String(cString: $0) } ?? "")
    }
}

/// Coordinates checked against the area of use of the CRS they are said to be in (SPEC §5): a
/// lon/lat file imported as VN-2000 lands near 101°E on the equator, and nothing else notices.
/// When coordinates fall outside, one of the usual CRSs may fit them, and is named.
///
/// Owns PROJ transformers, so it is not `Sendable`: one per import or editor.
public final class AreaOfUseCheck {
    /// Degrees allowed around the area: TM-3 zones are used a little past their provinces
    /// (Côn Đảo, 8.7°N, in HCMC's EPSG:9210), while a wrong CRS puts data hundreds of km off.
    public static let margin = 1.5
    /// Vietnam onshore (EPSG:4756's area), where a usual CRS must put coordinates to fit them.
    static let vietnam = BoundingBox(minX: 102.14, minY: 8.33, maxX: 109.53, maxY: 23.4)

    /// The usual CRSs, in the order they are tried, with what to pass to choose each.
    static let usual: [(epsg: Int, option: String)] =
        [(4326, "wgs84"), (9210, "vn2000"), (3405, "vn2000-utm48"), (3406, "EPSG:3406")]
        + CRS.vn2000TM3.sorted { $0.key < $1.key }.map { ($0.value, "EPSG:\($0.value)") }.filter { $0.epsg != 9210 }
        + [(3857, "webmercator")]

    public let crs: CRS
    public let area: AreaOfUse?
    /// The area widened by `margin`: what `problem` lets through.
    private let allowed: BoundingBox?
    private let toWGS84: Transformer
    private var candidates: [(crs: CRS, option: String, area: BoundingBox, toWGS84: Transformer)]?
    private var lastFit: Int?

    public init(crs: CRS) throws {
        self.crs = crs
        area = try crs.areaOfUse()
        allowed = area.map { BoundingBox(minX: $0.box.minX - Self.margin, minY: $0.box.minY - Self.margin,
                                         maxX: $0.box.maxX + Self.margin, maxY: $0.box.maxY + Self.margin) }
        toWGS84 = try Transformer(from: crs, to: .wgs84)
    }

    /// Why coordinates spanning `box` (in the CRS's own x/y, easting or longitude first) cannot
    /// be in the CRS, or nil when they can. Checks the box's corners: cheap, before GEOS.
    public func problem(_ box: BoundingBox) -> String? {
        guard let area, let allowed else { return nil }
        let corners = Self.lonLat(box, toWGS84)
        guard let outside = corners.first(where: { !$0.x.isFinite || !$0.y.isFinite || !allowed.contains($0) }) ?? (corners.isEmpty ? Coordinate(.nan, .nan) : nil)
        else { return nil }
        let landed = outside.x.isFinite && outside.y.isFinite ? String(format: " land at %.4f°E, %.4f°N,", outside.x, outside.y) : " cannot be placed,"
        let range = String(format: "%.2f…%.2f°E, %.2f…%.2f°N", area.box.minX, area.box.maxX, area.box.minY, area.box.maxY)
        let name = area.name.hasSuffix(".") ? String(area.name.dropLast()) : area.name
        var message = "coordinates \(Self.number(box.minX)), \(Self.number(box.minY)) read in \(crs.description)\(landed) outside its area of use (\(name): \(range)): wrong CRS?"
        message += suggestion(box)
        return message
    }

    /// " these look like …: try --crs …", when one of the usual CRSs puts the box in Vietnam.
    public func suggestion(_ box: BoundingBox) -> String {
        guard let fit = fitting(box) else { return " none of the usual CRSs (wgs84, vn2000, vn2000-utm48, the VN-2000 TM-3 zones, webmercator) places them in Vietnam: pass the right one with --crs" }
        let c = candidates?[fit]
        let what = c.map { $0.crs.epsg == 4326 ? "WGS 84 longitude/latitude" : $0.crs.description } ?? ""
        return " these look like \(what): try --crs \(c?.option ?? "")"
    }

    /// Index of the first usual CRS (not this one) that puts every corner inside both its own
    /// area of use and Vietnam; the last answer is tried first, as a file's features agree.
    private func fitting(_ box: BoundingBox) -> Int? {
        if candidates == nil {
            candidates = Self.usual.compactMap { entry in
                guard entry.epsg != crs.epsg, let c = try? CRS.resolve(epsg: entry.epsg), let area = try? c.areaOfUse(),
                      let t = try? Transformer(from: c, to: .wgs84) else { return nil }
                return (c, entry.option, area.box, t)
            }
        }
        guard let candidates else { return nil }
        func fits(_ i: Int) -> Bool {
            let c = candidates[i]
            let corners = Self.lonLat(box, c.toWGS84)
            return !corners.isEmpty && corners.allSatisfy { $0.x.isFinite && $0.y.isFinite && c.area.contains($0) && Self.vietnam.contains($0) }
        }
        if let lastFit, fits(lastFit) { return lastFit }
        lastFit = candidates.indices.first(where: fits)
        return lastFit
    }

    static func number(_ v: Double) -> String { WKT.number((v * 1e6).rounded() / 1e6) }

    /// The box's four corners in WGS 84 (empty when PROJ cannot transform them).
    static func lonLat(_ box: BoundingBox, _ t: Transformer) -> [Coordinate] {
        var corners = [Coordinate(box.minX, box.minY), Coordinate(box.maxX, box.minY), Coordinate(box.maxX, box.maxY), Coordinate(box.minX, box.maxY)]
        do { try t.transform(&corners) } catch { return [] }
        return corners
    }
}
