import Features
import Foundation
import Geometry
import Store

/// One answer of `GET /search` (`landmap search`): what was found, and where to show it.
public struct SearchHit: Hashable, Sendable {
    public var layer: String
    public var id: String
    public var label: String
    /// A point inside the feature (where its label stands and `/parcels/at` finds it).
    public var point: Coordinate?
    public var bbox: BoundingBox?

    public func json() -> JSONValue {
        .object([
            "layer": .string(layer), "id": .string(id), "label": .string(label),
            "point": point.map { .array([.number($0.x), .number($0.y)]) } ?? .null,
            "bbox": bbox.map { .array([.number($0.minX), .number($0.minY), .number($0.maxX), .number($0.maxY)]) } ?? .null,
        ])
    }
}

/// Runs a search (SPEC §10) and places each hit: the index gives layer, id and label; the
/// feature's present geometry gives a point inside it and its box. Not `Sendable` (GEOS).
public final class Searcher {
    let store: any FeatureStore & SearchStore
    let geos: GeosContext
    /// The most hits one search answers with.
    public static let maxLimit = 50

    public init(store: any FeatureStore & SearchStore) throws {
        self.store = store
        geos = try GeosContext()
    }

    /// Hits among `layers` (the caller's readable layers: others are never asked), best first.
    public func search(_ text: String, layers: [String], limit: Int) throws -> [SearchHit] {
        let query = SearchQuery(text)
        guard !query.isEmpty else { return [] }
        return try store.search(query, layers: layers, limit: min(max(limit, 1), Self.maxLimit), geometries: true).map { found in
            let doc = found.document
            var hit = SearchHit(layer: doc.layer, id: doc.id, label: doc.label)
            if let wkb = found.geometry {
                try wkb.withUnsafeBytes { wkb in
                    hit.bbox = try WKB.boundingBox(wkb)
                    hit.point = try pointInside(wkb, box: hit.bbox)
                }
            }
            return hit
        }
    }

    /// The centre of the box where it lies inside the polygon (most parcels: a test on the
    /// WKB), else the pole of inaccessibility: that largest-inscribed-circle search, run for
    /// every hit, was a third of a search's time at 1 M parcels.
    func pointInside(_ wkb: UnsafeRawBufferPointer, box: BoundingBox?) throws -> Coordinate? {
        guard let box else { return nil }
        let centre = Coordinate((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2)
        if try WKB.locate(centre, in: wkb) == .interior { return centre }
        return try geos.geometry(wkb: wkb).labelPoint()
    }
}
