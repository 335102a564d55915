import CGEOS

/// A geometry owned by GEOS: the one place its handle is freed, in `deinit`.
///
/// It belongs to the `GeosContext` that made it (and keeps it alive), so it is not `Sendable`
/// either. Turn it back into a `Geometry` value with `value()` to hand it to another task.
public final class GeosGeometry {
    public let context: GeosContext
    let pointer: OpaquePointer

    init(context: GeosContext, pointer: OpaquePointer) {
        self.context = context
        self.pointer = pointer
    }

    deinit {
        GEOSGeom_destroy_r(context.handle, pointer)
    }

    private var h: GEOSContextHandle_t { context.handle }

    /// The geometry as a Swift value.
    public func value() throws -> Geometry {
        try WKB.decode(context.wkb(of: pointer))
    }

    public var isEmpty: Bool { GEOSisEmpty_r(h, pointer) == 1 }

    public var typeName: String {
        guard let name = GEOSGeomType_r(h, pointer) else { return "Unknown" }
        defer { GEOSFree_r(h, name) }
        return String(cString: name)
    }

    /// OGC validity with GEOS's reason and the location of the first problem.
    public func validity() throws -> Validity {
        var reason: UnsafeMutablePointer<CChar>?
        var location: OpaquePointer?
        let result = GEOSisValidDetail_r(h, pointer, 0, &reason, &location)
        defer {
            if let reason { GEOSFree_r(h, reason) }
            if let location { GEOSGeom_destroy_r(h, location) }
        }
        switch result {
        case 1:
            return .valid
        case 0:
            var at: Coordinate?
            if let location {
                var x = 0.0, y = 0.0
                if GEOSGeomGetX_r(h, location, &x) == 1, GEOSGeomGetY_r(h, location, &y) == 1 { at = Coordinate(x, y) }
            }
            return .invalid(reason: reason.map { String(cString: $0) } ?? "invalid", location: at)
        default:
            throw context.failure("validity check")
        }
    }

    public func isValid() throws -> Bool {
        try validity().isValid
    }

    /// A valid version of this geometry, keeping its areas ("structure" method): rings that
    /// cross are split at the crossing, collapsed parts dropped.
    public func makeValid() throws -> GeosGeometry {
        guard let params = GEOSMakeValidParams_create_r(h) else { throw context.failure("make-valid") }
        defer { GEOSMakeValidParams_destroy_r(h, params) }
        GEOSMakeValidParams_setMethod_r(h, params, GEOS_MAKE_VALID_STRUCTURE)
        GEOSMakeValidParams_setKeepCollapsed_r(h, params, 0)
        return try context.own(GEOSMakeValidWithParams_r(h, pointer, params), "make-valid")
    }

    /// Planar area, in the squared units of the coordinates.
    public func area() throws -> Double {
        var a = 0.0
        guard GEOSArea_r(h, pointer, &a) == 1 else { throw context.failure("area") }
        return a
    }

    public func intersection(_ other: GeosGeometry) throws -> GeosGeometry {
        try context.own(GEOSIntersection_r(h, pointer, other.pointer), "intersection")
    }

    public func difference(_ other: GeosGeometry) throws -> GeosGeometry {
        try context.own(GEOSDifference_r(h, pointer, other.pointer), "difference")
    }

    /// A point guaranteed to lie inside the geometry (for areas: in the interior).
    public func pointOnSurface() throws -> GeosGeometry {
        try context.own(GEOSPointOnSurface_r(h, pointer), "point on surface")
    }

    /// Where one label (or one click) stands for the whole feature: for an area, the centre of
    /// its largest inscribed circle (the pole of inaccessibility, to 1/100 of the feature's
    /// size), the point furthest inside it, so it falls in this feature and not in a neighbour
    /// even for an L- or U-shaped parcel whose box centre lies outside it; GEOS's point on
    /// surface where that centre would not be inside (invalid rings), and for lines and points.
    /// nil for an empty geometry.
    public func labelPoint() throws -> Coordinate? {
        guard !isEmpty else { return nil }
        if GEOSGeom_getDimensions_r(h, pointer) == 2 {
            var minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0
            guard GEOSGeom_getXMin_r(h, pointer, &minX) == 1, GEOSGeom_getYMin_r(h, pointer, &minY) == 1,
                  GEOSGeom_getXMax_r(h, pointer, &maxX) == 1, GEOSGeom_getYMax_r(h, pointer, &maxY) == 1 else {
                throw context.failure("extent")
            }
            let size = max(maxX - minX, maxY - minY)
            if size > 0 {
                // A line from the circle's centre to the nearest boundary point.
                let circle = try context.own(GEOSMaximumInscribedCircle_r(h, pointer, size / 100), "largest inscribed circle")
                let centre = try context.own(GEOSGeomGetStartPoint_r(h, circle.pointer), "circle centre")
                if let c = centre.coordinate, try contains(centre) { return c }
            }
        }
        return try pointOnSurface().coordinate
    }

    /// The coordinate of a point geometry; nil for anything else or an empty point.
    public var coordinate: Coordinate? {
        var x = 0.0, y = 0.0
        guard GEOSGeomTypeId_r(h, pointer) == Int32(GEOS_POINT.rawValue), !isEmpty,
              GEOSGeomGetX_r(h, pointer, &x) == 1, GEOSGeomGetY_r(h, pointer, &y) == 1 else { return nil }
        return Coordinate(x, y)
    }

    /// Fast clipping to a rectangle; the result may be invalid where the input was, and may
    /// need `makeValid()` for polygons (GEOS documents this).
    public func clipped(to box: BoundingBox) throws -> GeosGeometry {
        try context.own(GEOSClipByRect_r(h, pointer, box.minX, box.minY, box.maxX, box.maxY), "clip by rectangle")
    }

    /// The geometry on a grid of `size` (1 = integer coordinates), made valid by GEOS's
    /// snap-rounding overlay: what vector tiles need, where coordinates must be integers.
    public func snapped(toGrid size: Double) throws -> GeosGeometry {
        try context.own(GEOSGeom_setPrecision_r(h, pointer, size, 0), "snap to grid")
    }

    /// Douglas–Peucker simplification that keeps the topology (no new self-intersections).
    public func simplified(tolerance: Double) throws -> GeosGeometry {
        try context.own(GEOSTopologyPreserveSimplify_r(h, pointer, tolerance), "simplify")
    }

    public func intersects(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSIntersects_r(h, pointer, other.pointer), "intersects")
    }

    public func contains(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSContains_r(h, pointer, other.pointer), "contains")
    }

    public func covers(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSCovers_r(h, pointer, other.pointer), "covers")
    }

    public func within(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSWithin_r(h, pointer, other.pointer), "within")
    }

    public func disjoint(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSDisjoint_r(h, pointer, other.pointer), "disjoint")
    }

    /// The same point set, whatever the vertices (OGC's equals, CQL2's S_EQUALS).
    public func topologicallyEquals(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSEquals_r(h, pointer, other.pointer), "equals")
    }

    public func touches(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSTouches_r(h, pointer, other.pointer), "touches")
    }

    public func crosses(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSCrosses_r(h, pointer, other.pointer), "crosses")
    }

    public func overlaps(_ other: GeosGeometry) throws -> Bool {
        try predicate(GEOSOverlaps_r(h, pointer, other.pointer), "overlaps")
    }

    func predicate(_ result: CChar, _ name: String) throws -> Bool {
        switch result {
        case 1: return true
        case 0: return false
        default: throw context.failure(name)
        }
    }

    /// A prepared form for repeated predicates against this geometry.
    public func prepared() throws -> PreparedGeometry {
        guard let p = GEOSPrepare_r(h, pointer) else { throw context.failure("prepare") }
        return PreparedGeometry(base: self, pointer: p)
    }
}

/// The outcome of a validity check: GEOS's reason and where the problem is.
public enum Validity: Hashable, Sendable {
    case valid
    case invalid(reason: String, location: Coordinate?)

    public var isValid: Bool {
        if case .valid = self { return true }
        return false
    }
}

/// A GEOS prepared geometry: indexes its base once, so many point-in-polygon or intersects
/// tests against it are fast. Holds its base geometry alive; frees its handle in `deinit`.
public final class PreparedGeometry {
    public let base: GeosGeometry
    let pointer: OpaquePointer

    init(base: GeosGeometry, pointer: OpaquePointer) {
        self.base = base
        self.pointer = pointer
    }

    deinit {
        GEOSPreparedGeom_destroy_r(base.context.handle, pointer)
    }

    public func contains(_ other: GeosGeometry) throws -> Bool {
        try base.predicate(GEOSPreparedContains_r(base.context.handle, pointer, other.pointer), "prepared contains")
    }

    public func covers(_ other: GeosGeometry) throws -> Bool {
        try base.predicate(GEOSPreparedCovers_r(base.context.handle, pointer, other.pointer), "prepared covers")
    }

    public func intersects(_ other: GeosGeometry) throws -> Bool {
        try base.predicate(GEOSPreparedIntersects_r(base.context.handle, pointer, other.pointer), "prepared intersects")
    }

    /// True when the two touch only at their boundaries (shared edges of neighbouring parcels).
    public func touches(_ other: GeosGeometry) throws -> Bool {
        try base.predicate(GEOSPreparedTouches_r(base.context.handle, pointer, other.pointer), "prepared touches")
    }

    /// Whether the point lies in the geometry or on its boundary.
    public func covers(_ point: Coordinate) throws -> Bool {
        try covers(base.context.point(point))
    }
}
