import CPROJ
import Geometry

/// Transforms coordinates between two CRSs, x = longitude/easting and y = latitude/northing
/// whatever the CRS's official axis order.
///
/// PROJ may know several operations between two CRSs: EPSG has two VN-2000 → WGS 84 Helmert
/// sets, one for Vietnam onshore and one for the Mekong delta blocks that cover much of HCMC;
/// they differ by about 0.8 m. Like `cs2cs`, the transformer uses, per point, the most accurate
/// operation whose area of use holds the point (the smaller area on a tie). Unlike PROJ's own
/// per-point choice, it decides from the point's position in the *source* CRS and the inverse
/// takes the operation whose forward choice agrees, so forward then inverse returns to the
/// input even on the border between two areas.
///
/// It owns its PROJ context, so it is not `Sendable`: make one per task or thread.
public final class Transformer {
    public let source: CRS
    public let target: CRS
    private let context: ProjContext
    private let candidates: [Candidate]
    /// Source CRS → its own geographic CRS (no datum change): where a point lies, for choosing.
    private let locator: ProjObject?

    struct Candidate {
        let operation: ProjObject
        let area: BoundingBox?
        let accuracy: Double
    }

    public init(from source: CRS, to target: CRS) throws {
        self.source = source
        self.target = target
        context = try ProjContext()
        if source == target {
            candidates = []
            locator = nil
            return
        }
        let src = try context.object(source.definition)
        let dst = try context.object(target.definition)
        candidates = try Self.operations(context, src, dst, source, target)
        if candidates.count > 1, !source.isGeographic, let geodetic = proj_crs_get_geodetic_crs(context.handle, src.pointer) {
            let base = ProjObject(context: context, pointer: geodetic)
            locator = try Self.operations(context, src, base, source, target).first?.operation
        } else {
            locator = nil
        }
    }

    private static func operations(_ context: ProjContext, _ src: ProjObject, _ dst: ProjObject, _ source: CRS, _ target: CRS) throws -> [Candidate] {
        guard let factory = proj_create_operation_factory_context(context.handle, nil) else {
            throw ProjectionError("PROJ could not plan a transformation: \(context.lastError())")
        }
        defer { proj_operation_factory_context_destroy(factory) }
        proj_operation_factory_context_set_grid_availability_use(
            context.handle, factory, PROJ_GRID_AVAILABILITY_DISCARD_OPERATION_IF_MISSING_GRID)
        proj_operation_factory_context_set_spatial_criterion(
            context.handle, factory, PROJ_SPATIAL_CRITERION_PARTIAL_INTERSECTION)
        guard let list = proj_create_operations(context.handle, src.pointer, dst.pointer, factory) else {
            throw ProjectionError("PROJ finds no transformation from \(source) to \(target): \(context.lastError())")
        }
        defer { proj_list_destroy(list) }
        var found = [Candidate]()
        for i in 0..<proj_list_get_count(list) {
            guard let raw = proj_list_get(context.handle, list, i) else { continue }
            let op = ProjObject(context: context, pointer: raw)
            guard proj_coordoperation_is_instantiable(context.handle, raw) != 0,
                  let normalized = proj_normalize_for_visualization(context.handle, raw) else { continue }
            var w = 0.0, s = 0.0, e = 0.0, n = 0.0
            let hasArea = proj_get_area_of_use(context.handle, raw, &w, &s, &e, &n, nil) != 0 && w <= e
            found.append(Candidate(
                operation: ProjObject(context: context, pointer: normalized),
                area: hasArea ? BoundingBox(minX: w, minY: s, maxX: e, maxY: n) : nil,
                accuracy: proj_coordoperation_get_accuracy(context.handle, op.pointer)))
        }
        // Ballpark operations (no known accuracy) only when nothing better exists.
        let known = found.filter { $0.accuracy >= 0 }
        guard !(known.isEmpty ? found : known).isEmpty else {
            throw ProjectionError("PROJ finds no usable transformation from \(source) to \(target)")
        }
        return known.isEmpty ? found : known
    }

    /// Index of the operation for a point given in the source CRS.
    private func choice(forSource point: Coordinate) -> Int {
        guard candidates.count > 1 else { return 0 }
        var where_ = point
        if let locator { where_ = proj_trans(locator.pointer, PJ_FWD, proj_coord(point.x, point.y, 0, 0)).xy.asCoordinate }
        var best = 0
        var bestKey: (Double, Double)?
        for (i, c) in candidates.enumerated() {
            guard let area = c.area, area.contains(where_) else { continue }
            let key = (c.accuracy, (area.maxX - area.minX) * (area.maxY - area.minY))
            if let current = bestKey, !(key < current) { continue }
            best = i
            bestKey = key
        }
        return best
    }

    /// Transforms the coordinates in place. Throws naming the first coordinate that failed.
    public func transform(_ coordinates: inout [Coordinate], inverse: Bool = false) throws {
        guard let first = candidates.first, !coordinates.isEmpty else { return }
        if candidates.count == 1 {
            Self.apply(first.operation, &coordinates, inverse: inverse)
        } else if inverse {
            // Keep op 0's answer where the forward choice there is op 0; otherwise try the others
            // until one gives a point whose forward choice is that same operation.
            let targets = coordinates
            Self.apply(first.operation, &coordinates, inverse: true)
            for i in coordinates.indices where choice(forSource: coordinates[i]) != 0 {
                for k in 1..<candidates.count {
                    let p = transform(targets[i], with: k, inverse: true)
                    if choice(forSource: p) == k {
                        coordinates[i] = p
                        break
                    }
                }
            }
        } else {
            let choices = coordinates.map(choice(forSource:))
            let sources = coordinates
            Self.apply(first.operation, &coordinates, inverse: false)
            for i in coordinates.indices where choices[i] != 0 {
                coordinates[i] = transform(sources[i], with: choices[i], inverse: false)
            }
        }
        if let bad = coordinates.firstIndex(where: { !$0.x.isFinite || !$0.y.isFinite }) {
            throw ProjectionError("coordinate \(bad + 1) cannot be transformed from \(inverse ? target : source) to \(inverse ? source : target): \(context.lastError())")
        }
    }

    private func transform(_ c: Coordinate, with k: Int, inverse: Bool) -> Coordinate {
        proj_trans(candidates[k].operation.pointer, inverse ? PJ_INV : PJ_FWD, proj_coord(c.x, c.y, 0, 0)).xy.asCoordinate
    }

    private static func apply(_ op: ProjObject, _ coordinates: inout [Coordinate], inverse: Bool) {
        let count = coordinates.count
        let stride = MemoryLayout<Coordinate>.stride
        coordinates.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let x = base.assumingMemoryBound(to: Double.self)
            let y = (base + MemoryLayout<Double>.stride).assumingMemoryBound(to: Double.self)
            _ = proj_trans_generic(op.pointer, inverse ? PJ_INV : PJ_FWD,
                                   x, stride, count, y, stride, count, nil, 0, 0, nil, 0, 0)
        }
    }

    public func transform(_ c: Coordinate, inverse: Bool = false) throws -> Coordinate {
        var cs = [c]
        try transform(&cs, inverse: inverse)
        return cs[0]
    }

    /// The geometry with every coordinate transformed.
    public func transform(_ geometry: Geometry, inverse: Bool = false) throws -> Geometry {
        guard !candidates.isEmpty else { return geometry }
        var flat = [Coordinate]()
        flat.reserveCapacity(geometry.coordinateCount)
        geometry.forEachCoordinate { flat.append($0) }
        try transform(&flat, inverse: inverse)
        var i = 0
        return geometry.mapCoordinates { _ in
            defer { i += 1 }
            return flat[i]
        }
    }
}

extension PJ_XY {
    var asCoordinate: Coordinate { Coordinate(x, y) }
}

/// Area as printed on Vietnamese land-use certificates: planar area in VN-2000 / TM-3 105°45′
/// (EPSG:9210) of a geometry stored in WGS 84 lon/lat.
public final class CadastralArea {
    private let transformer: Transformer

    public init() throws {
        transformer = try Transformer(from: .wgs84, to: .vn2000)
    }

    public func squareMetres(of lonLat: Geometry) throws -> Double {
        try transformer.transform(lonLat).planarArea
    }
}
