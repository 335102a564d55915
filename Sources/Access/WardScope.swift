import Features
import Geometry
import Store

/// A write outside a token's scope (SPEC §8): answered 403, nothing written. Names the token,
/// its scope and the first feature outside it.
public struct OutOfScope: Error, Sendable, CustomStringConvertible {
    public let token: String
    public let layer: String
    public let featureID: String
    public let reason: String

    public var description: String {
        "\(token) may not write feature '\(featureID)' of layer '\(layer)': \(reason); nothing was written"
    }
}

/// Checks that the features a token writes lie in its wards (`token create --wards`): parcels
/// by their `ward_code`, features of other layers by geometry against the wards' polygons in
/// the `admin` layer. A polygon passes when at most 1 % of its area lies outside the wards
/// (ward boundaries and the data drawn along them never match to the centimetre); points and
/// lines when every vertex lies inside. A feature without geometry cannot be placed, so it
/// is outside. Used on one thread (it holds a GEOS context); make one per write.
public final class WardScope {
    let identity: Identity
    let layer: String
    let wards: Set<String>
    let store: any FeatureStore
    private var geos: GeosContext?
    private var polygons: [(code: String, shape: GeosGeometry, prepared: PreparedGeometry)]?

    /// Nil when the token is not limited to wards: everything is in scope.
    public init?(_ identity: Identity, layer: String, store: any FeatureStore) {
        guard let wards = identity.scope.wards else { return nil }
        self.identity = identity
        self.layer = layer
        self.wards = Set(wards)
        self.store = store
    }

    /// Throws `OutOfScope` unless `feature` lies in the token's wards.
    public func check(_ feature: Feature) throws {
        if let reason = try reasonOutside(feature) {
            throw OutOfScope(token: identity.described, layer: layer, featureID: feature.id, reason: reason)
        }
    }

    /// Why the feature is outside the wards, or nil when it is inside.
    func reasonOutside(_ feature: Feature) throws -> String? {
        let list = wards.sorted().joined(separator: ", ")
        if layer == "parcels" {
            let code: String? = switch feature.properties["ward_code"] {
            case .string(let s)?: s
            case .integer(let i)?: String(i)
            default: nil
            }
            guard let code else { return "it has no ward_code, and the token may write only in wards \(list)" }
            return wards.contains(code) ? nil : "its ward_code \(code) is not one of the token's wards (\(list))"
        }
        guard let geometry = feature.geometry, !geometry.isEmpty else {
            return "it has no geometry to place it in the token's wards (\(list))"
        }
        let (context, shapes) = try wardShapes()
        guard !shapes.isEmpty else { return "none of the token's wards (\(list)) is in the admin layer, so nothing can be placed in them" }
        let g = try context.geometry(geometry)
        let area = try g.area()
        if area > 0 {
            var rest = g
            for ward in shapes where try ward.prepared.intersects(rest) {
                rest = try rest.difference(ward.shape)
                if rest.isEmpty { break }
            }
            let outside = rest.isEmpty ? 0 : try rest.area()
            return outside <= area * 0.01 ? nil
                : "\(Int((outside / area * 100).rounded())) % of its area lies outside the token's wards (\(list))"
        }
        var outside: Coordinate?
        try geometry.forEachCoordinate { c in
            if outside == nil, try !shapes.contains(where: { try $0.prepared.covers(c) }) { outside = c }
        }
        return outside.map { "its point \($0.x), \($0.y) lies outside the token's wards (\(list))" }
    }

    /// The wards' polygons from the `admin` layer, read once.
    private func wardShapes() throws -> (GeosContext, [(code: String, shape: GeosGeometry, prepared: PreparedGeometry)]) {
        let context = try geos ?? GeosContext()
        geos = context
        if let polygons { return (context, polygons) }
        var found = [(code: String, shape: GeosGeometry, prepared: PreparedGeometry)]()
        if try store.schema(of: "admin") != nil {
            for code in wards.sorted() {
                for f in try store.features(layer: "admin", matching: ["code": .string(code)], asOf: nil, limit: 10, offset: 0) {
                    guard let g = f.geometry else { continue }
                    let shape = try context.geometry(g)
                    found.append((code, shape, try shape.prepared()))
                }
            }
        }
        polygons = found
        return (context, found)
    }
}
