import Store
import Synchronization
import Tiles

/// Each layer's extent and first drawn zoom (`TileCoverage.Extent`) at its data version, for the
/// OGC API – Tiles routes, which check every tile against a tileset's `tileMatrixSetLimits`.
/// Reading them counts the layer's features, too slow for every tile: read once per data
/// version (an import or edit makes a new one), off the cooperative pool, then kept — one entry
/// per layer.
final class TileExtents: Sendable {
    private let known = Mutex<[String: (version: Int64, extent: TileCoverage.Extent?)]>([:])

    /// The coverage of these layers at these versions.
    func coverage(_ layers: [(name: String, version: Int64)], store: any LandMapStore) async throws -> TileCoverage {
        if let coverage = cached(layers) { return coverage }
        return try await Blocking.run { try self.read(layers, store: store) }
    }

    /// The coverage from what is kept, or nil when a layer's figures at its version are not.
    func cached(_ layers: [(name: String, version: Int64)]) -> TileCoverage? {
        known.withLock { known in
            var extents = [TileCoverage.Extent]()
            for (name, version) in layers {
                guard let entry = known[name], entry.version == version else { return nil }
                if let e = entry.extent { extents.append(e) }
            }
            return TileCoverage(extents)
        }
    }

    /// The coverage, reading the figures of each layer not kept at its version.
    func read(_ layers: [(name: String, version: Int64)], store: any LandMapStore) throws -> TileCoverage {
        var extents = [TileCoverage.Extent]()
        for (name, version) in layers {
            if let entry = known.withLock({ $0[name] }), entry.version == version {
                if let e = entry.extent { extents.append(e) }
                continue
            }
            // A write between the two reads: the newer figures are kept, and the next tile of the
            // older version reads again.
            guard let info = try store.layer(name), let e = remember(info) else { continue }
            extents.append(e)
        }
        return TileCoverage(extents)
    }

    /// Keeps a layer's figures read elsewhere (a tileset document reads them whole) and answers
    /// its extent: nil while it has no feature.
    @discardableResult
    func remember(_ info: LayerInfo) -> TileCoverage.Extent? {
        let extent = TileCoverage.Extent(info)
        known.withLock { $0[info.schema.name] = (info.dataVersion, extent) }
        return extent
    }
}
