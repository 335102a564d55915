import ArgumentParser
import Foundation
import Geometry
import Store
import Tiles

struct TilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiles",
        abstract: "Work with vector tiles.",
        subcommands: [TilesExport.self])
}

struct TilesExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Pre-render a tile pyramid into an MBTiles or PMTiles file, for offline use or a CDN.",
        discussion: """
            Tiles are the ones the server serves (MVT 2.1, extent 4096), gzip-compressed; tiles with \
            nothing in them are left out; private fields are never exported. An archive is read by \
            whoever has the file, so only public layers go in by default; naming an internal or \
            restricted layer needs --allow-non-public. Rendering uses every core.

            Examples:
              landmap tiles export --out hcmc.pmtiles --layers parcels,zoning --maxzoom 16
              landmap tiles export --out d7.mbtiles --bbox 106.69,10.70,106.76,10.75 \\
                --minzoom 12 --maxzoom 17
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The archive to write: a name ending in .mbtiles or .pmtiles.") var out: String
    @Option(help: "Layers, comma-separated (default: every layer).") var layers: String?
    @Option(help: "Lowest zoom.") var minzoom = 0
    @Option(help: "Highest zoom.") var maxzoom = 16
    @Option(help: "Only tiles touching MINLON,MINLAT,MAXLON,MAXLAT (default: the layers' extent).") var bbox: String?
    @Flag(help: "Allow internal and restricted layers in the archive (anyone with the file reads them).") var allowNonPublic = false

    func run() async throws {
        let store = try options.openStore()
        let all = try store.layers()
        let names: [String]
        if let layers {
            names = layers.split(separator: ",").map(String.init)
            for name in names {
                guard let schema = all.first(where: { $0.schema.name == name })?.schema else { throw StoreError.unknownLayer(name) }
                if schema.metadata.access != .public, !allowNonPublic {
                    throw CLIError("layer '\(name)' is \(schema.metadata.access.rawValue): a tile archive is read by whoever has the file; give --allow-non-public to export it anyway")
                }
            }
        } else {
            names = all.filter { $0.schema.metadata.access == .public || allowNonPublic }.map(\.schema.name)
            let left = all.filter { $0.schema.metadata.access != .public && !allowNonPublic }.map(\.schema.name)
            if !left.isEmpty { FileHandle.standardError.write(Data("not public, left out: \(left.joined(separator: ", ")) (--allow-non-public to include)\n".utf8)) }
            guard !names.isEmpty else { throw CLIError("no public layer to export (--allow-non-public to export the others)") }
        }
        var o = TileExportOptions(layers: names)
        o.minZoom = minzoom
        o.maxZoom = maxzoom
        if let bbox {
            let v = bbox.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4, v[0] <= v[2], v[1] <= v[3] else { throw ValidationError("--bbox takes MINLON,MINLAT,MAXLON,MAXLAT") }
            o.bbox = BoundingBox(minX: v[0], minY: v[1], maxX: v[2], maxY: v[3])
        }
        let archive: any TileArchiveWriter
        if out.hasSuffix(".pmtiles") { archive = try PMTilesWriter(path: out) } else if out.hasSuffix(".mbtiles") { archive = try MBTilesWriter(path: out) } else {
            throw ValidationError("--out must end in .mbtiles or .pmtiles")
        }
        let bar = ProgressBar(label: "rendering", unit: "tiles")
        let start = Date()
        let result = try await TileExporter.export(store: store, options: o, into: archive) { done, total in
            bar.update(done, total)
        }
        bar.finish()
        print(String(format: "%d tiles written to %@ (%d empty left out) in %.1f s", result.written, out, result.empty, Date().timeIntervalSince(start)))
    }
}
