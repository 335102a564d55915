import Features
import Store

/// Who may do what with one layer (SPEC §8), decided in one place for every route, cache key
/// and command. The rules:
///
/// - A layer is *granted* to a token when the token's `--layers` (if it has any) name it, and
///   the layer is public or internal, or the token is an admin, or its `--layers` name the
///   layer, or its unit is the layer's steward. `--layers` limits every right of a token:
///   outside them the holder is an anonymous caller.
/// - Anyone reads a public layer; a granted token reads any layer. A layer not readable does
///   not exist for the caller (404, left out of lists and composite tiles).
/// - A granted token sees private fields (owners' names and ids); no one else does.
/// - On a granted layer, a contributor proposes, an editor or steward writes, an admin or a
///   steward of the layer (its unit is the layer's steward, or its `--layers` name it)
///   reviews proposals.
public struct LayerAccess: Sendable, Hashable {
    public let layer: String
    public let canRead: Bool
    public let seesPrivate: Bool
    /// Writes go straight to the published data.
    public let canWrite: Bool
    /// Writes become proposals (a contributor's).
    public let canPropose: Bool
    /// Approves and rejects the layer's proposals; sets its metadata.
    public let canReview: Bool

    public init(_ identity: Identity?, _ schema: LayerSchema) {
        layer = schema.name
        let m = schema.metadata
        let granted: Bool
        if let identity {
            let inScope = identity.scope.layers.map { $0.contains(schema.name) } ?? true
            let named = identity.scope.layers?.contains(schema.name) == true
            let stewardUnit = (identity.scope.unit).map { !$0.isEmpty && $0 == m.steward } ?? false
            granted = inScope && (m.access != .restricted || identity.role == .admin || named || stewardUnit)
            canReview = granted && (identity.role == .admin || (identity.role >= .steward && (stewardUnit || named)))
            canWrite = granted && identity.role >= .editor
            canPropose = granted && identity.role == .contributor
        } else {
            granted = false
            canReview = false
            canWrite = false
            canPropose = false
        }
        canRead = m.access == .public || granted
        seesPrivate = granted
    }

    /// What the caller may not see of the layer's features: nothing for a granted token, the
    /// layer's private fields for everyone else.
    public func hidden(_ schema: LayerSchema) -> HiddenProperties {
        seesPrivate ? .nothing : schema.privateFields
    }

    /// What the caller's answers for this layer depend on, for cache keys and ETags: two
    /// callers with the same audience get the same bytes, any other two are kept apart.
    public var audience: String {
        !canRead ? "none" : seesPrivate ? "private" : "public"
    }
}
