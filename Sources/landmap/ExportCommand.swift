import ArgumentParser
import Export
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
            Streams: the layer is never held in memory. GeoJSON and CSV go to standard output \
            unless --out is given; a GeoPackage needs --out. Private fields (owners' names and ids \
            under any name — owner, ChuSuDung, HoTen, CCCD, … — and the layer's --private-fields) \
            are included unless --hide-private is given.

            Examples:
              landmap export --layer parcels --format geojson --out parcels.geojson
              landmap export --layer zoning --format gpkg --crs vn2000 \\
                --out zoning_vn2000.gpkg
              landmap export --layer parcels --format csv \\
                --datetime 2026-01-01T00:00:00Z > then.csv
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
        guard let schema = try store.schema(of: layer) else { throw StoreError.unknownLayer(layer) }
        let target = try crs.map { try CRS.resolve($0) } ?? .wgs84
        let asOf = try datetime.map(parseDate)
        if out == nil, format == .gpkg || format == .shp { throw CLIError("--format \(format.rawValue) needs --out FILE") }
        // The same use case as GET /downloads/{layer}.{format}: the same bytes for the same audience.
        let summary = try LayerExport.write(store: store, layer: layer, format: format.export, to: out,
                                            hidden: hidePrivate ? schema.privateFields : .nothing, crs: target, asOf: asOf)
        if let out { FileHandle.standardError.write(Data("exported \(summary.count) features of '\(layer)' in \(target.identifier) to \(out)\n".utf8)) }
    }
}

extension ExportCommand.Format {
    var export: LayerExport.Format {
        switch self {
        case .geojson: .geojson
        case .csv: .csv
        case .gpkg: .gpkg
        case .shp: .shp
        }
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
