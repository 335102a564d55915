import Foundation
import Geometry
import Store
import Synchronization

/// Each layer's feature boxes in memory (a packed R-tree) at one data version, shared by a
/// store's item pages. A page in a box finds its candidates here, and which of them lie within
/// the box, without walking the database's R-tree: at 1 M parcels that walk, for a 200 m box's
/// ~200 candidates, was over a quarter of the page. Built in the background from a snapshot of
/// its own (about a second and 40 MB per million features); until it is built, and at any data
/// version other than the one it was built at, pages ask the store as before. Rebuilds after a
/// write wait ten times the last build's length, so a layer edited all day costs at most a
/// tenth of a core.
///
/// A PostGIS store names data versions from its notifications, which may lag a snapshot's data
/// by their delay (as for `MatchedKeys`): for that moment an index may be a write behind.
public final class LayerBoxes: Sendable {
    struct Built: Sendable {
        var version: Int64
        var index: PackedBoxIndex<Int64>
    }
    struct Layer: Sendable {
        var built: Built?
        var building = false
        var notBefore: ContinuousClock.Instant?
    }
    private let state = Mutex([String: Layer]())
    let store: any FeatureStore
    /// The most features a layer may have to be kept (32 bytes of box and 8 of key each).
    public let limit: Int

    public init(store: any FeatureStore, limit: Int = 5_000_000) {
        self.store = store
        self.limit = limit
    }

    /// The layer's boxes if built at `version`; otherwise nil, and a build starts in the
    /// background unless one runs or the last was too recent.
    public func index(layer: String, version: Int64) -> PackedBoxIndex<Int64>? {
        var start = false
        let found = state.withLock { s -> PackedBoxIndex<Int64>? in
            var l = s[layer] ?? Layer()
            defer { s[layer] = l }
            if let built = l.built, built.version == version { return built.index }
            if !l.building, l.notBefore.map({ ContinuousClock.now >= $0 }) ?? true {
                l.building = true
                start = true
            }
            return nil
        }
        if start { Thread.detachNewThread { [self] in build(layer) } }
        return found
    }

    /// Builds the layer's boxes now, from a snapshot of their own (`index` starts this itself).
    /// A layer over `limit` features, or one that cannot be read, is left to the store.
    public func build(_ layer: String) {
        let began = ContinuousClock.now
        let built = try? store.reader().snapshot { snap -> Built? in
            guard let version = try snap.dataVersions()[layer], let boxes = try snap.boxes(layer: layer, limit: limit) else { return nil }
            return Built(version: version, index: PackedBoxIndex(boxes))
        }
        let took = ContinuousClock.now - began
        state.withLock { s in
            var l = s[layer] ?? Layer()
            l.building = false
            if let built { l.built = built }
            // Too large or unreadable: asked again in ten minutes.
            l.notBefore = .now + (built == nil ? .seconds(600) : took * 10)
            s[layer] = l
        }
    }
}
