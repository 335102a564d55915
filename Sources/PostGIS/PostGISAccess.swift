import Foundation
import NIOCore
import PostgresNIO
import Store

/// Tokens and the audit log in `landmap_tokens` and `landmap_audit`, as the GeoPackage store
/// keeps them.
extension PostGISStore: AccessStore {
    public func addToken(key: String, name: String, role: String, hash: [UInt8], actor: String) throws -> TokenRecord {
        try pool.transaction { s in
            let now = Timestamp.string(Date())
            var b = Binds()
            let id = try s.query("""
                INSERT INTO landmap_tokens (key, name, role, hash, created_at)
                VALUES (\(b.add(key)), \(b.add(name)), \(b.add(role)), \(b.add(bytes: hash)), \(b.add(now))) RETURNING id
                """, b.bindings).scalar(Int64.self) ?? 0
            try Self.appendAudit(s, actor: actor, action: "token.create", target: key, detail: "\(name) (\(role))")
            return TokenRecord(id: id, key: key, name: name, role: role, hash: hash, created: Timestamp.date(now) ?? Date())
        }
    }

    static let tokenColumns = "id, key, name, role, hash, created_at, revoked_at, last_used_at"

    public func tokens() throws -> [TokenRecord] {
        try pool.with { s in try s.query("SELECT \(Self.tokenColumns) FROM landmap_tokens ORDER BY id").map(Self.token(from:)) }
    }

    public func token(key: String) throws -> TokenRecord? {
        try pool.with { s in
            var b = Binds()
            return try s.query("SELECT \(Self.tokenColumns) FROM landmap_tokens WHERE key = \(b.add(key))", b.bindings).first.map(Self.token(from:))
        }
    }

    public func revokeToken(_ keyOrName: String, actor: String) throws -> TokenRecord? {
        try pool.transaction { s in
            var b = Binds()
            guard let row = try s.query("""
                SELECT \(Self.tokenColumns) FROM landmap_tokens WHERE (key = \(b.add(keyOrName)) OR name = \(b.last)) AND revoked_at IS NULL
                ORDER BY id LIMIT 1 FOR UPDATE
                """, b.bindings).first else { return nil }
            var token = try Self.token(from: row)
            let now = Timestamp.string(Date())
            b = Binds()
            try s.execute("UPDATE landmap_tokens SET revoked_at = \(b.add(now)) WHERE id = \(b.add(token.id))", b.bindings)
            try Self.appendAudit(s, actor: actor, action: "token.revoke", target: token.key, detail: token.name)
            token.revoked = Timestamp.date(now)
            return token
        }
    }

    public func markUsed(tokenID: Int64, at date: Date) throws {
        try pool.with { s in
            var b = Binds()
            try s.execute("UPDATE landmap_tokens SET last_used_at = \(b.add(Timestamp.string(date))) WHERE id = \(b.add(tokenID))", b.bindings)
        }
    }

    public func audit(actor: String, action: String, target: String, detail: String) throws {
        try pool.with { s in try Self.appendAudit(s, actor: actor, action: action, target: target, detail: detail) }
    }

    public func auditLog(limit: Int, actor: String?, action: String?) throws -> [AuditEntry] {
        try pool.with { s in
            var b = Binds()
            var sql = "SELECT id, at, actor, action, target, detail FROM landmap_audit WHERE TRUE"
            if let actor { sql += " AND actor = \(b.add(actor))" }
            if let action { sql += " AND action = \(b.add(action))" }
            sql += " ORDER BY id DESC LIMIT \(b.add(max(0, limit)))"
            return try s.query(sql, b.bindings).map { row in
                let r = row.makeRandomAccess()
                return AuditEntry(id: try r.int64(0), at: Timestamp.date(try r.string(1)) ?? .distantPast, actor: try r.string(2),
                                  action: try r.string(3), target: try r.string(4), detail: try r.string(5))
            }
        }
    }

    static func appendAudit(_ s: PGSession, actor: String, action: String, target: String, detail: String) throws {
        var b = Binds()
        try s.execute("""
            INSERT INTO landmap_audit (at, actor, action, target, detail)
            VALUES (\(b.add(Timestamp.string(Date()))), \(b.add(actor)), \(b.add(action)), \(b.add(target)), \(b.add(detail)))
            """, b.bindings)
    }

    static func token(from row: PostgresRow) throws -> TokenRecord {
        let r = row.makeRandomAccess()
        let hash = try r[4].decode(ByteBuffer.self)
        return TokenRecord(id: try r.int64(0), key: try r.string(1), name: try r.string(2), role: try r.string(3),
                           hash: Array(hash.readableBytesView), created: Timestamp.date(try r.string(5)) ?? .distantPast,
                           revoked: try r.optionalString(6).flatMap(Timestamp.date), lastUsed: try r.optionalString(7).flatMap(Timestamp.date))
    }
}
