import Foundation
import NIOCore
import PostgresNIO
import Store

/// Tokens and the audit log in `landmap_tokens` and `landmap_audit`, as the GeoPackage store
/// keeps them.
extension PostGISStore: AccessStore {
    public func addToken(key: String, name: String, role: String, scope: TokenScope, terms: TokenTerms, hash: [UInt8], actor: String) throws -> TokenRecord {
        try pool.transaction { s in
            let now = Timestamp.string(Date())
            let expires = terms.expires.map(Timestamp.string)
            var b = Binds()
            let id = try s.query("""
                INSERT INTO landmap_tokens (key, name, role, hash, created_at, scope_json, expires_at, rate_limit)
                VALUES (\(b.add(key)), \(b.add(name)), \(b.add(role)), \(b.add(bytes: hash)), \(b.add(now)), \(b.add(scope.json)),
                        \(b.add(expires)), \(b.add(terms.rateLimit.map(Int64.init)))) RETURNING id
                """, b.bindings).scalar(Int64.self) ?? 0
            let parts = [role] + (scope == .unlimited ? [] : [scope.summary]) + (terms == .none ? [] : [terms.summary])
            try Self.appendAudit(s, actor: actor, action: "token.create", target: key, detail: "\(name) (\(parts.joined(separator: "; ")))")
            return TokenRecord(id: id, key: key, name: name, role: role, hash: hash, created: Timestamp.date(now) ?? Date(), scope: scope,
                               expires: expires.flatMap(Timestamp.date), rateLimit: terms.rateLimit)
        }
    }

    static let tokenColumns = "id, key, name, role, hash, created_at, revoked_at, last_used_at, scope_json, expires_at, last_address, rate_limit"

    /// Tokens are read from the primary (a revocation counts at once), from the replica only
    /// while the primary cannot answer, so token holders can still read.
    public func tokens() throws -> [TokenRecord] {
        try reads.run(.primary) { pool, _, _ in try pool.with { s in try s.query("SELECT \(Self.tokenColumns) FROM landmap_tokens ORDER BY id").map(Self.token(from:)) } }
    }

    public func token(key: String) throws -> TokenRecord? {
        try reads.run(.primary) { pool, _, _ in
            try pool.with { s in
                var b = Binds()
                return try s.query("SELECT \(Self.tokenColumns) FROM landmap_tokens WHERE key = \(b.add(key))", b.bindings).first.map(Self.token(from:))
            }
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

    public func markUsed(tokenID: Int64, at date: Date, address: String?) throws {
        try pool.with { s in
            var b = Binds()
            try s.execute("""
                UPDATE landmap_tokens SET last_used_at = \(b.add(Timestamp.string(date))), last_address = coalesce(\(b.add(address)), last_address)
                WHERE id = \(b.add(tokenID))
                """, b.bindings)
        }
    }

    public func audit(actor: String, unit: String, action: String, target: String, detail: String) throws {
        try pool.with { s in try Self.appendAudit(s, actor: actor, unit: unit, action: action, target: target, detail: detail) }
    }

    /// The same selection as the GeoPackage store's: the layer filter compares text exactly
    /// (`left`, not `LIKE`), and a change's entries (`change:<id>`) are found by its layer.
    public func auditLog(_ query: AuditQuery) throws -> [AuditEntry] {
        try pool.with { s in
            var b = Binds()
            var sql = "SELECT id, at, actor, action, target, detail, unit FROM landmap_audit WHERE TRUE"
            if let actor = query.actor { sql += " AND actor = \(b.add(actor))" }
            if let action = query.action { sql += " AND action = \(b.add(action))" }
            if let unit = query.unit { sql += " AND unit = \(b.add(unit))" }
            if let layer = query.layer {
                sql += """
                     AND (target = \(b.add(layer)) OR left(target, \(b.add(layer.unicodeScalars.count + 1))::int4) = \(b.add(layer + "/"))
                      OR target IN (SELECT 'change:' || id FROM landmap_changes WHERE layer = \(b.add(layer))))
                    """
            }
            if let since = query.since { sql += " AND at >= \(b.add(Timestamp.string(since)))" }
            sql += " ORDER BY id DESC LIMIT \(b.add(max(0, query.limit)))"
            return try s.query(sql, b.bindings).map { row in
                let r = row.makeRandomAccess()
                return AuditEntry(id: try r.int64(0), at: Timestamp.date(try r.string(1)) ?? .distantPast, actor: try r.string(2),
                                  action: try r.string(3), target: try r.string(4), detail: try r.string(5), unit: try r.string(6))
            }
        }
    }

    static func appendAudit(_ s: PGSession, actor: String, unit: String = "", action: String, target: String, detail: String) throws {
        var b = Binds()
        try s.execute("""
            INSERT INTO landmap_audit (at, actor, unit, action, target, detail)
            VALUES (\(b.add(Timestamp.string(Date()))), \(b.add(actor)), \(b.add(unit)), \(b.add(action)), \(b.add(target)), \(b.add(detail)))
            """, b.bindings)
    }

    /// A stored token; a scope that is not one throws rather than reading as no limits.
    static func token(from row: PostgresRow) throws -> TokenRecord {
        let r = row.makeRandomAccess()
        let hash = try r[4].decode(ByteBuffer.self)
        return TokenRecord(id: try r.int64(0), key: try r.string(1), name: try r.string(2), role: try r.string(3),
                           hash: Array(hash.readableBytesView), created: Timestamp.date(try r.string(5)) ?? .distantPast,
                           revoked: try r.optionalString(6).flatMap(Timestamp.date), lastUsed: try r.optionalString(7).flatMap(Timestamp.date),
                           scope: try TokenScope(json: try r.string(8)), expires: try r.optionalString(9).map(TokenTerms.expiry),
                           lastAddress: try r.optionalString(10), rateLimit: try r[11].decode(Int?.self))
    }
}
