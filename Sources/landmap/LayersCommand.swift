import ArgumentParser
import Backends
import Foundation
import Geometry
import Store

struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List the layers with feature count, extent, geometry types and last change.",
        discussion: """
            The extent is in WGS 84 longitude/latitude. The data version grows by one with every \
            import or edit that changes a layer; tiles and API responses are keyed by it. \
            --json adds each layer's stored versions (present and past) and the fingerprint of its \
            features (SHA-256 based, the same on every backend and in any row order), which \
            compare a copy with its source (`landmap copy`).

            Examples:
              landmap layers
              landmap layers --db /data/hcmc.gpkg --json
            """)

    @OptionGroup var options: GlobalOptions

    func run() throws {
        let store = try options.openStore()
        let layers = try store.layers()
        if options.json {
            // Checks a copy (`landmap copy`): every stored version, and a hash of the present
            // features that any backend gives alike (one pass over each layer).
            let versions = try store.versionCounts()
            printJSON(.array(try layers.map { layer in
                guard case .object(var o) = layer.json else { return layer.json }
                o["versions"] = .integer(Int64(versions[layer.schema.name] ?? 0))
                o["fingerprint"] = .string(try LayerFingerprint.of(layer: layer.schema.name, in: store).hex)
                return .object(o)
            }))
            return
        }
        guard !layers.isEmpty else {
            print("No layers in \(StoreLocation.redacted(options.db)) yet. Import some: landmap import FILE --layer parcels")
            return
        }
        var rows = [["LAYER", "FEATURES", "GEOMETRY", "EXTENT (lon/lat)", "LAST CHANGE (UTC)", "VERSION"]]
        for l in layers {
            rows.append([
                l.schema.name, l.featureCount.formatted(), l.geometryTypes.joined(separator: ","),
                l.extent.map { String(format: "%.6f,%.6f – %.6f,%.6f", $0.minX, $0.minY, $0.maxX, $0.maxY) } ?? "–",
                l.lastChange.map(Self.humanDate) ?? "–", String(l.dataVersion),
            ])
        }
        printTable(rows)
    }

    static func humanDate(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: d)
    }
}

extension LayerInfo {
    var json: JSONValue {
        .object([
            "name": .string(schema.name),
            "title": .string(schema.title),
            "feature_count": .integer(Int64(featureCount)),
            "extent": extent.map { .array([.number($0.minX), .number($0.minY), .number($0.maxX), .number($0.maxY)]) } ?? .null,
            "geometry_types": .array(geometryTypes.map { .string($0) }),
            "last_change": lastChange.map { .string(ISO8601DateFormatter().string(from: $0)) } ?? .null,
            "data_version": .integer(dataVersion),
            "fields": .array(schema.fields.map { .object(["name": .string($0.name), "type": .string($0.type.rawValue), "private": .bool(schema.isPrivate($0.name))]) }),
        ])
    }
}

/// Prints rows as aligned columns (the first row is the header).
func printTable(_ rows: [[String]]) {
    guard let header = rows.first else { return }
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    for row in rows {
        let cells = row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }
        print(cells.joined(separator: "  "))
    }
}
