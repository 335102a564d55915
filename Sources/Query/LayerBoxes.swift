import Foundation
import Geometry
import Store
import Synchronization

/// Each layer's feature boxes in memory (a packed R-tree) at one data version, shared by a
/// store's item pages. A page in a box finds its candidates here, and which of them lie within
/// the box, without walking the database's R-tree: at 1 M parcels that walk, for a 200 m box's
/// ~200 candidates, was over a quarter of the page. Built in the background from a snapshot of
/// its own, one layer at a time (about a second at 1 M; 40 MB kept per million features, four
/// times that while building); until it is built, and at any data version other than the one
/// it was built at, pages ask the store as before. A rebuild after a write waits ten times the
/// last build's length, so a layer edited all day costs at most a tenth of a core.
///
/// Used only where a snapshot's data versions are exact (`FeatureSnapshot.versionsAreExact`):
/// a PostGIS store's come from notifications that may lag its data, and an index of one
/// version would be trusted for another's rows; PostGIS answers from its own index instead.
public final class LayerBoxes: Sendable {
    struct Built: Sendable {
        var version: Int64
        var index: PackedBoxIndex<Int64>
    }
    struct Layer: Sendable {
        var built: Built?
        var notBefore: ContinuousClock.Instant?
    }
    struct State: Sendable {
        var layers = [String: Layer]()
        /// A build runs (one at a time: each holds a connection and, at 1 M, 160 MB for a second).
        var building = false
    }
    private let state = Mutex(State())
    let store: any FeatureStore
    /// The most features a layer may have to be kept.
    public let limit: Int

    public init(store: any FeatureStore, limit: Int = 5_000_000) {
        self.store = store
        self.limit = limit
    }

    /// The layer's boxes if built at `version`; otherwise nil, and a build starts in the
    /// background unless one runs or this layer's last was too recent.
    public func index(layer: String, version: Int64) -> PackedBoxIndex<Int64>? {
        var start = false
        let found = state.withLock { s -> PackedBoxIndex<Int64>? in
            let l = s.layers[layer]
            if let built = l?.built, built.version == version { return built.index }
            if !s.building, l?.notBefore.map({ ContinuousClock.now >= $0 }) ?? true {
                s.building = true
                start = true
            }
            return nil
        }
        if start { Thread.detachNewThread { [self] in finishBuild(layer) } }
        return found
    }

    /// Builds the layer's boxes now, unless another build runs (`index` starts builds itself).
    /// A layer over `limit` features, one that cannot be read, or a store whose versions are not
    /// exact, is left to the store's index.
    public func build(_ layer: String) {
        let start = state.withLock { s in
            guard !s.building else { return false }
            s.building = true
            return true
        }
        if start { finishBuild(layer) }
    }

    private func finishBuild(_ layer: String) {
        let began = ContinuousClock.now
        let built = try? store.reader().snapshot { snap -> Built? in
            guard snap.versionsAreExact, let version = try snap.dataVersions()[layer],
                  let boxes = try snap.boxes(layer: layer, limit: limit) else { return nil }
            return Built(version: version, index: PackedBoxIndex(boxes))
        }
        let took = ContinuousClock.now - began
        state.withLock { s in
            s.building = false
            var l = s.layers[layer] ?? Layer()
            // Data versions only grow: a build that read an older state than the kept one is dropped.
            if let built, built.version >= l.built?.version ?? .min { l.built = built }
            // Not built (too large, unreadable, versions not exact): asked again in ten minutes.
            l.notBefore = .now + (built == nil ? .seconds(600) : took * 10)
            s.layers[layer] = l
        }
    }
}
