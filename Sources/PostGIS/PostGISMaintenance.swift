import Features
import Foundation
import PostgresNIO
import Store

/// What the server's health monitor and the CLI ask of any store. PostgreSQL checks its own
/// pages; LandMap's check is that the server answers and that no key is shared. With a replica,
/// the check passes while either server answers: reads go on while the primary is down, and a
/// load balancer must not take the node out for it (writes answer 503 meanwhile).
extension PostGISStore: StoreMaintenance {
    public var localFile: String? { nil }

    public func integrityCheck(limit: Int) -> IntegrityCheck {
        let start = Date()
        var problems = [String]()
        var duplicates = [DuplicateKey]()
        do {
            try reads.run(.primary) { pool, _, _ in try pool.with { s in _ = try s.query("SELECT 1") } }
            duplicates = try duplicateKeys(limit: limit)
        } catch {
            problems = ["\(error)"]
        }
        return IntegrityCheck(problems: problems, checkedAt: start, seconds: Date().timeIntervalSince(start), duplicateKeys: duplicates)
    }

    /// Keys shared by several present features, in layers whose key is unique, at most `limit`.
    public func duplicateKeys(limit: Int) throws -> [DuplicateKey] {
        try reads.run(.primary) { pool, _, _ in try pool.transaction(Self.readOnly) { s in
            var found = [DuplicateKey]()
            for name in try s.query("SELECT name FROM landmap_layers ORDER BY name").map({ try $0.makeRandomAccess().string(0) }) {
                let table = try self.layerTable(s, name)
                let schema = table.schema
                let fields = schema.keyFields.compactMap(schema.field)
                guard schema.keyIsUnique, fields.count == schema.keyFields.count, found.count < limit else { continue }
                let keys = schema.keyFields.map(LayerTable.quoted)
                var b = Binds()
                let groups = try s.query("""
                    SELECT \(keys.joined(separator: ", ")), array_agg(id ORDER BY id)::text[] FROM \(table.table)
                    WHERE \(keys.map { "\($0) IS NOT NULL" }.joined(separator: " AND "))
                    GROUP BY \(keys.joined(separator: ", ")) HAVING count(*) > 1 ORDER BY \(keys.joined(separator: ", ")) LIMIT \(b.add(limit - found.count))
                    """, b.bindings)
                for row in groups {
                    let r = row.makeRandomAccess()
                    let values = try fields.enumerated().map { try LayerTable.fieldValue(r[$0.offset], $0.element.type) }
                    let ids = try r[fields.count].decode([String].self)
                    found.append(DuplicateKey(layer: name, key: StoreError.keyText(fields: schema.keyFields, values: values), ids: ids))
                }
            }
            return found
        } }
    }

    public var upkeepPending: Bool { false }

    public func upkeep() -> Bool { true }

    public func backup(to path: String) throws {
        throw PostGISError.backupUnsupported(database: url.database)
    }
}

extension PostGISStore {
    /// The replica's state, asked of both servers now (for `/metrics`, at each scrape): the WAL
    /// it has not replayed (the primary's position minus the replica's), and how old its view is
    /// when it is behind. Nil for a store without a replica.
    public func replicationStatus() -> ReplicationStatus? {
        guard let replica = reads.replica, let readURL else { return nil }
        let counts = reads.reads
        var status = ReplicationStatus(replica: readURL.description, replicaUp: !reads.replicaMarkedDown, lagBytes: nil,
                                       lagSeconds: nil, replicaReads: counts.replica, primaryReads: counts.primary)
        let asked = try? replica.with { s -> (String?, Double?) in
            guard let r = try s.query("""
                SELECT pg_last_wal_replay_lsn()::text, extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
                """).first?.makeRandomAccess() else { return (nil, nil) }
            return (try r.optionalString(0), try r.optionalDouble(1))
        }
        guard let (replayed, age) = asked else {
            status.replicaUp = false
            return status
        }
        status.replicaUp = true
        guard let replayed else { return status }
        status.lagBytes = try? pool.with { s in
            var b = Binds()
            return try s.query("SELECT greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), \(b.add(replayed))::pg_lsn))::int8", b.bindings)
                .scalar(Int64.self)
        }
        status.lagSeconds = status.lagBytes.map { $0 == 0 ? 0 : max(0, age ?? 0) }
        return status
    }
}
