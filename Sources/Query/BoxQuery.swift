import Features
import Foundation
import Geometry
import Projection
import Store

/// Features of a layer intersecting a box given in any CRS: the box is densified and
/// transformed to WGS 84 (its edges curve there), the R-tree gives candidates, GEOS decides.
public final class BoxQuery {
    let store: any FeatureStore
    let geos: GeosContext

    public init(store: any FeatureStore) throws {
        self.store = store
        geos = try GeosContext()
    }

    public func features(layer: String, in box: BoundingBox, crs: CRS, asOf: Date?, limit: Int) throws -> [Feature] {
        guard box.minX <= box.maxX, box.minY <= box.maxY else { throw QueryError.badRequest("the box's minimum exceeds its maximum") }
        let polygon = try Self.lonLatPolygon(box, crs)
        guard let outer = polygon.boundingBox else { return [] }
        let area = try geos.geometry(polygon).prepared()
        var out = [Feature]()
        var offset = 0
        let page = 2_000
        while out.count < limit {
            let batch = try store.features(layer: layer, intersecting: outer, asOf: asOf, limit: page, offset: offset)
            for f in batch {
                guard let g = f.geometry else { continue }
                if try area.intersects(geos.geometry(g)) { out.append(f) }
                if out.count == limit { break }
            }
            if batch.count < page { break }
            offset += page
        }
        return out
    }

    /// The box as a WGS 84 polygon, 16 points per edge so that curved edges stay close.
    static func lonLatPolygon(_ box: BoundingBox, _ crs: CRS) throws -> Geometry {
        guard crs != .wgs84 else { return box.polygon }
        var ring = [Coordinate]()
        let n = 16
        for i in 0..<n { ring.append(Coordinate(box.minX + (box.maxX - box.minX) * Double(i) / Double(n), box.minY)) }
        for i in 0..<n { ring.append(Coordinate(box.maxX, box.minY + (box.maxY - box.minY) * Double(i) / Double(n))) }
        for i in 0..<n { ring.append(Coordinate(box.maxX - (box.maxX - box.minX) * Double(i) / Double(n), box.maxY)) }
        for i in 0..<n { ring.append(Coordinate(box.minX, box.maxY - (box.maxY - box.minY) * Double(i) / Double(n))) }
        ring.append(ring[0])
        return try Transformer(from: crs, to: .wgs84).transform(.polygon([ring]))
    }
}
