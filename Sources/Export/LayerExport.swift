import Features
import Formats
import Foundation
import Geometry
import Projection
import Store

/// Writes one layer out as a file: what `landmap export` and `GET /downloads/{layer}.{format}`
/// both call, so the two cannot drift. Streams: the layer is never held in memory. The same
/// store, layer, data version, format, CRS and hidden fields give the same bytes (a GeoPackage's
/// `last_change` is the layer's last change, not the time of writing).
public enum LayerExport {
    public enum Format: String, CaseIterable, Sendable {
        case geojson, csv, gpkg, shp

        /// The media type a download is answered with.
        public var mediaType: String {
            switch self {
            case .geojson: "application/geo+json"
            case .csv: "text/csv; charset=utf-8"
            case .gpkg: "application/geopackage+sqlite3"
            case .shp: "application/x-esri-shape"
            }
        }
    }

    /// What was written.
    public struct Summary: Sendable {
        public var count: Int
        /// The layer's last change (nil for a layer never written): a download's `Last-Modified`.
        public var lastChange: Date?
    }

    /// Writes `layer` to `path` (standard output when nil, for GeoJSON and CSV), leaving out
    /// the `hidden` properties (`LayerAccess.hidden`: owners' names and ids for anyone the
    /// layer is not granted to), in `crs` (default WGS 84), as it is now or as of `asOf`.
    public static func write(store: any FeatureStore, layer: String, format: Format, to path: String?,
                             hidden: HiddenProperties, crs: CRS = .wgs84, asOf: Date? = nil) throws -> Summary {
        guard let info = try store.layer(layer) else { throw StoreError.unknownLayer(layer) }
        let transformer = crs == .wgs84 ? nil : try Transformer(from: .wgs84, to: crs)
        let fields = info.schema.fields.filter { !hidden.contains($0.name) }
        // The date a GeoPackage records as its contents' last change: the data's, so two
        // exports of one version are the same bytes.
        let changed = asOf.map { a in info.lastChange.map { min($0, a) } ?? a } ?? info.lastChange
        let writer: any FeatureWriter
        switch format {
        case .geojson:
            writer = try GeoJSONFeatureWriter(path: path, crsURN: crs.epsg.flatMap { $0 == 4326 ? nil : "urn:ogc:def:crs:EPSG::\($0)" })
        case .csv:
            writer = try CSVFeatureWriter(path: path, columns: fields.map(\.name))
        case .gpkg, .shp:
            guard let path else { throw ExportError("--format \(format.rawValue) needs --out FILE") }
            writer = try OGRFeatureWriter(path: path, driver: format == .gpkg ? "GPKG" : "ESRI Shapefile", layerName: layer,
                                          crsWKT: try crs.wkt(), fields: fields, currentDate: changed ?? Date(timeIntervalSince1970: 0))
        }
        var count = 0
        try store.forEachFeature(layer: layer, asOf: asOf) { feature in
            var f = feature
            if let transformer, let g = f.geometry { f.geometry = try transformer.transform(g) }
            f.properties = hidden.filter(f.properties)
            try writer.write(f)
            count += 1
        }
        try writer.finish()
        return Summary(count: count, lastChange: info.lastChange)
    }
}

/// An export that cannot be made as asked, with what to do instead.
public struct ExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
