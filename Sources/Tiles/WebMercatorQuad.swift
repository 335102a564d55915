import Foundation
import Geometry
import Store

/// OGC 2D Tile Matrix Set 2.0's WebMercatorQuad: the `TileID` pyramid under the names OGC API –
/// Tiles gives it (tile matrix = z, tile row = y, tile column = x), one tile matrix per zoom the
/// renderer draws (0…`TileID.maxZoom`). The numbers are computed, not copied: OGC's register
/// prints them to 15 digits (`OGCTileMatrixSetTests` compares both).
public enum WebMercatorQuad {
    public static let id = "WebMercatorQuad"
    public static let uri = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    public static let crs = "http://www.opengis.net/def/crs/EPSG/0/3857"
    public static let wellKnownScaleSet = "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible"
    public static let title = "Google Maps Compatible for the World"
    public static let tileSize = 256
    /// The rendering pixel the Tile Matrix Set standard sizes scales by: 0.28 mm.
    public static let standardPixel = 0.00028
    public static let zooms = 0...TileID.maxZoom

    /// Metres (EPSG:3857) per pixel at zoom `z`: the world's width over its pixels.
    public static func cellSize(_ z: Int) -> Double {
        2 * WebMercator.originShift / Double(tileSize) / Double(1 << z)
    }

    /// The scale of zoom `z` drawn with standard pixels.
    public static func scaleDenominator(_ z: Int) -> Double {
        cellSize(z) / standardPixel
    }

    /// The zoom a tile matrix id names: "0" … "22" exactly (not "07" or "+7"), else nil.
    public static func zoom(_ id: String) -> Int? {
        guard let z = Int(id), zooms.contains(z), String(z) == id else { return nil }
        return z
    }

    /// The definition in the standard's JSON encoding (`tileMatrixSet.json`).
    public static var definition: JSONValue {
        let origin = JSONValue.array([.number(-WebMercator.originShift), .number(WebMercator.originShift)])
        return .object([
            "id": .string(id),
            "title": .string(title),
            "uri": .string(uri),
            "crs": .string(crs),
            "orderedAxes": ["X", "Y"],
            "wellKnownScaleSet": .string(wellKnownScaleSet),
            "tileMatrices": .array(zooms.map { z in
                .object([
                    "id": .string(String(z)),
                    "scaleDenominator": .number(scaleDenominator(z)),
                    "cellSize": .number(cellSize(z)),
                    "cornerOfOrigin": "topLeft",
                    "pointOfOrigin": origin,
                    "tileWidth": .integer(Int64(tileSize)),
                    "tileHeight": .integer(Int64(tileSize)),
                    "matrixWidth": .integer(Int64(1) << z),
                    "matrixHeight": .integer(Int64(1) << z),
                ])
            }),
        ])
    }
}

/// Where a tileset has data, as OGC API – Tiles' `tileMatrixSetLimits` says: at each zoom, the
/// tiles that the extents of the layers drawn at that zoom touch. A polygon layer counts from its
/// first zoom (`TileRenderer.firstZoom`, TileJSON's `minzoom`): below it its tiles are empty. An
/// empty layer counts nowhere; a tileset of empty layers has no limits at all.
public struct TileCoverage: Sendable, Hashable {
    /// One layer's lon/lat extent and the zoom it is first drawn at.
    public struct Extent: Sendable, Hashable {
        public var box: BoundingBox
        public var firstZoom: Int

        public init(box: BoundingBox, firstZoom: Int) {
            self.box = box
            self.firstZoom = firstZoom
        }

        /// The layer's, or nil while it has no feature.
        public init?(_ info: LayerInfo) {
            guard let box = info.extent else { return nil }
            self.init(box: box, firstZoom: TileRenderer.firstZoom(info))
        }
    }

    public var extents: [Extent]

    public init(_ extents: [Extent]) {
        self.extents = extents
    }

    /// False when no layer holds a feature: then every tile is in range (and empty).
    public var isLimited: Bool { !extents.isEmpty }

    /// The columns and rows of zoom `z` with data, as one rectangle around every drawn layer's;
    /// nil when no layer is drawn at `z`.
    public func limits(zoom z: Int) -> (columns: ClosedRange<Int>, rows: ClosedRange<Int>)? {
        var columns: ClosedRange<Int>?
        var rows: ClosedRange<Int>?
        for e in extents where e.firstZoom <= z {
            guard let r = TileID.range(covering: e.box, zoom: z) else { continue }
            columns = columns.map { min($0.lowerBound, r.columns.lowerBound)...max($0.upperBound, r.columns.upperBound) } ?? r.columns
            rows = rows.map { min($0.lowerBound, r.rows.lowerBound)...max($0.upperBound, r.rows.upperBound) } ?? r.rows
        }
        guard let columns, let rows else { return nil }
        return (columns, rows)
    }

    /// Whether a tile is inside the limits (always, when there are none).
    public func contains(_ tile: TileID) -> Bool {
        guard isLimited else { return true }
        guard let l = limits(zoom: tile.z) else { return false }
        return l.columns.contains(tile.x) && l.rows.contains(tile.y)
    }

    /// The zooms with data, lowest first.
    public var zooms: [Int] {
        WebMercatorQuad.zooms.filter { z in extents.contains { $0.firstZoom <= z } }
    }
}
