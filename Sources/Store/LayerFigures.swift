import Foundation
import Geometry

/// Figures every backend keeps per layer as it writes.
public enum LayerFigures {
    /// The area of a WGS 84 polygon in Web Mercator, the world being a 1 × 1 square: a tile of
    /// zoom z spans 2⁻ᶻ of it, so this times (4096 · 2ᶻ)² is the area in that tile's units.
    public static func mercatorArea(_ g: Geometry) -> Double {
        g.mapCoordinates { c in
            let lat = min(max(c.y, -85.051_128_78), 85.051_128_78) * .pi / 180
            return Coordinate((c.x + 180) / 360, (1 - log(tan(lat) + 1 / cos(lat)) / .pi) / 2)
        }.planarArea
    }
}
