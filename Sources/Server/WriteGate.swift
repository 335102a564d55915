import Access
import Features
import Foundation
import Store

/// What a write request may do once its token, layer and scope are checked: write directly,
/// or propose (SPEC §8). Refusals are answered, counted and audited here, for every route
/// that writes (items, uploads), so they are refused alike.
struct WriteGate {
    let state: ServerState

    enum Path { case direct, propose }

    /// The caller, the layer's schema and whether its writes go straight in or become
    /// proposals. 401 without a token; 404 for a layer the caller may not read (as for any
    /// read); 403 for a role below contributor or a layer outside the token's `--layers`.
    func authorize(_ context: LandMapContext, layer: String, action: String) throws -> (Identity, LayerSchema, Path) {
        guard let identity = context.identity else {
            state.refused(.unauthenticated)
            throw Problem.unauthorized("\(action) needs a token with the contributor role or higher: send 'Authorization: Bearer <token>' (landmap token create)")
        }
        guard identity.role >= .contributor else {
            throw refusal(identity, .role, layer, "\(action) needs the contributor role (its writes are proposals) or editor; \(identity.described) is a \(identity.role)")
        }
        let schema = try state.readable(layer, for: identity)
        let access = state.access(schema, for: identity)
        if access.canWrite { return (identity, schema, .direct) }
        if access.canPropose { return (identity, schema, .propose) }
        throw refusal(identity, .scope, layer, "\(identity.described) may not write layer '\(layer)': it is outside the token's layers")
    }

    /// 403 with the reason, counted by kind and audited as `write.refused`.
    func refusal(_ identity: Identity, _ reason: Refusal, _ layer: String, _ detail: String) -> Problem {
        state.refused(reason)
        state.audit.record(identity.actor, "write.refused", layer, detail, unit: identity.unit)
        return Problem(.forbidden, detail)
    }

    /// Refuses (403) a write by a ward-limited token that puts a feature outside its wards
    /// (`after`), or changes or deletes one that is outside them now (`replacing`). Blocks:
    /// call off the event loop.
    func inScope(_ identity: Identity, layer: String, after: Feature?, replacing id: String?) throws {
        guard let wards = WardScope(identity, layer: layer, store: state.store) else { return }
        do {
            if let after { try wards.check(after) }
            if let id, let present = try state.store.feature(layer: layer, id: id, asOf: nil) { try wards.check(present) }
        } catch let error as OutOfScope {
            throw problem(error, identity)
        }
    }

    /// A scope refusal (`OutOfScope`) as 403, counted and audited like the others.
    func problem(_ error: OutOfScope, _ identity: Identity) -> Problem {
        state.refused(.scope)
        state.audit.record(identity.actor, "write.refused", error.layer, error.description, unit: identity.unit)
        return Problem(.forbidden, error.description)
    }
}
