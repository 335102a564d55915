import Features
import Foundation
import Geometry
import Import
import Store

/// Proposals and their review (SPEC §8): a contributor's write or upload is kept as a pending
/// change until a steward of the layer approves it — one write batch that names both — or
/// rejects it with a reason. Who may do which is the Access module's decision; this is what
/// happens once they may.
public struct Review {
    let store: any FeatureStore & ChangeStore

    public init(store: any FeatureStore & ChangeStore) {
        self.store = store
    }

    /// The most features one proposal may hold: a reviewer looks at every one, and the
    /// proposal is kept whole in one record.
    public static let maxFeatures = 100_000

    /// The present revision tag of each id, nil where the id does not exist.
    public func base(layer: String, ids: [String]) throws -> [String: String?] {
        var base = [String: String?](minimumCapacity: ids.count)
        // `updateValue`, not `base[id] = …`: assigning a nil `String?` through the subscript
        // removes the key, which would drop every new feature from the review and the stale check.
        for id in ids { base.updateValue(try store.revision(layer: layer, id: id)?.tag, forKey: id) }
        return base
    }

    /// Keeps a proposal, pending. `kind` is `create`, `replace`, `delete` or `import`.
    public func propose(_ proposal: Proposal, layer: String, kind: String, summary: String, proposer: String, unit: String) throws -> ChangeRecord {
        guard proposal.features.count <= Self.maxFeatures else { throw ReviewError.tooLarge(features: proposal.features.count, limit: Self.maxFeatures) }
        return try store.addChange(layer: layer, kind: kind, proposer: proposer, unit: unit, summary: summary, content: proposal.json)
    }

    /// An upload as a proposal: the import's whole pipeline and QA report against the layer as
    /// it is (a dry run: nothing is written), its accepted features kept. Throws
    /// `ImportRefused` when the report has errors (unless `skipInvalid`), as an import would.
    public func proposeImport(_ paths: [String], _ options: ImportOptions, source: String, proposer: String, unit: String,
                              admit: ((Feature) throws -> Void)? = nil) throws -> (ChangeRecord, QAReport) {
        var dry = options
        dry.dryRun = true
        var features = [Feature]()
        var report = try Importer(store: store).run(paths, dry, admit: admit, accepted: { features.append($0) })
        if !report.errors.isEmpty, !options.skipInvalid { throw ImportRefused(report: report) }
        guard features.count <= Self.maxFeatures else { throw ReviewError.tooLarge(features: features.count, limit: Self.maxFeatures) }
        let proposal = Proposal(features: features, base: try base(layer: options.layer, ids: features.map(\.id)), qa: report.json, source: source)
        let summary = "upload \(source): \(features.count) feature\(features.count == 1 ? "" : "s")" + (report.skipped > 0 ? ", \(report.skipped) skipped" : "")
        let change = try propose(proposal, layer: options.layer, kind: "import", summary: summary, proposer: proposer, unit: unit)
        report.dryRun = false
        return (change, report)
    }

    /// The ids whose present revision is no longer the one the proposal was based on.
    public func changedSince(_ proposal: Proposal, layer: String) throws -> [String] {
        try proposal.touched.filter { try store.revision(layer: layer, id: $0)?.tag != proposal.base[$0] ?? nil }
    }

    /// Applies a pending proposal as one batch by `actor` naming the proposer; the store marks
    /// it approved in the same transaction. Throws `ReviewError.stale` (nothing written) when
    /// any feature it touches changed since it was proposed, `StoreError.changeNotPending`
    /// when it was decided meanwhile.
    public func approve(_ change: ChangeRecord, actor: String, unit: String) throws -> BatchSummary {
        guard change.status == .pending else { throw StoreError.changeNotPending(id: change.id, status: change.status.rawValue) }
        let proposal = try Proposal(json: change.content ?? "")
        let request = BatchRequest(layer: change.layer, mode: .upsert, source: "change \(change.id): \(proposal.source)", actor: actor,
                                   unit: unit, proposer: change.proposer, approves: change.id)
        return try store.write(request) { writer in
            // Checked inside the transaction that writes: no write can slip in between.
            let stale = try proposal.touched.filter { try writer.revision(id: $0)?.tag != proposal.base[$0] ?? nil }
            guard stale.isEmpty else { throw ReviewError.stale(change: change.id, ids: stale) }
            for feature in proposal.features { try writer.put(feature) }
            for id in proposal.deletions { try writer.delete(id: id) }
        }
    }

    /// Rejects a pending proposal, keeping the reason; the layer is not touched.
    public func reject(_ change: ChangeRecord, actor: String, unit: String, reason: String) throws -> ChangeRecord {
        guard let decided = try store.reject(id: change.id, by: actor, unit: unit, reason: reason) else {
            throw StoreError.changeNotPending(id: change.id, status: "unknown")
        }
        return decided
    }

    /// A proposal as reviewers read it: each touched feature before (as it is now) and after,
    /// which of them changed since, and the QA report. `hidden` leaves out what the reader
    /// may not see.
    public func detail(_ change: ChangeRecord, hidden: HiddenProperties) throws -> JSONValue {
        let proposal = try Proposal(json: change.content ?? "")
        let after = Dictionary(proposal.features.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        let deleted = Set(proposal.deletions)
        let stale = change.status == .pending ? Set(try changedSince(proposal, layer: change.layer)) : []
        let items: [JSONValue] = try proposal.touched.map { id in
            let before = try store.feature(layer: change.layer, id: id, asOf: nil)
            return .object([
                "id": .string(id),
                "action": .string(deleted.contains(id) ? "delete" : proposal.base[id] ?? nil == nil ? "create" : "replace"),
                "before": before.map { $0.geoJSON(hiding: hidden) } ?? .null,
                "after": after[id].map { $0.geoJSON(hiding: hidden) } ?? .null,
                "changed_since_proposed": .bool(stale.contains(id)),
            ])
        }
        var o = change.summaryJSON.objectValue ?? [:]
        o["features"] = .array(items)
        o["stale"] = .array(stale.sorted().map { .string($0) })
        o["qa"] = proposal.qa
        o["source"] = .string(proposal.source)
        return .object(o)
    }
}

extension ChangeRecord {
    /// The record without its content, as lists show it.
    public var summaryJSON: JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        return .object([
            "id": .integer(id), "layer": .string(layer), "kind": .string(kind), "status": .string(status.rawValue),
            "proposer": .string(proposer), "unit": .string(unit), "created": .string(createdAt), "summary": .string(summary),
            "decided_by": text(decidedBy), "decided_at": text(decidedAt), "reason": text(reason),
            "batch_id": batchID.map { .integer($0) } ?? .null,
        ])
    }
}
