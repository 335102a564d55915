import ArgumentParser
import Features
import Formats
import Foundation
import Geometry
import Projection
import Store

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a layer out as GeoJSON, CSV (WKT) or GeoPackage, optionally in another CRS.",
        discussion: """
            Streams: the layer is never held in memory. GeoJSON and CSV go to standard output
            unless --out is given; a GeoPackage needs --out. Private fields (owners' names and ids
            under any name — owner, ChuSuDung, HoTen, CCCD, … — and the layer's --private-fields)
            are included unless --hide-private is given.

            Examples:
              landmap export --layer parcels --format geojson --out parcels.geojson
              landmap export --layer zoning --format gpkg --crs vn2000 --out zoning_vn2000.gpkg
              landmap export --layer parcels --format csv --datetime 2026-01-01T00:00:00Z > then.csv
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case geojson, csv, gpkg, shp
    }

    @OptionGroup var options: GlobalOptions

    @Option(help: "The layer to export.")
    var layer: String

    @Option(help: "geojson, csv, gpkg or shp.")
    var format: Format = .geojson

    @Option(help: "Output CRS (default WGS 84 longitude/latitude): an alias, EPSG:n or WKT.")
    var crs: String?

    @Option(help: "The output file (default: standard output, for geojson and csv).")
    var out: String?

    @Option(help: "Export the layer as it was at this time (ISO 8601, e.g. 2026-01-01T00:00:00Z).")
    var datetime: String?

    @Flag(help: "Leave out private fields (owners' names and ids under any name, and the layer's --private-fields).")
    var hidePrivate = false

    func run() throws {
        let store = try options.openStore()
        guard let info = try store.layer(layer) else { throw StoreError.unknownLayer(layer) }
        let target = try crs.map { try CRS.resolve($0) } ?? .wgs84
        let asOf = try datetime.map(parseDate)
        let transformer = target == .wgs84 ? nil : try Transformer(from: .wgs84, to: target)
        let hidden = hidePrivate ? info.schema.privateFields : .nothing
        let fields = info.schema.fields.filter { !hidden.contains($0.name) }
        let writer: any FeatureWriter
        switch format {
        case .geojson:
            writer = try GeoJSONFeatureWriter(path: out, crsURN: target.epsg.flatMap { $0 == 4326 ? nil : "urn:ogc:def:crs:EPSG::\($0)" })
        case .csv:
            writer = try CSVFeatureWriter(path: out, columns: fields.map(\.name))
        case .gpkg, .shp:
            guard let out else { throw CLIError("--format \(format.rawValue) needs --out FILE") }
            writer = try OGRFeatureWriter(path: out, driver: format == .gpkg ? "GPKG" : "ESRI Shapefile", layerName: layer,
                                          crsWKT: try target.wkt(), fields: fields)
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
        if out != nil { FileHandle.standardError.write(Data("exported \(count) features of '\(layer)' in \(target.identifier) to \(out ?? "")\n".utf8)) }
    }
}

/// An ISO 8601 date or date-time; a bare date means its start, UTC.
func parseDate(_ text: String) throws -> Date {
    let f = ISO8601DateFormatter()
    for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
        f.formatOptions = options
        if let d = f.date(from: text) { return d }
    }
    throw CLIError("'\(text)' is not an ISO 8601 date or date-time (e.g. 2026-01-01 or 2026-01-01T08:00:00Z)")
}
