import Foundation
import Geometry

/// The VN-2000 TM-3 zone each province draws its cadastral maps in, and where a point lies
/// among the provinces (the 63 of before 2025, whose sheets are what files hold).
///
/// Zones: `vn2000_tm3_province_cm.csv` of `../shared/data/vn2000-reference` (from the HCMGIS
/// QGIS plugin, MIT). Where a point lies is approximate: the province of the nearest reference
/// point, each province's capital plus a few points in large or border districts. It only
/// chooses which zone a warning names, never where data goes.
public enum CadastralZones {
    public struct Province: Sendable {
        public let name: String
        /// The TM-3 central meridian in degrees, and its EPSG code.
        public let meridian: Double
        public let epsg: Int
        let points: [Coordinate]
    }

    /// The province a WGS 84 point lies in, or nil outside Vietnam onshore (with 0.3° around).
    public static func province(at p: Coordinate) -> Province? {
        guard p.x >= 101.84, p.x <= 109.83, p.y >= 8.03, p.y <= 23.7 else { return nil }
        var best: Province?
        var bestDistance = Double.infinity
        for province in provinces {
            for q in province.points {
                let dx = (q.x - p.x) * cos(p.y * .pi / 180), dy = q.y - p.y
                let d = dx * dx + dy * dy
                if d < bestDistance { (best, bestDistance) = (province, d) }
            }
        }
        return best
    }

    /// `105°45′` for 105.75.
    public static func meridianText(_ degrees: Double) -> String {
        let whole = Int(degrees)
        let minutes = Int(((degrees - Double(whole)) * 60).rounded())
        return "\(whole)°\(minutes < 10 ? "0" : "")\(minutes)′"
    }

    static func p(_ name: String, _ meridian: Double, _ epsg: Int, _ points: [(Double, Double)]) -> Province {
        Province(name: name, meridian: meridian, epsg: epsg, points: points.map { Coordinate($0.0, $0.1) })
    }

    public static let provinces: [Province] = [
        p("Lai Châu", 103.0, 9205, [(103.46, 22.40)]),
        p("Điện Biên", 103.0, 9205, [(103.02, 21.39)]),
        p("Sơn La", 104.0, 9206, [(103.91, 21.33)]),
        p("Kiên Giang", 104.5, 9207, [(105.08, 10.01), (104.05, 10.22)]),
        p("Cà Mau", 104.5, 9207, [(105.15, 9.18)]),
        p("Lào Cai", 104.75, 9208, [(103.97, 22.49)]),
        p("Yên Bái", 104.75, 9208, [(104.87, 21.72)]),
        p("Nghệ An", 104.75, 9208, [(105.68, 18.67), (104.80, 19.25)]),
        p("Phú Thọ", 104.75, 9208, [(105.40, 21.32)]),
        p("An Giang", 104.75, 9208, [(105.43, 10.38), (105.12, 10.70)]),
        p("Thanh Hoá", 105.0, 5897, [(105.78, 19.80), (105.30, 20.10)]),
        p("Vĩnh Phúc", 105.0, 5897, [(105.60, 21.31)]),
        p("Đồng Tháp", 105.0, 5897, [(105.63, 10.46)]),
        p("Cần Thơ", 105.0, 5897, [(105.77, 10.03)]),
        p("Hậu Giang", 105.0, 5897, [(105.47, 9.78)]),
        p("Bạc Liêu", 105.0, 5897, [(105.72, 9.29)]),
        p("Hà Nội", 105.0, 5897, [(105.85, 21.03), (105.50, 21.14), (105.72, 20.72), (105.85, 21.26)]),
        p("Ninh Bình", 105.0, 5897, [(105.97, 20.25)]),
        p("Hà Nam", 105.0, 5897, [(105.92, 20.54)]),
        p("Hà Giang", 105.5, 9209, [(104.98, 22.82)]),
        p("Hải Dương", 105.5, 9209, [(106.33, 20.94)]),
        p("Hà Tĩnh", 105.5, 9209, [(105.90, 18.34)]),
        p("Bắc Ninh", 105.5, 9209, [(106.07, 21.19)]),
        p("Hưng Yên", 105.5, 9209, [(106.05, 20.65)]),
        p("Thái Bình", 105.5, 9209, [(106.34, 20.45)]),
        p("Nam Định", 105.5, 9209, [(106.17, 20.42)]),
        p("Tây Ninh", 105.5, 9209, [(106.10, 11.31)]),
        p("Vĩnh Long", 105.5, 9209, [(105.97, 10.25)]),
        p("Sóc Trăng", 105.5, 9209, [(105.97, 9.60)]),
        p("Trà Vinh", 105.5, 9209, [(106.34, 9.93)]),
        p("Cao Bằng", 105.75, 9210, [(106.26, 22.67)]),
        p("Long An", 105.75, 9210, [(106.41, 10.54), (106.05, 10.80)]),
        p("Tiền Giang", 105.75, 9210, [(106.36, 10.36)]),
        p("Bến Tre", 105.75, 9210, [(106.38, 10.24)]),
        p("Hải Phòng", 105.75, 9210, [(106.68, 20.86)]),
        p("TP.HCM", 105.75, 9210, [(106.70, 10.78), (106.77, 10.84), (106.88, 10.45), (106.49, 11.00), (106.60, 10.68)]),
        p("Bình Dương", 105.75, 9210, [(106.65, 10.98), (106.60, 11.25)]),
        p("Tuyên Quang", 106.0, 9211, [(105.22, 21.82)]),
        p("Hoà Bình", 106.0, 9211, [(105.34, 20.82)]),
        p("Quảng Bình", 106.0, 9211, [(106.62, 17.47)]),
        p("Quảng Trị", 106.25, 9212, [(107.10, 16.82)]),
        p("Bình Phước", 106.25, 9212, [(106.90, 11.54)]),
        p("Bắc Kạn", 106.5, 9213, [(105.83, 22.15)]),
        p("Thái Nguyên", 106.5, 9213, [(105.84, 21.59)]),
        p("Bắc Giang", 107.0, 9214, [(106.19, 21.27)]),
        p("Thừa Thiên - Huế", 107.0, 9214, [(107.59, 16.46)]),
        p("Lạng Sơn", 107.25, 9215, [(106.76, 21.85)]),
        p("Kon Tum", 107.5, 9216, [(108.00, 14.35)]),
        p("Quảng Ninh", 107.75, 5899, [(107.08, 20.95)]),
        p("Đồng Nai", 107.75, 5899, [(106.82, 10.95), (107.24, 10.93), (106.92, 10.72)]),
        p("Bà Rịa - Vũng Tàu", 107.75, 5899, [(107.17, 10.50), (107.08, 10.35), (106.61, 8.69)]),
        p("Quảng Nam", 107.75, 5899, [(108.47, 15.57)]),
        p("Lâm Đồng", 107.75, 5899, [(108.44, 11.94)]),
        p("Đà Nẵng", 107.75, 5899, [(108.21, 16.05)]),
        p("Quảng Ngãi", 108.0, 5898, [(108.80, 15.12)]),
        p("Ninh Thuận", 108.25, 9217, [(108.99, 11.56)]),
        p("Khánh Hoà", 108.25, 9217, [(109.19, 12.24)]),
        p("Bình Định", 108.25, 9217, [(109.22, 13.78)]),
        p("Đắk Lắk", 108.5, 9218, [(108.04, 12.67)]),
        p("Đắk Nông", 108.5, 9218, [(107.69, 12.00)]),
        p("Phú Yên", 108.5, 9218, [(109.30, 13.09)]),
        p("Gia Lai", 108.5, 9218, [(108.00, 13.98)]),
        p("Bình Thuận", 108.5, 9218, [(108.10, 10.93)]),
    ]
}
