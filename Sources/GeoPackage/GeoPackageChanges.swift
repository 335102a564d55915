import Foundation
import GRDB
import Store

/// Proposals in `landmap_changes`. Every decision is a compare-and-set on `status = 'pending'`,
/// so two stewards deciding at once cannot both succeed; each is audited in its transaction.
extension GeoPackageStore: ChangeStore {
    public func addChange(layer: String, kind: String, proposer: String, unit: String, summary: String, content: String) throws -> ChangeRecord {
        defer { checkpoint() }
        return try pool.write { db in
            let now = Timestamp.string(Date())
            try db.execute(sql: """
                INSERT INTO landmap_changes (layer, kind, proposer, unit, created_at, status, summary, content)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
                """, arguments: [layer, kind, proposer, unit, now, summary, content])
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, actor: proposer, unit: unit, action: "change.propose", target: "change:\(id)", detail: summary)
            return ChangeRecord(id: id, layer: layer, kind: kind, proposer: proposer, unit: unit, createdAt: now, status: .pending,
                                summary: summary, content: content)
        }
    }

    public func changes(layer: String?, status: ChangeStatus?, limit: Int) throws -> [ChangeRecord] {
        try pool.read { db in
            var sql = "SELECT \(Self.changeColumns(content: false)) FROM landmap_changes WHERE 1"
            var args = StatementArguments()
            if let layer { sql += " AND layer = ?"; args += [layer] }
            if let status { sql += " AND status = ?"; args += [status.rawValue] }
            sql += " ORDER BY id DESC LIMIT ?"
            args += [max(0, limit)]
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.change(from:))
        }
    }

    public func change(id: Int64) throws -> ChangeRecord? {
        try pool.read { db in try Self.change(db, id: id) }
    }

    public func reject(id: Int64, by actor: String, unit: String, reason: String) throws -> ChangeRecord? {
        defer { checkpoint() }
        return try pool.write { db in
            try db.execute(sql: """
                UPDATE landmap_changes SET status = 'rejected', decided_by = ?, decided_at = ?, reason = ?
                WHERE id = ? AND status = 'pending'
                """, arguments: [actor, Timestamp.string(Date()), reason, id])
            guard db.changesCount == 1 else {
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM landmap_changes WHERE id = ?", arguments: [id]) else { return nil }
                throw StoreError.changeNotPending(id: id, status: status)
            }
            try Self.appendAudit(db, actor: actor, unit: unit, action: "change.reject", target: "change:\(id)", detail: reason)
            return try Self.change(db, id: id)
        }
    }

    /// Marks a pending proposal approved by the batch that applies it, inside that batch's
    /// transaction, and audits `change.approve`; throws (failing the batch) when it is not pending.
    static func approve(_ db: Database, change id: Int64, actor: String, unit: String, batchID: Int64?, at timestamp: String) throws {
        try db.execute(sql: """
            UPDATE landmap_changes SET status = 'approved', decided_by = ?, decided_at = ?, batch_id = ?
            WHERE id = ? AND status = 'pending'
            """, arguments: [actor, timestamp, batchID, id])
        guard db.changesCount == 1 else {
            let status = try String.fetchOne(db, sql: "SELECT status FROM landmap_changes WHERE id = ?", arguments: [id])
            throw StoreError.changeNotPending(id: id, status: status ?? "unknown")
        }
        try appendAudit(db, actor: actor, unit: unit, action: "change.approve", target: "change:\(id)",
                        detail: batchID.map { "applied by batch \($0)" } ?? "approved")
    }

    static func change(_ db: Database, id: Int64) throws -> ChangeRecord? {
        try Row.fetchOne(db, sql: "SELECT \(changeColumns(content: true)) FROM landmap_changes WHERE id = ?", arguments: [id]).map(change(from:))
    }

    /// The columns `change(from:)` reads, in order; `content` is NULL for lists.
    static func changeColumns(content: Bool) -> String {
        "id, layer, kind, proposer, unit, created_at, status, summary, \(content ? "content" : "NULL"), decided_by, decided_at, reason, batch_id"
    }

    static func change(from r: Row) throws -> ChangeRecord {
        let status: String = r[6]
        guard let known = ChangeStatus(rawValue: status) else {
            throw StoreError.unsupported("change \(r[0] as Int64) has an unknown status '\(status)'")
        }
        return ChangeRecord(id: r[0], layer: r[1], kind: r[2], proposer: r[3], unit: r[4], createdAt: r[5], status: known, summary: r[7],
                            content: r[8], decidedBy: r[9], decidedAt: r[10], reason: r[11], batchID: r[12])
    }
}
