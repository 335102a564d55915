import Access
import Features
import Foundation
import Geometry
import HTTPTypes
import Hummingbird
import Review
import Store

/// Proposals over HTTP (SPEC §8): `GET /changes[?layer=&status=]`, `GET /changes/{id}`,
/// `POST /changes/{id}/approve`, `POST /changes/{id}/reject` (a reason is required). A token
/// holder sees the proposals it made and those it may review (a steward of the layer, an
/// admin); any other proposal does not exist for it (404), and anonymous callers see none.
struct ChangeRoutes {
    let state: ServerState

    func add(to router: Router<LandMapContext>) {
        router.get("/changes") { request, context in try await self.list(request, try self.caller(context)) }
        router.get("/changes/:id") { request, context in try await self.show(request, context.parameters.require("id"), try self.caller(context)) }
        router.post("/changes/:id/approve") { request, context in
            try await self.approve(request, context.parameters.require("id"), try self.caller(context))
        }
        router.post("/changes/:id/reject") { request, context in
            try await self.reject(request, context.parameters.require("id"), try self.caller(context))
        }
    }

    func caller(_ context: LandMapContext) throws -> Identity {
        guard let identity = context.identity else {
            state.refused(.unauthenticated)
            throw Problem.unauthorized("proposals are for token holders: send 'Authorization: Bearer <token>' (landmap token create)")
        }
        return identity
    }

    /// `202 Accepted` for a write or upload kept as a proposal, with where to follow it.
    static func accepted(_ request: Request, _ change: ChangeRecord, warnings: [JSONValue] = [], report: JSONValue? = nil) -> Response {
        var body = change.summaryJSON.objectValue ?? [:]
        body["links"] = .array([link("\(request.baseURL)/changes/\(change.id)", "self", "application/json", "This proposal")])
        if !warnings.isEmpty { body["warnings"] = .array(warnings) }
        if let report { body["report"] = report }
        var headers = HTTPFields()
        headers[.location] = "\(request.baseURL)/changes/\(change.id)"
        return Reply.json(.object(body), cache: "no-store", headers: headers).with(status: .accepted)
    }

    /// What the caller may do with a proposal: nil when it may not even see it.
    func rights(_ change: ChangeRecord, _ who: Identity) throws -> (schema: LayerSchema, review: Bool)? {
        guard let schema = try state.store.schema(of: change.layer) else { return nil }
        let access = state.access(schema, for: who)
        guard access.canRead, access.canReview || change.proposer == who.actor else { return nil }
        return (schema, access.canReview)
    }

    func find(_ text: String, _ who: Identity) throws -> (ChangeRecord, LayerSchema, Bool) {
        guard let id = Int64(text), let change = try state.store.change(id: id), let (schema, review) = try rights(change, who) else {
            throw Problem.notFound("no change '\(text)'")
        }
        return (change, schema, review)
    }

    func list(_ request: Request, _ who: Identity) async throws -> Response {
        let status = try request.query("status").map { s -> ChangeStatus in
            guard let status = ChangeStatus(rawValue: s) else { throw Problem.badRequest("status must be pending, approved or rejected, not '\(s)'") }
            return status
        }
        let layer = request.query("layer"), limit = try request.int("limit", default: 100, range: 1...1000)
        let store = state.store
        // Read more than asked, since some are not the caller's to see.
        let all = try await Blocking.run { try store.changes(layer: layer, status: status, limit: limit * 10) }
        let visible = try all.filter { try rights($0, who) != nil }.prefix(limit)
        return Reply.json(.object([
            "changes": .array(visible.map { c in
                var o = c.summaryJSON.objectValue ?? [:]
                o["links"] = .array([link("\(request.baseURL)/changes/\(c.id)", "self", "application/json", c.summary)])
                return .object(o)
            }),
            "numberReturned": .integer(Int64(visible.count)),
        ]), cache: "no-store")
    }

    func show(_ request: Request, _ id: String, _ who: Identity) async throws -> Response {
        let (change, schema, review) = try find(id, who)
        let store = state.store, hidden = state.hiddenFields(schema, for: who)
        var body = try await Blocking.run { try Review(store: store).detail(change, hidden: hidden) }.objectValue ?? [:]
        body["may_review"] = .bool(review && change.status == .pending)
        return Reply.json(.object(body), cache: "no-store")
    }

    func approve(_ request: Request, _ id: String, _ who: Identity) async throws -> Response {
        let (change, _, review) = try find(id, who)
        guard review else { throw WriteGate(state: state).refusal(who, .role, change.layer, "approving needs a steward of layer '\(change.layer)' or an admin; \(who.described)") }
        let store = state.store, gate = WriteGate(state: state)
        let summary: BatchSummary
        do {
            summary = try await Blocking.run {
                // A ward-limited steward approves only what it could write itself.
                if who.scope.wards != nil {
                    let proposal = try Proposal(json: change.content ?? "")
                    for f in proposal.features { try gate.inScope(who, layer: change.layer, after: f, replacing: f.id) }
                    for id in proposal.deletions { try gate.inScope(who, layer: change.layer, after: nil, replacing: id) }
                }
                return try Review(store: store).approve(change, actor: who.actor, unit: who.unit)
            }
        } catch let error as ReviewError {
            if case .stale = error { state.refused(.stale) }
            throw error
        }
        let decided = try await Blocking.run { try store.change(id: change.id) } ?? change
        var body = decided.summaryJSON.objectValue ?? [:]
        body["written"] = .object(["batch_id": .integer(summary.batchID), "inserted": .integer(Int64(summary.inserted)),
                                   "updated": .integer(Int64(summary.updated)), "unchanged": .integer(Int64(summary.unchanged)),
                                   "deleted": .integer(Int64(summary.deleted)), "data_version": .integer(summary.dataVersion)])
        return Reply.json(.object(body), cache: "no-store")
    }

    func reject(_ request: Request, _ id: String, _ who: Identity) async throws -> Response {
        let (change, _, review) = try find(id, who)
        guard review else { throw WriteGate(state: state).refusal(who, .role, change.layer, "rejecting needs a steward of layer '\(change.layer)' or an admin; \(who.described)") }
        var reason = request.query("reason")
        if reason == nil {
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            if buffer.readableBytes > 0 {
                let json = try? JSONValue.parse(Data(buffer.readableBytesView))
                guard let text = json?["reason"]?.stringValue else { throw Problem.badRequest("the body must be JSON with a \"reason\": {\"reason\": \"…\"}") }
                reason = text
            }
        }
        guard let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else {
            throw Problem.badRequest("give the reason for rejecting: {\"reason\": \"…\"} or ?reason=…; the proposer reads it")
        }
        guard reason.count <= 2000 else { throw Problem.badRequest("the reason may be at most 2000 characters") }
        let store = state.store
        let decided = try await Blocking.run { try Review(store: store).reject(change, actor: who.actor, unit: who.unit, reason: reason) }
        return Reply.json(decided.summaryJSON, cache: "no-store")
    }
}
