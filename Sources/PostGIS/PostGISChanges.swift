import Foundation
import PostgresNIO
import Store

/// Proposals in `landmap_changes`, as the GeoPackage store keeps them. Every decision is a
/// compare-and-set on `status = 'pending'` (PostgreSQL's row lock makes a second steward's
/// UPDATE wait, then find nothing pending); each is audited in its transaction.
extension PostGISStore: ChangeStore {
    public func addChange(layer: String, kind: String, proposer: String, unit: String, summary: String, content: String) throws -> ChangeRecord {
        try pool.transaction { s in
            let now = Timestamp.string(Date())
            var b = Binds()
            let id = try s.query("""
                INSERT INTO landmap_changes (layer, kind, proposer, unit, created_at, status, summary, content)
                VALUES (\(b.add(layer)), \(b.add(kind)), \(b.add(proposer)), \(b.add(unit)), \(b.add(now)), 'pending', \(b.add(summary)), \(b.add(content)))
                RETURNING id
                """, b.bindings).scalar(Int64.self) ?? 0
            try Self.appendAudit(s, actor: proposer, unit: unit, action: "change.propose", target: "change:\(id)", detail: summary)
            return ChangeRecord(id: id, layer: layer, kind: kind, proposer: proposer, unit: unit, createdAt: now, status: .pending,
                                summary: summary, content: content)
        }
    }

    public func changes(layer: String?, status: ChangeStatus?, limit: Int) throws -> [ChangeRecord] {
        try pool.with { s in
            var b = Binds()
            var sql = "SELECT \(Self.changeColumns(content: false)) FROM landmap_changes WHERE TRUE"
            if let layer { sql += " AND layer = \(b.add(layer))" }
            if let status { sql += " AND status = \(b.add(status.rawValue))" }
            sql += " ORDER BY id DESC LIMIT \(b.add(max(0, limit)))"
            return try s.query(sql, b.bindings).map(Self.change(from:))
        }
    }

    public func change(id: Int64) throws -> ChangeRecord? {
        try pool.with { s in try Self.change(s, id: id) }
    }

    public func reject(id: Int64, by actor: String, unit: String, reason: String) throws -> ChangeRecord? {
        try pool.transaction { s in
            var b = Binds()
            let updated = try s.execute("""
                UPDATE landmap_changes SET status = 'rejected', decided_by = \(b.add(actor)), decided_at = \(b.add(Timestamp.string(Date()))),
                  reason = \(b.add(reason)) WHERE id = \(b.add(id)) AND status = 'pending'
                """, b.bindings)
            guard updated == 1 else {
                guard let status = try Self.changeStatus(s, id: id) else { return nil }
                throw StoreError.changeNotPending(id: id, status: status)
            }
            try Self.appendAudit(s, actor: actor, unit: unit, action: "change.reject", target: "change:\(id)", detail: reason)
            return try Self.change(s, id: id)
        }
    }

    /// Marks a pending proposal approved by the batch that applies it, inside that batch's
    /// transaction; throws (failing the batch) when it is not pending. The batch audits
    /// `change.approve` at its end (`auditApproval`), so the audit lock is not held while it writes.
    static func approve(_ s: PGSession, change id: Int64, actor: String, unit: String, batchID: Int64?, at timestamp: String) throws {
        var b = Binds()
        let updated = try s.execute("""
            UPDATE landmap_changes SET status = 'approved', decided_by = \(b.add(actor)), decided_at = \(b.add(timestamp)),
              batch_id = \(b.add(batchID)) WHERE id = \(b.add(id)) AND status = 'pending'
            """, b.bindings)
        guard updated == 1 else { throw StoreError.changeNotPending(id: id, status: try changeStatus(s, id: id) ?? "unknown") }
    }

    /// The `change.approve` entry of a batch that applied a proposal.
    static func auditApproval(_ s: PGSession, change id: Int64, actor: String, unit: String, batchID: Int64?) throws {
        try appendAudit(s, actor: actor, unit: unit, action: "change.approve", target: "change:\(id)",
                        detail: batchID.map { "applied by batch \($0)" } ?? "approved")
    }

    static func changeStatus(_ s: PGSession, id: Int64) throws -> String? {
        var b = Binds()
        return try s.query("SELECT status FROM landmap_changes WHERE id = \(b.add(id))", b.bindings).scalar(String.self)
    }

    static func change(_ s: PGSession, id: Int64) throws -> ChangeRecord? {
        var b = Binds()
        return try s.query("SELECT \(changeColumns(content: true)) FROM landmap_changes WHERE id = \(b.add(id))", b.bindings).first.map(change(from:))
    }

    /// The columns `change(from:)` reads, in order; `content` is NULL for lists.
    static func changeColumns(content: Bool) -> String {
        "id, layer, kind, proposer, unit, created_at, status, summary, \(content ? "content" : "NULL::text"), decided_by, decided_at, reason, batch_id"
    }

    static func change(from row: PostgresRow) throws -> ChangeRecord {
        let r = row.makeRandomAccess()
        let id = try r.int64(0), status = try r.string(6)
        guard let known = ChangeStatus(rawValue: status) else { throw StoreError.unsupported("change \(id) has an unknown status '\(status)'") }
        return ChangeRecord(id: id, layer: try r.string(1), kind: try r.string(2), proposer: try r.string(3), unit: try r.string(4),
                            createdAt: try r.string(5), status: known, summary: try r.string(7), content: try r.optionalString(8),
                            decidedBy: try r.optionalString(9), decidedAt: try r.optionalString(10), reason: try r.optionalString(11),
                            batchID: try r[12].decode(Int64?.self))
    }
}
