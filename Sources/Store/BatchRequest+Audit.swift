/// The `write` audit entry's detail, the same on every backend.
extension BatchRequest {
    /// `batch 7 (upsert, api): +1 ~0 -0`, and `, proposed by token:ana` when the batch applies
    /// someone's proposal (the entry's actor is the approver).
    public func auditDetail(batchID: Int64, _ summary: BatchSummary) -> String {
        var detail = "batch \(batchID) (\(mode.rawValue), \(source)): +\(summary.inserted) ~\(summary.updated) -\(summary.deleted)"
        if let proposer { detail += ", proposed by \(proposer)" }
        return detail
    }
}
