import Foundation
import GRDB
import Store

extension GeoPackageStore: AccessStore {
    /// A consistent copy of the whole database made while others keep writing (SQLite's online
    /// backup), written beside `path` and renamed into place, so `path` is never half a copy.
    public func backup(to path: String) throws {
        let target = URL(fileURLWithPath: path)
        let partial = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)")
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: partial.path + suffix) }
        }
        do {
            let copy = try DatabaseQueue(path: partial.path)
            try pool.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                let check = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
                guard check == "ok" else { throw StoreError.notAGeoPackage(path: path, detail: "the copy failed its check: \(check)") }
            }
            try copy.close()
        }
        if FileManager.default.fileExists(atPath: path) { _ = try FileManager.default.replaceItemAt(target, withItemAt: partial) } else {
            try FileManager.default.moveItem(at: partial, to: target)
        }
    }

    /// Token changes are checkpointed like batches: a copy of the file must not hold a token
    /// that was revoked, nor miss one that was made. The scope is kept as `TokenScope.json`.
    public func addToken(key: String, name: String, role: String, scope: TokenScope, terms: TokenTerms, hash: [UInt8], actor: String) throws -> TokenRecord {
        defer { checkpoint() }
        return try pool.write { db in
            let now = Timestamp.string(Date())
            let expires = terms.expires.map(Timestamp.string)
            try db.execute(sql: "INSERT INTO landmap_tokens (key, name, role, hash, created_at, scope_json, expires_at, rate_limit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [key, name, role, Data(hash), now, scope.json, expires, terms.rateLimit])
            let id = db.lastInsertedRowID
            try Self.appendAudit(db, actor: actor, action: "token.create", target: key,
                                 detail: Self.tokenDetail(name: name, role: role, scope: scope, terms: terms))
            return TokenRecord(id: id, key: key, name: name, role: role, hash: hash, created: Timestamp.date(now) ?? Date(), scope: scope,
                               expires: expires.flatMap(Timestamp.date), rateLimit: terms.rateLimit)
        }
    }

    public func tokens() throws -> [TokenRecord] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM landmap_tokens ORDER BY id").map(Self.token(from:)) }
    }

    public func token(key: String) throws -> TokenRecord? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM landmap_tokens WHERE key = ?", arguments: [key]).map(Self.token(from:)) }
    }

    public func revokeToken(_ keyOrName: String, actor: String) throws -> TokenRecord? {
        defer { checkpoint() }
        return try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM landmap_tokens WHERE (key = ? OR name = ?) AND revoked_at IS NULL ORDER BY id LIMIT 1",
                                             arguments: [keyOrName, keyOrName]) else { return nil }
            var token = try Self.token(from: row)
            let now = Timestamp.string(Date())
            try db.execute(sql: "UPDATE landmap_tokens SET revoked_at = ? WHERE id = ?", arguments: [now, token.id])
            try Self.appendAudit(db, actor: actor, action: "token.revoke", target: token.key, detail: token.name)
            token.revoked = Timestamp.date(now)
            return token
        }
    }

    public func markUsed(tokenID: Int64, at date: Date, address: String?) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE landmap_tokens SET last_used_at = ?, last_address = coalesce(?, last_address) WHERE id = ?",
                           arguments: [Timestamp.string(date), address, tokenID])
        }
    }

    public func audit(actor: String, unit: String, action: String, target: String, detail: String) throws {
        try pool.write { db in try Self.appendAudit(db, actor: actor, unit: unit, action: action, target: target, detail: detail) }
    }

    /// The layer filter compares text exactly (`substr`, not `LIKE`, whose `_` would match any
    /// character of a layer name); a change's entries name `change:<id>`, found by its layer.
    public func auditLog(_ query: AuditQuery) throws -> [AuditEntry] {
        try pool.read { db in
            var sql = "SELECT id, at, actor, action, target, detail, unit FROM landmap_audit WHERE 1"
            var args = StatementArguments()
            if let actor = query.actor { sql += " AND actor = ?"; args += [actor] }
            if let action = query.action { sql += " AND action = ?"; args += [action] }
            if let unit = query.unit { sql += " AND unit = ?"; args += [unit] }
            if let layer = query.layer {
                sql += """
                     AND (target = ? OR substr(target, 1, ?) = ?
                      OR target IN (SELECT 'change:' || id FROM landmap_changes WHERE layer = ?))
                    """
                args += [layer, layer.unicodeScalars.count + 1, layer + "/", layer]
            }
            if let since = query.since { sql += " AND at >= ?"; args += [Timestamp.string(since)] }
            sql += " ORDER BY id DESC LIMIT ?"
            args += [max(0, query.limit)]
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                AuditEntry(id: row[0], at: Timestamp.date(row[1]) ?? .distantPast, actor: row[2], action: row[3], target: row[4], detail: row[5],
                           unit: row[6])
            }
        }
    }

    static func appendAudit(_ db: Database, actor: String, unit: String = "", action: String, target: String, detail: String) throws {
        try db.execute(sql: "INSERT INTO landmap_audit (at, actor, unit, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [Timestamp.string(Date()), actor, unit, action, target, detail])
    }

    /// `qgis-office (editor)`, with the scope when it has limits and the terms when set:
    /// `(editor; unit so-tnmt; expires 2027-03-01T00:00:00Z; 600/min)`.
    static func tokenDetail(name: String, role: String, scope: TokenScope, terms: TokenTerms = .none) -> String {
        let parts = [role] + (scope == .unlimited ? [] : [scope.summary]) + (terms == .none ? [] : [terms.summary])
        return "\(name) (\(parts.joined(separator: "; ")))"
    }

    /// A stored token; a scope that is not one throws rather than reading as no limits.
    static func token(from row: Row) throws -> TokenRecord {
        let hash: Data = row["hash"] ?? Data()
        let created: String = row["created_at"] ?? ""
        let revoked: String? = row["revoked_at"]
        let used: String? = row["last_used_at"]
        let scope: String = row["scope_json"] ?? "{}"
        let expires: String? = row["expires_at"]
        return TokenRecord(id: row["id"], key: row["key"], name: row["name"], role: row["role"], hash: [UInt8](hash),
                           created: Timestamp.date(created) ?? .distantPast, revoked: revoked.flatMap(Timestamp.date),
                           lastUsed: used.flatMap(Timestamp.date), scope: try TokenScope(json: scope),
                           expires: try expires.map(TokenTerms.expiry), lastAddress: row["last_address"], rateLimit: row["rate_limit"])
    }
}
