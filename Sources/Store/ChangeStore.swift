import Foundation

/// Where a proposal stands (SPEC §8).
public enum ChangeStatus: String, Sendable, CaseIterable {
    case pending, approved, rejected
}

/// A proposed change to one layer (SPEC §8): a contributor's write or upload, kept apart from
/// the published data until a steward of the layer approves or rejects it.
public struct ChangeRecord: Hashable, Sendable {
    public var id: Int64
    public var layer: String
    /// `create`, `replace`, `delete` (one feature over the API) or `import` (an upload).
    public var kind: String
    /// Who proposed it (`token:<name>`) and for which unit (empty when none).
    public var proposer: String
    public var unit: String
    /// When it was proposed: `Timestamp` text, UTC, milliseconds.
    public var createdAt: String
    public var status: ChangeStatus
    /// One line for lists: `upload to56.zip: 120 features`, `replace 26734-12-5`.
    public var summary: String
    /// The proposal itself, as JSON text (`Proposal` in the Review module reads and writes it):
    /// the features after, the ids deleted, the revisions they were based on, the QA report.
    /// Nil when read for a list.
    public var content: String?
    public var decidedBy: String?
    public var decidedAt: String?
    /// Why it was rejected.
    public var reason: String?
    /// The batch that applied it, once approved.
    public var batchID: Int64?

    public init(id: Int64, layer: String, kind: String, proposer: String, unit: String, createdAt: String, status: ChangeStatus,
                summary: String, content: String?, decidedBy: String? = nil, decidedAt: String? = nil, reason: String? = nil, batchID: Int64? = nil) {
        self.id = id
        self.layer = layer
        self.kind = kind
        self.proposer = proposer
        self.unit = unit
        self.createdAt = createdAt
        self.status = status
        self.summary = summary
        self.content = content
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.reason = reason
        self.batchID = batchID
    }
}

/// Proposals, kept beside the features on every backend. Approving one is a write batch whose
/// `BatchRequest.approves` names it: the store marks it approved in that batch's transaction.
public protocol ChangeStore: Sendable {
    /// Stores a pending proposal (id and time given by the store) and audits `change.propose`
    /// with the proposer and unit, in one transaction.
    func addChange(layer: String, kind: String, proposer: String, unit: String, summary: String, content: String) throws -> ChangeRecord

    /// Proposals without their content, newest first, filtered by layer and status.
    func changes(layer: String?, status: ChangeStatus?, limit: Int) throws -> [ChangeRecord]

    /// One proposal with its content; nil if there is none with this id.
    func change(id: Int64) throws -> ChangeRecord?

    /// Rejects a pending proposal, keeping the reason, and audits `change.reject` with the
    /// decider's unit, in one transaction. Throws `StoreError.changeNotPending` when it was
    /// decided already (by someone else, a moment ago), `nil` when there is no such proposal.
    func reject(id: Int64, by actor: String, unit: String, reason: String) throws -> ChangeRecord?
}
