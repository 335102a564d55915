import CQL2
import Features
import Foundation
import Geometry

/// One consistent read of the present features, for hot paths that ask several questions at
/// once: a point lookup reads the data versions, the candidates of three layers and the winning
/// feature from the same snapshot, with one connection checkout and no row decoded that it does
/// not need.
///
/// Features are named here by a *key* (a row number: the GeoPackage `fid`, the PostGIS table's `fid`) rather than their id: a key is
/// stable only while the layer's data version is, which is how callers cache by it.
public protocol FeatureSnapshot {
    /// Each layer's data version.
    func dataVersions() throws -> [String: Int64]

    /// Keys of the present features whose bounding boxes intersect `box` (the R-tree alone).
    func keys(layer: String, intersecting box: BoundingBox) throws -> [Int64]

    /// Every present feature's key and bounding box (the R-tree's, rounded outwards), or nil
    /// when the layer has more than `limit` features: for an in-memory index of a small layer.
    func boxes(layer: String, limit: Int) throws -> [(key: Int64, box: BoundingBox)]?

    /// The present features whose boxes intersect `box`, as key and ISO WKB. The bytes are lent
    /// for the call only, straight from the database page, not copied.
    func forEachWKB(layer: String, intersecting box: BoundingBox, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws

    /// The present features whose index boxes intersect `box`: each key with its box as the
    /// index holds it (rounded outwards: a box inside a region means the feature lies inside
    /// too), and its ISO WKB unless that box lies within `unread`. A page in a box counts the
    /// features well inside the box without reading their rows.
    func forEachCandidate(layer: String, intersecting box: BoundingBox, unread: BoundingBox?,
                          _ body: (Int64, BoundingBox, UnsafeRawBufferPointer?) throws -> Void) throws

    /// A present feature by key, decoded in full.
    func feature(layer: String, key: Int64) throws -> Feature?

    /// The keys of every present feature `filter` matches, ascending: a filtered page counts
    /// its matches and finds its place among them by key, where an `OFFSET` made the database
    /// step over every row before a deep page.
    func keys(layer: String, matching filter: CQL2Filter) throws -> [Int64]

    /// The keys of at most `limit` present features after `key`, ascending (a page of a whole
    /// layer that starts where the last one ended).
    func keys(layer: String, after key: Int64, limit: Int) throws -> [Int64]
}

extension FeatureSnapshot {
    /// For a store whose rows come whole anyway (PostGIS: one round trip for all of them):
    /// every candidate with its exact box and its WKB.
    public func forEachCandidate(layer: String, intersecting box: BoundingBox, unread: BoundingBox?,
                                 _ body: (Int64, BoundingBox, UnsafeRawBufferPointer?) throws -> Void) throws {
        try forEachWKB(layer: layer, intersecting: box) { key, wkb in
            guard let exact = try WKB.boundingBox(wkb) else { return }
            try body(key, exact, wkb)
        }
    }
}

/// A connection of its own for one thread's hot path (a lookup worker): snapshots from it
/// skip the pool's checkout and schema check, which cost more than the lookup's queries.
public protocol FeatureReader: AnyObject {
    /// Runs `body` against one consistent read snapshot.
    func snapshot<T>(_ body: (any FeatureSnapshot) throws -> T) throws -> T
}
