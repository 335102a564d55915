import Features
import Foundation
import Geometry
import Store

/// What to pre-render.
public struct TileExportOptions: Sendable {
    public var layers: [String]
    public var minZoom = 0
    public var maxZoom = 16
    /// Longitude/latitude; default: the layers' extent.
    public var bbox: BoundingBox?
    public var workers = ProcessInfo.processInfo.activeProcessorCount

    public init(layers: [String]) {
        self.layers = layers
    }
}

/// Pre-renders a tile pyramid into an archive: tiles are rendered in batches on every core
/// (each batch with its own renderer and GEOS context) and written by one writer as they come.
/// Tiles with nothing in them are left out. Private fields are never exported.
public enum TileExporter {
    public static func export(store: any FeatureStore, options o: TileExportOptions, into archive: any TileArchiveWriter,
                              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) async throws -> (written: Int, empty: Int) {
        guard o.minZoom >= 0, o.maxZoom <= TileID.maxZoom, o.minZoom <= o.maxZoom else {
            throw ArchiveError("zooms must satisfy 0 ≤ minzoom ≤ maxzoom ≤ \(TileID.maxZoom)")
        }
        var extent: BoundingBox?
        var layers = [LayerInfo]()
        for name in o.layers {
            guard let info = try store.layer(name) else { throw StoreError.unknownLayer(name) }
            layers.append(info)
            if let e = info.extent { if extent == nil { extent = e } else { extent?.expand(toInclude: e) } }
        }
        guard let box = o.bbox ?? extent else { return (0, 0) }
        let tiles = (o.minZoom...o.maxZoom).flatMap { TileID.covering(box, zoom: $0) }
        let batches = stride(from: 0, to: tiles.count, by: 32).map { Array(tiles[$0..<min($0 + 32, tiles.count)]) }
        let names = o.layers
        var written = 0, empty = 0, done = 0
        try await withThrowingTaskGroup(of: [(TileID, [UInt8])].self) { group in
            var next = 0
            func launch() {
                guard next < batches.count else { return }
                let batch = batches[next]
                next += 1
                group.addTask {
                    let renderer = try TileRenderer(store: store)
                    return try batch.map { tile in (tile, try renderer.mvt(layers: names, tile: tile, hidden: { $0.privateFields }).mvt) }
                }
            }
            for _ in 0..<max(1, o.workers) { launch() }
            while let results = try await group.next() {
                for (tile, mvt) in results {
                    if mvt.isEmpty { empty += 1 } else { try archive.add(tile, mvt: mvt); written += 1 }
                }
                done += results.count
                progress(done, tiles.count)
                launch()
            }
        }
        let vectorLayers = JSONValue.array(layers.flatMap { info -> [JSONValue] in
            var fields: [String: JSONValue] = ["id": "String"]
            for f in info.schema.fields where !info.schema.isPrivate(f.name) { fields[f.name] = .string(f.type == .integer || f.type == .real ? "Number" : "String") }
            func layer(_ name: String, _ fields: [String: JSONValue]) -> JSONValue {
                .object(["id": .string(name), "fields": .object(fields), "minzoom": .integer(Int64(o.minZoom)), "maxzoom": .integer(Int64(o.maxZoom))])
            }
            guard info.hasLabelLayer else { return [layer(info.schema.name, fields)] }
            let labelFields = TileRenderer.labelFields(of: info.schema.name)
            return [layer(info.schema.name, fields),
                    layer(TileRenderer.labelLayer(of: info.schema.name), fields.filter { $0.key == "id" || labelFields.contains($0.key) })]
        })
        try archive.finish(metadata: TileArchiveMetadata(
            name: "LandMap: " + names.joined(separator: ","), bounds: (box.minX, box.minY, box.maxX, box.maxY),
            minZoom: o.minZoom, maxZoom: o.maxZoom, vectorLayersJSON: vectorLayers.jsonText,
            attribution: "LandMap; wards: vietnam-3d-map (MIT); District 7 zoning: City Science Lab @ HCMC"))
        return (written, empty)
    }
}
