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
        try pool.transaction { s in try Self.appendAudit(s, actor: actor, unit: unit, action: action, target: target, detail: detail) }
    }

    /// Read from the primary: verification and `audit export` see every committed entry.
    public func auditEntries(after id: Int64, limit: Int) throws -> [AuditRow] {
        try pool.with { s in
            var b = Binds()
            return try s.query("SELECT \(Self.auditRowColumns) FROM landmap_audit WHERE id > \(b.add(id)) ORDER BY id LIMIT \(b.add(max(0, limit)))",
                               b.bindings).map(Self.auditRow(from:))
        }
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

    static let auditRowColumns = "id, at, actor, action, target, detail, unit, prev_hash, hash"

    static func auditRow(from row: PostgresRow) throws -> AuditRow {
        let r = row.makeRandomAccess()
        return AuditRow(id: try r.int64(0), at: try r.string(1), actor: try r.string(2), action: try r.string(3), target: try r.string(4),
                        detail: try r.string(5), unit: try r.string(6), prevHash: try r.optionalString(7), hash: try r.optionalString(8))
    }

    /// Takes the audit log's own advisory lock (`Migrations.auditLock`) until the transaction
    /// ends: appends from every server queue here, so each reads the chain's true head.
    static func lockAudit(_ s: PGSession) throws {
        try s.execute("SELECT pg_advisory_xact_lock(\(Migrations.auditLock))")
    }

    /// Appends an entry sealed into the hash chain (`AuditChain`), inside the caller's
    /// transaction. Several servers append at once, so: the audit lock first, then the head
    /// read by a new statement — under READ COMMITTED each statement sees everything committed
    /// before it began, so the entry appended just before, whose transaction committed before
    /// it let the lock go. The id comes from the sequence under the lock, so ids grow in chain
    /// order. A snapshot transaction (REPEATABLE READ, SERIALIZABLE) would read an older head
    /// and fork the chain: it is refused (every LandMap write begins READ COMMITTED).
    static func appendAudit(_ s: PGSession, actor: String, unit: String = "", action: String, target: String, detail: String) throws {
        try lockAudit(s)
        var head = try chainHead(s)
        if head.hash == nil, head.hasEntries, try sealAuditLog(s) > 0 { head = try chainHead(s) }
        guard head.isolation == "read committed" else {
            throw StoreError.unsupported("an audit entry can only be appended in a READ COMMITTED transaction, not \(head.isolation): it would fork the chain")
        }
        let entry = AuditChain.sealed(AuditRow(id: head.nextID, at: Timestamp.string(Date()), actor: actor, action: action, target: target,
                                               detail: detail, unit: unit), after: head.hash ?? AuditChain.genesis)
        var b = Binds()
        try s.execute("""
            INSERT INTO landmap_audit (id, at, actor, unit, action, target, detail, prev_hash, hash)
            VALUES (\(b.add(entry.id)), \(b.add(entry.at)), \(b.add(actor)), \(b.add(unit)), \(b.add(action)), \(b.add(target)), \(b.add(detail)),
              \(b.add(entry.prevHash)), \(b.add(entry.hash)))
            """, b.bindings)
    }

    /// In one statement: the transaction's isolation, the last sealed entry's hash (nil when
    /// none), whether there are entries, and the next id from the sequence.
    static func chainHead(_ s: PGSession) throws -> (isolation: String, hash: String?, hasEntries: Bool, nextID: Int64) {
        guard let r = try s.query("""
            SELECT current_setting('transaction_isolation'),
              (SELECT hash FROM landmap_audit WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1),
              EXISTS (SELECT 1 FROM landmap_audit), nextval(pg_get_serial_sequence('landmap_audit', 'id'))
            """).first?.makeRandomAccess() else { throw PostGISError.connectionLost("no answer reading the audit chain's head") }
        return (try r.string(0), try r.optionalString(1), try r[2].decode(Bool.self), try r.int64(3))
    }

    /// Seals a log written before the chain existed (no entry has a hash), in id order and
    /// 500 entries per UPDATE, as the GeoPackage store's `sealAuditLog` does; nothing once any
    /// entry is sealed. Call with the audit lock held. Returns how many it sealed.
    @discardableResult
    static func sealAuditLog(_ s: PGSession) throws -> Int {
        guard try s.query("SELECT 1 FROM landmap_audit WHERE hash IS NOT NULL LIMIT 1").isEmpty else { return 0 }
        var prev = AuditChain.genesis
        var after: Int64 = 0
        var sealed = 0
        while true {
            var b = Binds()
            let page = try s.query("SELECT \(auditRowColumns) FROM landmap_audit WHERE id > \(b.add(after)) ORDER BY id LIMIT 500", b.bindings)
                .map(auditRow(from:))
            guard let last = page.last else { break }
            b = Binds()
            var values = [String]()
            for entry in page {
                let e = AuditChain.sealed(entry, after: prev)
                values.append("(\(b.add(e.id)), \(b.add(prev)), \(b.add(e.hash)))")
                prev = e.hash ?? prev
            }
            try s.execute("""
                UPDATE landmap_audit a SET prev_hash = v.p, hash = v.h FROM (VALUES \(values.joined(separator: ", "))) v(id, p, h) WHERE a.id = v.id
                """, b.bindings)
            sealed += page.count
            after = last.id
        }
        return sealed
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
