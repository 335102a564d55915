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

    public func auditEntries(after id: Int64, limit: Int) throws -> [AuditRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.auditRowColumns) FROM landmap_audit WHERE id > ? ORDER BY id LIMIT ?",
                             arguments: [id, max(0, limit)]).map(Self.auditRow(from:))
        }
    }

    static let auditRowColumns = "id, at, actor, action, target, detail, unit, prev_hash, hash"

    static func auditRow(from r: Row) -> AuditRow {
        AuditRow(id: r[0], at: r[1], actor: r[2], action: r[3], target: r[4], detail: r[5], unit: r[6], prevHash: r[7], hash: r[8])
    }

    /// Appends an entry sealed into the hash chain (`AuditChain`). Inside `pool.write`, so
    /// SQLite's one writer serialises appends: the id is the last one plus one, and the entry
    /// follows the last sealed one (an unsealed entry after it — slipped in by hand — stays
    /// outside the chain, where verification names it).
    static func appendAudit(_ db: Database, actor: String, unit: String = "", action: String, target: String, detail: String) throws {
        let (lastID, head) = try chainHead(db)
        let entry = AuditChain.sealed(AuditRow(id: lastID + 1, at: Timestamp.string(Date()), actor: actor, action: action, target: target,
                                               detail: detail, unit: unit), after: head)
        try db.execute(sql: "INSERT INTO landmap_audit (id, at, actor, unit, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       arguments: [entry.id, entry.at, entry.actor, entry.unit, entry.action, entry.target, entry.detail, entry.prevHash, entry.hash])
    }

    /// The largest id and the hash the next entry follows; a log with no sealed entry yet is
    /// sealed first.
    static func chainHead(_ db: Database) throws -> (lastID: Int64, hash: String) {
        let lastID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM landmap_audit") ?? 0
        if let hash = try String.fetchOne(db, sql: "SELECT hash FROM landmap_audit WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1") {
            return (lastID, hash)
        }
        guard lastID > 0, try sealAuditLog(db) > 0 else { return (lastID, AuditChain.genesis) }
        return (lastID, try String.fetchOne(db, sql: "SELECT hash FROM landmap_audit ORDER BY id DESC LIMIT 1") ?? AuditChain.genesis)
    }

    /// Seals a log written before the chain existed (no entry has a hash): every entry, in id
    /// order, as if each had been appended then. Does nothing once any entry is sealed — an
    /// unsealed entry after that is not an old one and must stay visible to verification.
    /// Returns how many entries it sealed.
    @discardableResult
    static func sealAuditLog(_ db: Database) throws -> Int {
        guard try Int.fetchOne(db, sql: "SELECT 1 FROM landmap_audit WHERE hash IS NOT NULL LIMIT 1") == nil else { return 0 }
        var prev = AuditChain.genesis
        var after: Int64 = 0
        var sealed = 0
        let update = try db.makeStatement(sql: "UPDATE landmap_audit SET prev_hash = ?, hash = ? WHERE id = ?")
        while true {
            let page = try Row.fetchAll(db, sql: "SELECT \(auditRowColumns) FROM landmap_audit WHERE id > ? ORDER BY id LIMIT 1000",
                                        arguments: [after]).map(auditRow(from:))
            for entry in page {
                let e = AuditChain.sealed(entry, after: prev)
                try update.execute(arguments: [e.prevHash, e.hash, e.id])
                prev = e.hash ?? prev
            }
            sealed += page.count
            guard let last = page.last else { break }
            after = last.id
        }
        return sealed
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
