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

    /// Whether `dataVersions()` name exactly the data this snapshot reads (read in its own
    /// transaction) rather than a cache that may lag it by a notification's delay: only then
    /// may what was read at one version be used for another read at the same (`LayerBoxes`).
    var versionsAreExact: Bool { get }

    /// Keys of the present features whose bounding boxes intersect `box` (the R-tree alone).
    func keys(layer: String, intersecting box: BoundingBox) throws -> [Int64]

    /// Every present feature's key and bounding box (the R-tree's, rounded outwards), or nil
    /// when the layer has more than `limit` features: for an in-memory index of a small layer.
    func boxes(layer: String, limit: Int) throws -> [(key: Int64, box: BoundingBox)]?

    /// The present features whose boxes intersect `box`, as key and ISO WKB. The bytes are lent
    /// for the call only, straight from the database page, not copied.
    func forEachWKB(layer: String, intersecting box: BoundingBox, _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws

    /// The same for the features of `keys` (in no set order; a missing key or empty geometry
    /// left out): the candidates an in-memory index found on a box's edge (`LayerBoxes`).
    func forEachWKB(layer: String, keys: [Int64], _ body: (Int64, UnsafeRawBufferPointer) throws -> Void) throws

    /// The keys of the present features whose geometry meets the closed WGS 84 rectangle
    /// `rectangle` (touching counts, as GEOS decides it), ascending: an items page in a box
    /// counts its matches and finds its page among them. The store decides each candidate where
    /// its rows are, so none but the page's features is shipped or decoded.
    func keys(layer: String, meeting rectangle: BoundingBox) throws -> [Int64]

    /// A present feature by key, decoded in full.
    func feature(layer: String, key: Int64) throws -> Feature?

    /// The present features of `keys`, in that order, missing keys left out: a page's rows in
    /// one question where the store charges a round trip for each.
    func features(layer: String, keys: [Int64]) throws -> [Feature]

    /// The keys of every present feature `filter` matches, ascending: a filtered page counts
    /// its matches and finds its place among them by key, where an `OFFSET` made the database
    /// step over every row before a deep page.
    func keys(layer: String, matching filter: CQL2Filter) throws -> [Int64]

    /// The keys of at most `limit` present features after `key`, ascending (a page of a whole
    /// layer that starts where the last one ended).
    func keys(layer: String, after key: Int64, limit: Int) throws -> [Int64]
}

/// A connection of its own for one thread's hot path (a lookup worker): snapshots from it
/// skip the pool's checkout and schema check, which cost more than the lookup's queries.
public protocol FeatureReader: AnyObject {
    /// Runs `body` against one consistent read snapshot.
    func snapshot<T>(_ body: (any FeatureSnapshot) throws -> T) throws -> T
}
