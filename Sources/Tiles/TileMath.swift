import Foundation
import Geometry

/// A tile of the Web Mercator (XYZ, "slippy map") pyramid.
public struct TileID: Hashable, Sendable, CustomStringConvertible {
    public let z: Int
    public let x: Int
    public let y: Int

    public static let maxZoom = 22

    /// nil when z is outside 0…22 or x/y outside the zoom's grid.
    public init?(z: Int, x: Int, y: Int) {
        guard (0...Self.maxZoom).contains(z) else { return nil }
        let n = 1 << z
        guard (0..<n).contains(x), (0..<n).contains(y) else { return nil }
        self.z = z
        self.x = x
        self.y = y
    }

    public var description: String { "\(z)/\(x)/\(y)" }

    /// The tile containing a longitude/latitude (latitudes beyond ±85.0511° clamp to the edge).
    public static func containing(_ c: Coordinate, zoom: Int) -> TileID? {
        let n = Double(1 << zoom)
        let sinLat = sin(c.y * .pi / 180)
        let fx = c.x / 360 + 0.5
        let fy = 0.5 - 0.25 * log((1 + sinLat) / (1 - sinLat)) / .pi
        func cell(_ f: Double) -> Int {
            guard f.isFinite else { return f < 0 ? 0 : Int(n) - 1 }
            return min(max(Int((f * n).rounded(.down)), 0), Int(n) - 1)
        }
        return TileID(z: zoom, x: cell(fx), y: cell(fy))
    }

    /// The tile's bounds in EPSG:3857 metres.
    public var mercatorBounds: BoundingBox {
        let size = 2 * WebMercator.originShift / Double(1 << z)
        let minX = Double(x) * size - WebMercator.originShift
        let maxY = WebMercator.originShift - Double(y) * size
        return BoundingBox(minX: minX, minY: maxY - size, maxX: minX + size, maxY: maxY)
    }

    /// The tile's bounds in longitude/latitude.
    public var lonLatBounds: BoundingBox {
        let n = Double(1 << z)
        func lat(_ row: Double) -> Double { atan(sinh(.pi * (1 - 2 * row / n))) * 180 / .pi }
        return BoundingBox(minX: Double(x) / n * 360 - 180, minY: lat(Double(y + 1)),
                           maxX: Double(x + 1) / n * 360 - 180, maxY: lat(Double(y)))
    }

    public var quadkey: String {
        var s = ""
        for i in stride(from: z, to: 0, by: -1) {
            let mask = 1 << (i - 1)
            s.append(Character(String((x & mask != 0 ? 1 : 0) + (y & mask != 0 ? 2 : 0))))
        }
        return s
    }

    /// Every tile of a zoom that a longitude/latitude box touches.
    public static func covering(_ box: BoundingBox, zoom: Int) -> [TileID] {
        guard let range = range(covering: box, zoom: zoom) else { return [] }
        var out = [TileID]()
        for x in range.columns {
            for y in range.rows { if let t = TileID(z: zoom, x: x, y: y) { out.append(t) } }
        }
        return out
    }

    /// The columns (x) and rows (y) of the tiles `covering` lists, without listing them: at z22
    /// a district is millions of tiles. nil when the zoom is out of range.
    public static func range(covering box: BoundingBox, zoom: Int) -> (columns: ClosedRange<Int>, rows: ClosedRange<Int>)? {
        let epsilon = 1e-11
        let north = min(box.maxY, WebMercator.maxLatitude), south = max(box.minY, -WebMercator.maxLatitude)
        guard let ul = containing(Coordinate(box.minX, north), zoom: zoom),
              let lr = containing(Coordinate(box.maxX - epsilon, south + epsilon), zoom: zoom) else { return nil }
        return (ul.x...max(ul.x, lr.x), ul.y...max(ul.y, lr.y))
    }
}

/// Spherical Web Mercator (EPSG:3857), computed directly: tiles need it for every vertex.
public enum WebMercator {
    public static let radius = 6_378_137.0
    public static let originShift = 20_037_508.342789244
    public static let maxLatitude = 85.0511287798066

    public static func metres(_ c: Coordinate) -> Coordinate {
        let lat = min(max(c.y, -maxLatitude), maxLatitude)
        return Coordinate(radius * c.x * .pi / 180, radius * log(tan(.pi / 4 + lat * .pi / 360)))
    }

    public static func lonLat(_ m: Coordinate) -> Coordinate {
        Coordinate(m.x / radius * 180 / .pi, (2 * atan(exp(m.y / radius)) - .pi / 2) * 180 / .pi)
    }
}
